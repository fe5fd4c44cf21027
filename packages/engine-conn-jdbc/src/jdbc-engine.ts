import {
  type Column,
  type Engine,
  type EngineEvent,
  type EngineHealth,
  type EngineTask,
  SluiceError,
  type WireRelay,
  type WireRelayEngine,
  type WireRowsEngine,
  type WireRowsEvent,
} from '@sluice/core';
import type { ResolvedDataSource } from './data-source.ts';
import { messageOf, queryFailedError, SessionLost, StatementCancelled, StatementFailure } from './db-errors.ts';
import type { BatchLimits, DbSession, RunOptions, StatementEvent } from './db-session.ts';
import { redactText } from './redact.ts';
import { splitStatements } from './sql-splitter.ts';
import { TaskLock } from './task-lock.ts';

/** Tunables of JDBC engines. */
export interface JdbcEngineOptions {
  /** Most rows in one `rows` event. */
  batchRows: number;
  /** About the most bytes in one `rows` event. */
  batchBytes: number;
  /** How long health() waits for the server's answer. */
  healthTimeoutMs: number;
}

const ENGINE = 'jdbc';

/** Thrown inside a task when it must stop: cancelled, or its engine went away. */
class Stop extends Error {
  constructor(readonly error: SluiceError) {
    super(error.message);
  }
}

function affectedLine(event: Extract<StatementEvent, { kind: 'done' }>): string {
  if (event.affectedRows !== undefined) return `${event.affectedRows} ${event.affectedRows === 1 ? 'row' : 'rows'} affected`;
  return event.command ? `${event.command} OK` : 'OK';
}

/**
 * One JDBC engine: one database session on a data source for one user. State of the session (SET,
 * temporary tables, an open transaction) persists across its tasks. Tasks run one at a time, each
 * script statement by statement; results stream in batches pulled by the consumer.
 */
export class JdbcEngine implements Engine, WireRowsEngine, WireRelayEngine {
  readonly id: string;
  private readonly lock = new TaskLock();
  private readonly exitListeners: ((reason: string) => void)[] = [];
  private closing: Promise<void> | undefined;
  private lostReason: string | undefined;
  private exitReported = false;
  /** Aborts the running task when the engine closes. */
  private readonly closeController = new AbortController();
  private running = 0;

  constructor(
    id: string,
    private readonly session: DbSession,
    private readonly ds: ResolvedDataSource,
    private readonly options: JdbcEngineOptions,
  ) {
    this.id = id;
    session.onLost((reason) => this.handleLost(reason));
  }

  /** The server's version string. */
  get serverVersion(): string {
    return this.session.serverVersion;
  }

  /** The data source this engine is connected to. */
  get dataSourceName(): string {
    return this.ds.name;
  }

  private handleLost(reason: string): void {
    if (this.closing || this.lostReason !== undefined) return;
    this.lostReason = redactText(reason, this.ds.secrets);
    if (this.exitReported) return;
    this.exitReported = true;
    for (const listener of this.exitListeners) {
      try {
        listener(this.lostReason);
      } catch {
        // A listener's failure must not stop the others.
      }
    }
  }

  private goneError(): SluiceError | undefined {
    if (this.closing) return new SluiceError('SLUICE_ENGINE_CRASHED', { engine: ENGINE, reason: 'the engine was closed' });
    if (this.lostReason !== undefined) return new SluiceError('SLUICE_ENGINE_CRASHED', { engine: ENGINE, reason: `the session was lost: ${this.lostReason}` });
    return undefined;
  }

  execute(task: EngineTask): AsyncIterable<EngineEvent> {
    return this.runTask(task, {}) as AsyncIterable<EngineEvent>;
  }

  /**
   * Runs a task as {@link execute} does, for a consumer that speaks the PostgreSQL wire protocol: a
   * PostgreSQL statement whose columns `wireRows` accepts (and whose values need no conversion)
   * yields its rows as `wireRows` events, the server's DataRow messages, instead of `rows`.
   */
  executeWire(task: EngineTask, wireRows: (columns: Column[]) => boolean): AsyncIterable<EngineEvent | WireRowsEvent> {
    return this.runTask(task, { wireRows });
  }

  /**
   * Hands the engine's PostgreSQL session to a relay (ADR 17) once no task runs; undefined on other
   * databases. The engine runs no task until the relay is closed, and its session is closed then.
   */
  async openRelay(signal: AbortSignal): Promise<WireRelay | undefined> {
    if (!this.session.relay) return undefined;
    const gone = this.goneError();
    if (gone) throw gone;
    const release = await this.lock.acquire(signal, () => this.stopError());
    let relay: WireRelay;
    try {
      relay = this.session.relay();
    } catch (err) {
      release();
      throw this.mapError(err, signal);
    }
    this.running += 1;
    let closed = false;
    return {
      ...relay,
      close: async () => {
        if (closed) return;
        closed = true;
        await relay.close();
        this.running -= 1;
        // The client may have left the session in any state (a transaction, SET, temporary tables):
        // the engine closes before a task waiting for it could run.
        const closing = this.close();
        release();
        await closing;
      },
    };
  }

