import { type DuckDBConnection, type DuckDBPreparedStatement, type DuckDBResult, ResultReturnType, StatementType } from '@duckdb/node-api';
import type { ChildMessageBody, TaskOutcome } from './protocol.ts';
import { splitIntoBatches } from './row-batches.ts';
import { type JsonValue, toJsonValue } from './value-conversion.ts';

/** Sends one message to the parent; resolves once it has been handed to the IPC channel. */
export type Emit = (body: ChildMessageBody) => Promise<void>;

/** How the worker samples progress and cuts results into batches. */
export interface RunnerLimits {
  progressIntervalMs: number;
  batchRows: number;
  batchBytes: number;
}

const STATEMENT_NAMES = new Map<number, string>(Object.entries(StatementType).map(([name, id]) => [Number(id), name]));

/**
 * Row-batch credit and cancellation of one task in the worker. The parent grants one credit per batch
 * its consumer has taken, so at most `initial` batches are ever unconsumed.
 */
export class TaskControl {
  private credits: number;
  private wake: (() => void) | undefined;
  cancelled = false;

  /** `starving`: called before the task waits for a credit (the worker sends what it holds then). */
  constructor(
    initialCredits: number,
    private readonly starving: () => void = () => {},
  ) {
    this.credits = initialCredits;
  }

  grant(batches: number): void {
    this.credits += batches;
    this.wake?.();
  }

  cancel(): void {
    this.cancelled = true;
    this.wake?.();
  }

  /** Waits for one credit; false when the task was cancelled meanwhile. */
  async take(): Promise<boolean> {
    if (this.credits <= 0 && !this.cancelled) this.starving();
    while (this.credits <= 0 && !this.cancelled) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
    if (this.cancelled) return false;
    this.credits -= 1;
    return true;
  }
}

/** Scripts up to this long are first tried as one statement (see runStatements). */
export const DIRECT_PREPARE_MAX_CHARS = 16 * 1024;

class Cancelled extends Error {}

class ConversionFailed extends Error {}

function convertChunkRows(rows: unknown[][]): JsonValue[][] {
  try {
    for (const row of rows) {
      for (let i = 0; i < row.length; i++) row[i] = toJsonValue(row[i] as never);
    }
    return rows as JsonValue[][];
  } catch (err) {
    throw new ConversionFailed(`could not convert a value: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Runs the statements of one task on the engine's connection, emitting `log`, `progress`,
 * `resultSet` and `rows` messages, and returns how the task ended. Never throws.
 */
export async function runStatements(
  connection: DuckDBConnection,
  taskId: string,
  code: string,
  control: TaskControl,
  emit: Emit,
  limits: RunnerLimits,
  preparedAhead?: Promise<DuckDBPreparedStatement | undefined>,
  onStatement?: (type: StatementType) => void,
): Promise<TaskOutcome> {
  let statement = 0;
  let statements = 0;
  let lastPercentage = -1;
  const progressTimer = setInterval(() => {
    if (statements === 0 || control.cancelled) return;
    const { percentage, rows_processed, total_rows_to_process } = connection.progress;
    if (percentage < 0 || Math.floor(percentage) === Math.floor(lastPercentage)) return;
    lastPercentage = percentage;
    const overall = Math.min(1, Math.max(0, (statement - 1 + percentage / 100) / statements));
    void emit({
      type: 'progress',
      taskId,
      progress: overall,
      info: { statement, statements, percentage, rowsProcessed: Number(rows_processed), totalRows: Number(total_rows_to_process) },
    });
  }, limits.progressIntervalMs);

  const checkCancelled = () => {
    if (control.cancelled) throw new Cancelled();
  };

  /** Runs statement `n` of `count`, already prepared, and frees it. */
  const runPrepared = async (prepared: DuckDBPreparedStatement, n: number, count: number): Promise<void> => {
    lastPercentage = -1;
    try {
      onStatement?.(prepared.statementType);
      const kind = STATEMENT_NAMES.get(prepared.statementType) ?? 'statement';
      await emit({ type: 'log', taskId, line: `Statement ${n}/${count}: ${kind}` });
      checkCancelled();
      const result = await prepared.stream();
      checkCancelled();
      if (result.returnType === ResultReturnType.QUERY_RESULT) {
        await streamRows(result, taskId, control, emit, limits);
      } else if (result.returnType === ResultReturnType.CHANGED_ROWS) {
        const changed = result.rowsChanged;
        await emit({ type: 'log', taskId, line: `${changed} ${changed === 1 ? 'row' : 'rows'} affected` });
      } else {
        await emit({ type: 'log', taskId, line: `${kind} OK` });
      }
    } finally {
      prepared.destroySync();
    }
  };

  try {
    // Most tasks are one short statement: prepared directly, that is one native call (a trip to libuv's
    // pool and back) fewer than extracting it first. Anything prepare refuses (several statements, none,
    // a syntax error) takes the extracting path below, which reports it as before; preparing runs
    // nothing. Long scripts go there at once rather than be parsed twice. A statement prepared ahead of
    // the task (the worker's `prepare` message) is that same direct prepare, done earlier; it must be
    // awaited before anything else runs on the connection.
    const ready = await preparedAhead;
    const single = ready ?? (code.length <= DIRECT_PREPARE_MAX_CHARS ? await connection.prepare(code).catch(() => undefined) : undefined);
    if (single) {
      statements = 1;
      statement = 1;
      await runPrepared(single, 1, 1);
      return { status: 'ok' };
    }
    let extracted: Awaited<ReturnType<DuckDBConnection['extractStatements']>>;
    try {
      extracted = await connection.extractStatements(code);
    } catch (err) {
      // DuckDB's C API reports an empty script (blank or only comments) without a message.
      if (err instanceof Error && err.message === 'Error in native callback' && !control.cancelled) {
        await emit({ type: 'log', taskId, line: 'No SQL statements to run.' });
        return { status: 'ok' };
      }
      throw err;
    }
    statements = extracted.count;
    for (statement = 1; statement <= statements; statement++) {
      checkCancelled();
      await runPrepared(await extracted.prepare(statement - 1), statement, statements);
    }
    return { status: 'ok' };
  } catch (err) {
    if (control.cancelled || err instanceof Cancelled) return { status: 'cancelled' };
    const reason = err instanceof Error ? err.message : String(err);
    if (err instanceof ConversionFailed) return { status: 'internal', reason };
    return { status: 'queryFailed', reason };
  } finally {
    clearInterval(progressTimer);
  }
}

async function streamRows(result: DuckDBResult, taskId: string, control: TaskControl, emit: Emit, limits: RunnerLimits): Promise<void> {
  const names = result.columnNames();
  const types = result.columnTypes();
  await emit({ type: 'resultSet', taskId, columns: names.map((name, i) => ({ name, type: String(types[i]) })) });
  for (;;) {
    // Hold a credit before reading the next chunk, so the worker never reads ahead of the consumer.
    if (!(await control.take())) throw new Cancelled();
    const chunk = await result.fetchChunk();
    if (control.cancelled) throw new Cancelled();
    if (!chunk || chunk.rowCount === 0) {
      control.grant(1);
      return;
    }
    const batches = splitIntoBatches(convertChunkRows(chunk.getRows()), limits.batchRows, limits.batchBytes);
    for (let i = 0; i < batches.length; i++) {
      if (i > 0 && !(await control.take())) throw new Cancelled();
      await emit({ type: 'rows', taskId, rows: batches[i] as JsonValue[][] });
    }
  }
}
