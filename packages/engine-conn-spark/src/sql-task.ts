import type { Column, EngineEvent } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { decodeArrowBatches } from './arrow-rows.ts';
import type { ConnectClient, ExecutePlanResponse, PlanExecution } from './connect-client.ts';
import { checkConf } from './launch-params.ts';
import { columnsOf } from './spark-types.ts';
import { splitSparkSql } from './sql-statements.ts';

/** What a SQL task needs from its engine. */
export interface SqlTaskContext {
  client: ConnectClient;
  /** Most rows in one `rows` event. */
  batchRows: number;
  /** How long an interrupted operation may take to end before the call is dropped. */
  cancelGraceMs: number;
  /**
   * The error to throw when the engine died or was closed under the task, else undefined. Given the
   * failure of a call, it may wait briefly for the driver's exit to be noticed.
   */
  engineGone(failure?: unknown): Promise<SluiceError | undefined>;
}

/** Progress of one statement from the server's stage reports: completed tasks over known tasks. */
export function stageProgress(progress: ExecutePlanResponse['execution_progress']): number {
  let total = 0;
  let done = 0;
  for (const stage of progress?.stages ?? []) {
    const tasks = Number(stage.num_tasks ?? 0);
    total += tasks;
    done += stage.done ? tasks : Math.min(tasks, Number(stage.num_completed_tasks ?? 0));
  }
  return total > 0 ? done / total : 0;
}

/** A tag for the operations of one task (Spark forbids commas), so they can be found on the server. */
export function taskTag(taskId: string): string {
  return `sluice-${taskId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 120)}`;
}

function arrowColumns(schema: { fields: { name: string; type: unknown; nullable: boolean }[] }): Column[] {
  return schema.fields.map((f) => ({ name: f.name, type: String(f.type).toLowerCase(), nullable: f.nullable }));
}

/** Runtime configuration of a task (`runtimeParams.conf`), checked like start-up configuration. */
export function taskConf(runtimeParams: Record<string, unknown>): Record<string, string> {
  const raw = runtimeParams.conf;
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'runtimeParams.conf must be an object' });
  const conf: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `runtimeParams.conf.${key} must be a string, number or boolean` });
    }
    conf[key] = String(value);
  }
  return checkConf(conf, 'spark runtime params');
}

/**
 * Interrupts an operation on the server, again and again while the server does not know it yet: on
 * a busy machine an ExecutePlan request can reach the server after the cancel, and dropping the call
 * alone leaves the server computing (Spark Connect keeps a detached operation running), starving the
 * session's next statements. Gives up after {@link INTERRUPT_RETRY_MS}.
 */
