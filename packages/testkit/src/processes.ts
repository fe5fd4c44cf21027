import { readFileSync } from 'node:fs';
import type { EngineEvent } from '@sluice/core';
import { waitFor } from './services.ts';

/** True while a process exists and is not a zombie (it exited and nobody has reaped it yet). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state …"; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Polls `check` every 50 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  await waitFor(check, { what, timeoutMs });
}

/** The log lines of an engine's event stream, read to its end, and the error that ended it, if any. */
export async function drainLogLines(events: AsyncIterable<EngineEvent>): Promise<{ lines: string[]; error?: unknown }> {
  const lines: string[] = [];
  try {
    for await (const ev of events) if (ev.type === 'log') lines.push(ev.line);
    return { lines };
  } catch (error) {
    return { lines, error };
  }
}
