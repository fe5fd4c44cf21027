import type { Column, Engine, EngineEvent, Row } from '@sluice/core';

let taskSeq = 0;

/** Everything one task produced. */
export interface TaskOutput {
  events: EngineEvent[];
  logs: string[];
  resultSets: { columns: Column[]; rows: Row[] }[];
}

/** Runs a task to its end and collects its events; rejects with the task's error. */
export async function runTask(engine: Engine, code: string, signal: AbortSignal = new AbortController().signal): Promise<TaskOutput> {
  taskSeq += 1;
  const out: TaskOutput = { events: [], logs: [], resultSets: [] };
  for await (const event of engine.execute({ taskId: `t${taskSeq}`, code, codeType: 'sql', runtimeParams: {}, signal })) {
    out.events.push(event);
    if (event.type === 'log') out.logs.push(event.line);
    else if (event.type === 'resultSet') out.resultSets.push({ columns: event.columns, rows: [] });
    else if (event.type === 'rows') out.resultSets[out.resultSets.length - 1]!.rows.push(...event.rows);
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

/** A task handle for tests that drive iteration by hand. */
export function startTask(engine: Engine, code: string, signal: AbortSignal): AsyncIterator<EngineEvent> {
  taskSeq += 1;
  return engine.execute({ taskId: `t${taskSeq}`, code, codeType: 'sql', runtimeParams: {}, signal })[Symbol.asyncIterator]();
}