async function interruptUntilKnown(ctx: SqlTaskContext, execution: PlanExecution): Promise<void> {
  const deadline = Date.now() + INTERRUPT_RETRY_MS;
  for (;;) {
    const ids = await ctx.client.interrupt(execution.operationId).catch(() => [] as string[]);
    if (ids.includes(execution.operationId) || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** How long a cancel keeps interrupting an operation the server has not registered yet. */
const INTERRUPT_RETRY_MS = 30_000;

/**
 * Runs a SQL script on the engine's Spark Connect session, one statement after another. Each
 * statement with output columns becomes a result set whose Arrow batches stream as rows events,
 * pulled one at a time. Progress is the statements done plus the running one's completed tasks.
 * `runtimeParams.conf` is set for the task and restored afterwards. Aborting interrupts the running
 * operation on the server, which leaves the session usable.
 */
export async function* runSqlTask(
  ctx: SqlTaskContext,
  code: string,
  runtimeParams: Record<string, unknown>,
  signal: AbortSignal,
  taskId: string,
): AsyncGenerator<EngineEvent, void, undefined> {
  const statements = splitSparkSql(code);
  if (statements.length === 0) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'the SQL code has no statement' });
  const conf = taskConf(runtimeParams);
  const tag = taskTag(taskId);
  let restore: (() => Promise<void>) | undefined;
  let current: PlanExecution | undefined;
  let interrupted = false;
  let failed = false;
  let cancelTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    const execution = current;
    if (!execution || interrupted) return;
    interrupted = true;
    // Drop the call once the grace period is over, whatever the server says: the task ends in time.
    cancelTimer = setTimeout(() => execution.cancel(), ctx.cancelGraceMs);
    void interruptUntilKnown(ctx, execution);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (Object.keys(conf).length > 0) {
      const keys = Object.keys(conf);
      const previous = await ctx.client.getConf(keys);
      restore = async () => {
        await ctx.client.setConf(Object.fromEntries(keys.filter((k) => k in previous).map((k) => [k, previous[k] as string])));
        await ctx.client.unsetConf(keys.filter((k) => !(k in previous)));
      };
      await ctx.client.setConf(conf);
      yield { type: 'log', line: `Session configuration for this job: ${keys.map((k) => `${k}=${conf[k]}`).join(', ')}` };
    }
    for (let i = 0; i < statements.length; i++) {
      if (signal.aborted) throw new SluiceError('SLUICE_JOB_CANCELLED');
      const statement = statements[i] as string;
      const execution = ctx.client.executeSql(statement, [tag]);
      current = execution;
      interrupted = false;
      yield { type: 'log', line: `Statement ${i + 1} of ${statements.length}: Spark Connect operation ${execution.operationId}` };
      let columns: Column[] | undefined;
      let announced = false;
      let rows = 0;
      let best = 0;
      for await (const response of execution.responses) {
        if (response.schema && !columns) columns = columnsOf(response.schema);
        if (response.arrow_batch?.data) {
          const decoded = decodeArrowBatches(response.arrow_batch.data);
          if (!columns || columns.length !== decoded.schema.fields.length) columns = arrowColumns(decoded.schema);
          if (!announced && columns.length > 0) {
            announced = true;
            yield { type: 'resultSet', columns };
          }
          for (let at = 0; at < decoded.rows.length && announced; at += ctx.batchRows) {
            const chunk = decoded.rows.slice(at, at + ctx.batchRows);
            rows += chunk.length;
            yield { type: 'rows', rows: chunk };
          }
        } else if (response.execution_progress) {
          const fraction = stageProgress(response.execution_progress);
          if (fraction > best) {
            best = fraction;
            yield {
              type: 'progress',
              progress: Math.min(1, (i + fraction) / statements.length),
              info: {
                operationId: execution.operationId,
                statement: i + 1,
                statements: statements.length,
                inflightTasks: Number(response.execution_progress.num_inflight_tasks ?? 0),
              },
            };
          }
        }
      }
      current = undefined;
      if (signal.aborted) throw new SluiceError('SLUICE_JOB_CANCELLED');
      if (!announced && columns && columns.length > 0) {
        yield { type: 'resultSet', columns };
        announced = true;
      }
      if (announced) yield { type: 'log', line: `${rows} row(s)` };
      yield {
        type: 'progress',
        progress: (i + 1) / statements.length,
        info: { operationId: execution.operationId, statement: i + 1, statements: statements.length },
      };
    }
  } catch (err) {
    failed = true;
    // A cancelled call fails with CANCELLED or UNKNOWN, which engineGone() would give the driver 2 s
    // to exit on; a cancel must not wait for that (only a driver already gone is reported).
    const gone = await ctx.engineGone(signal.aborted ? undefined : err);
    if (gone) throw gone;
    if (signal.aborted) throw new SluiceError('SLUICE_JOB_CANCELLED');
    if (err instanceof SluiceError) throw err;
    // A gRPC failure carries a numeric status code; anything else is a fault of this connector.
    if (typeof (err as { code?: unknown })?.code !== 'number') {
      throw new SluiceError(
        'SLUICE_INTERNAL',
        { engine: 'spark', reason: (err as Error)?.message ?? String(err) },
        `spark connector: ${(err as Error)?.message ?? String(err)}`,
      );
    }
    throw ctx.client.mapError(err as Error);
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (cancelTimer) clearTimeout(cancelTimer);
    // A consumer that stopped pulling early must not leave the operation running.
    if (current && !failed) {
      const execution = current;
      const first = await ctx.client.interrupt(execution.operationId).catch(() => [] as string[]);
      if (!first.includes(execution.operationId)) void interruptUntilKnown(ctx, execution);
      execution.cancel();
    }
    if (restore && !failed) await restore().catch(() => {});
    else if (restore && !(await ctx.engineGone())) await restore().catch(() => {});
  }
}
