import type { Column, Engine, EngineEvent, Row } from '@sluice/core';

let taskSeq = 0;

/** Everything one task produced. */
export interface TaskOutput {
  events: EngineEvent[];
  logs: string[];
  resultSets: { columns: Column[]; rows: Row[] }[];
}

/** A task of `code` for `engine.execute`. */
export function task(code: string, options: { signal?: AbortSignal; runtimeParams?: Record<string, unknown> } = {}) {
  taskSeq += 1;
  return {
    taskId: `flink-test-${taskSeq}`,
    code,
    codeType: 'sql',
    runtimeParams: options.runtimeParams ?? {},
    signal: options.signal ?? new AbortController().signal,
  };
}

/**
 * Runs a task to its end and collects its events; rejects with the task's error. `onEvent` sees each
 * event as it arrives (e.g. to cancel once a log line appears); `out` is filled even when it rejects.
 */
export async function runTask(
  engine: Engine,
  code: string,
  options: { signal?: AbortSignal; runtimeParams?: Record<string, unknown>; onEvent?: (event: EngineEvent) => void; out?: TaskOutput } = {},
): Promise<TaskOutput> {
  const out: TaskOutput = options.out ?? { events: [], logs: [], resultSets: [] };
  for await (const event of engine.execute(task(code, options))) {
    out.events.push(event);
    if (event.type === 'log') out.logs.push(event.line);
    else if (event.type === 'resultSet') out.resultSets.push({ columns: event.columns, rows: [] });
    else if (event.type === 'rows') {
      const last = out.resultSets[out.resultSets.length - 1];
      if (!last) throw new Error('rows before a resultSet');
      for (const row of event.rows) last.rows.push(row);
    }
    options.onEvent?.(event);
  }
  return out;
}

/** Resolves with what a promise rejects with; fails when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/**
 * Runs a task and cancels it (through its signal) at the first event `when` accepts. Resolves with
 * what the task rejected with and everything it produced; fails when the task ends on its own.
 */
export async function cancelledWhen(engine: Engine, code: string, when: (event: EngineEvent) => boolean): Promise<{ err: unknown; out: TaskOutput }> {
  const controller = new AbortController();
  const out: TaskOutput = { events: [], logs: [], resultSets: [] };
  const err = await rejectionOf(
    runTask(engine, code, {
      signal: controller.signal,
      out,
      onEvent: (event) => {
        if (when(event)) controller.abort();
      },
    }),
  );
  return { err, out };
}

/** The Flink job id a log line names (`Flink job <id> …`), if any. */
export function jobIdIn(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const m = /Flink job ([0-9a-f]{32})/.exec(line);
    if (m?.[1]) return m[1];
  }
  return undefined;
}
