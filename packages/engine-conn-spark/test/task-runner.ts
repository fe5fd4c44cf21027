import type { Column, Engine, EngineEvent, Row } from '@sluice/core';

let taskSeq = 0;

/** Everything one task produced. */
export interface TaskOutput {
  events: EngineEvent[];
  logs: string[];
  progress: number[];
  resultSets: { columns: Column[]; rows: Row[] }[];
}

/** Runs a task to its end and collects its events; rejects with the task's error. */
export async function runTask(
  engine: Engine,
  code: string,
  opts: { codeType?: string; runtimeParams?: Record<string, unknown>; signal?: AbortSignal; onEvent?: (e: EngineEvent) => void } = {},
): Promise<TaskOutput> {
  taskSeq += 1;
  const out: TaskOutput = { events: [], logs: [], progress: [], resultSets: [] };
  for await (const event of engine.execute({
    taskId: `spark-test-${taskSeq}`,
    code,
    codeType: opts.codeType ?? 'sql',
    runtimeParams: opts.runtimeParams ?? {},
    signal: opts.signal ?? new AbortController().signal,
  })) {
    out.events.push(event);
    opts.onEvent?.(event);
    if (event.type === 'log') out.logs.push(event.line);
    else if (event.type === 'progress') out.progress.push(event.progress);
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
export async function queryRows(engine: Engine, code: string, runtimeParams?: Record<string, unknown>): Promise<Row[]> {
  const out = await runTask(engine, code, { runtimeParams });
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

export { processAlive as alive } from '@sluice/testkit';