  private async *runTask(task: EngineTask, options: RunOptions): AsyncGenerator<EngineEvent | WireRowsEvent> {
    if (task.signal.aborted) throw new SluiceError('SLUICE_JOB_CANCELLED');
    const gone = this.goneError();
    if (gone) throw gone;
    // The task's signal or the engine's close stops the task. (A controller of its own rather than
    // AbortSignal.any, which on Node 20 costs a weak reference and a finalizer per task on the
    // engine's long-lived close signal.)
    const stopper = new AbortController();
    const stop = stopper.signal;
    const abort = () => stopper.abort();
    task.signal.addEventListener('abort', abort, { once: true });
    this.closeController.signal.addEventListener('abort', abort, { once: true });
    if (this.closeController.signal.aborted) stopper.abort();
    let release: (() => void) | undefined;
    const onStop = () => {
      void this.session.cancel().catch(() => undefined);
    };
    try {
      release = await this.lock.acquire(stop, () => this.stopError());
      this.running += 1;
      stop.addEventListener('abort', onStop, { once: true });
      yield* this.runStatements(task, stop, options);
    } catch (err) {
      throw this.mapError(err, task.signal);
    } finally {
      task.signal.removeEventListener('abort', abort);
      this.closeController.signal.removeEventListener('abort', abort);
      if (release) {
        stop.removeEventListener('abort', onStop);
        this.running -= 1;
        release();
      }
    }
  }

  private stopError(): SluiceError {
    return this.goneError() ?? new SluiceError('SLUICE_JOB_CANCELLED');
  }

  private async *runStatements(task: EngineTask, stop: AbortSignal, options: RunOptions): AsyncGenerator<EngineEvent | WireRowsEvent> {
    const check = () => {
      if (stop.aborted || this.goneError()) throw new Stop(this.stopError());
    };
    const statements = splitStatements(task.code, this.session.dialect);
    if (statements.length === 0) {
      yield { type: 'log', line: 'No SQL statements to run.' };
      return;
    }
    const limits: BatchLimits = { rows: this.options.batchRows, bytes: this.options.batchBytes };
    for (let i = 0; i < statements.length; i++) {
      const statement = statements[i]!;
      check();
      yield { type: 'log', line: `Statement ${i + 1}/${statements.length}: ${statement.keyword || 'statement'}` };
      check();
      let resultSet = false;
      for await (const event of this.session.run(statement.text, limits, options)) {
        check();
        if (event.kind === 'columns') {
          resultSet = true;
          yield { type: 'resultSet', columns: event.columns };
        } else if (event.kind === 'rows') {
          yield { type: 'rows', rows: event.rows };
        } else if (event.kind === 'wireRows') {
          yield { type: 'wireRows', wire: event.wire };
        } else if (!resultSet) {
          yield { type: 'log', line: affectedLine(event) };
        }
        check();
      }
      if (statements.length > 1) yield { type: 'progress', progress: (i + 1) / statements.length, info: { statement: i + 1, statements: statements.length } };
    }
  }

  private mapError(err: unknown, taskSignal: AbortSignal): SluiceError {
    if (err instanceof Stop) return err.error;
    const gone = this.goneError();
    if (gone) return gone;
    if (taskSignal.aborted || err instanceof StatementCancelled) return new SluiceError('SLUICE_JOB_CANCELLED');
    if (err instanceof SluiceError) return err;
    if (err instanceof StatementFailure) return queryFailedError(this.ds, err);
    if (err instanceof SessionLost) {
      this.handleLost(err.message);
      return new SluiceError('SLUICE_ENGINE_CRASHED', { engine: ENGINE, reason: `the session was lost: ${redactText(err.message, this.ds.secrets)}` });
    }
    const reason = redactText(messageOf(err), this.ds.secrets);
    return new SluiceError('SLUICE_INTERNAL', { engine: ENGINE, reason }, `jdbc engine: ${reason}`);
  }

  async health(): Promise<EngineHealth> {
    const gone = this.goneError();
    if (gone) return { ok: false, detail: gone.message };
    // The session runs one statement at a time: while a task runs, the session is alive by definition.
    if (this.running > 0 || this.lock.busy) return { ok: true, detail: 'running a task' };
    try {
      await this.session.ping(this.options.healthTimeoutMs);
      return { ok: true };
    } catch (err) {
      return { ok: false, detail: redactText(messageOf(err), this.ds.secrets) };
    }
  }

  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        this.closeController.abort();
        if (this.running > 0) await this.session.cancel().catch(() => undefined);
        await this.session.close().catch(() => undefined);
      })();
    }
    await this.closing;
  }

  onExit(listener: (reason: string) => void): void {
    this.exitListeners.push(listener);
  }
}
