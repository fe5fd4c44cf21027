import type { Column, Engine, EngineEvent, Row } from '@sluice/core';

let taskSeq = 0;

/** Everything one task produced. */
export interface TaskOutput {
  events: EngineEvent[];
  logs: string[];
  resultSets: { columns: Column[]; rows: Row[] }[];
}

/** A task of `code` for `engine.execute`. */
export function task(code: string, signal: AbortSignal = new AbortController().signal) {
  taskSeq += 1;
  return { taskId: `trino-test-${taskSeq}`, code, codeType: 'sql', runtimeParams: {}, signal };
}

/** Runs a task to its end and collects its events; rejects with the task's error. */
export async function runTask(engine: Engine, code: string, signal?: AbortSignal): Promise<TaskOutput> {
  const out: TaskOutput = { events: [], logs: [], resultSets: [] };
  for await (const event of engine.execute(task(code, signal))) {
    out.events.push(event);
    if (event.type === 'log') out.logs.push(event.line);
    else if (event.type === 'resultSet') out.resultSets.push({ columns: event.columns, rows: [] });
    else if (event.type === 'rows') {
      const last = out.resultSets[out.resultSets.length - 1];
      if (!last) throw new Error('rows before a resultSet');
      for (const row of event.rows) last.rows.push(row);
    }
  }
  return out;
}

/** The rows of the last result set of a task. */
export async function queryRows(engine: Engine, code: string): Promise<Row[]> {
  const out = await runTask(engine, code);
  const last = out.resultSets[out.resultSets.length - 1];
  if (!last) throw new Error(`no result set from: ${code}`);
  return last.rows;
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

/** The query id a task reported in its progress events (the server's id of the running statement). */
export function queryIdOf(event: EngineEvent): string | undefined {
  if (event.type !== 'progress') return undefined;
  const id = event.info?.queryId;
  return typeof id === 'string' ? id : undefined;
}
