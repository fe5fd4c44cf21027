import type { Column, Engine, EngineEvent, EngineHealth, EngineLaunchSpec, EngineTask, Row } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { TrinoAbortedError } from './client-errors.ts';
import { applySessionUpdate, type ClientSession } from './client-session.ts';
import type { ClusterClient } from './cluster-client.ts';
import { mapProtocolError } from './error-mapping.ts';
import { progressInfo, progressOf } from './query-progress.ts';
import { type ScriptStatement, splitStatements } from './sql-splitter.ts';
import type { QueryExecution } from './statement-client.ts';
import { parseStartupParams } from './trino-params.ts';
import { columnType } from './type-signature.ts';
import { compileRowDecoder } from './value-decoder.ts';

/** Tunables of an engine; every field has a default in the connector. */
export interface TrinoEngineOptions {
  /** Connector name, `trino` or `presto`: errors and logs say which. */
  engine: string;
  /** How long launch() waits for the coordinator's `/v1/info`. */
  launchTimeoutMs: number;
  /** How long health() waits for it. */
  healthTimeoutMs: number;
}

/** The abort reason when close() stops a task: it then fails as SLUICE_ENGINE_CRASHED, not cancelled. */
const CLOSED = Symbol('engine closed');

/** The value of `X-Trino-Source` of every query. */
export const QUERY_SOURCE = 'sluice';

/** Most characters of a statement shown in its start log line. */
const PREVIEW_CHARS = 120;

function preview(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ');
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS)}…` : flat;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** The session an engine starts with: the data source's settings, the job's start-up params on top. */
export function initialSession(spec: EngineLaunchSpec, cluster: ClusterClient, engine: string): ClientSession {
  const startup = parseStartupParams(spec.params, engine);
  const p = cluster.params;
  const catalog = startup.catalog ?? p.catalog;
  // A job that picks another catalog does not inherit the data source's schema, which is in the old one.
  const schema = startup.schema ?? (startup.catalog !== undefined && startup.catalog !== p.catalog ? undefined : p.schema);
  const creator = spec.labels?.creator;
  return {
    user: spec.user,
    source: QUERY_SOURCE,
    catalog,
    schema,
    timeZone: startup.timeZone ?? p.timeZone,
    properties: { ...p.sessionProperties, ...(startup.sessionProperties ?? {}) },
    roles: {},
    preparedStatements: {},
    clientTags: unique([...p.clientTags, ...(startup.clientTags ?? []), ...(creator ? [creator] : [])]),
  };
}

/**
 * A Trino or Presto engine: one client session on a cluster for one (user, data source). It runs as
 * the Sluice user (`X-Trino-User`), keeps the session's catalog, schema, properties, prepared
 * statements, roles and transaction between tasks, and shares nothing with other engines. There is
 * no local process: close() cancels what runs and forgets the session.
 */
export class TrinoEngine implements Engine {
  readonly id: string;
  readonly pid = undefined;
  private readonly cluster: ClusterClient;
  private readonly options: TrinoEngineOptions;
  private sessionState: ClientSession;
  private closed = false;
  private readonly running = new Set<AbortController>();
  private readonly executions = new Set<QueryExecution>();

  private constructor(id: string, cluster: ClusterClient, session: ClientSession, options: TrinoEngineOptions) {
    this.id = id;
    this.cluster = cluster;
    this.sessionState = session;
    this.options = options;
  }

  /** Opens the session after checking that the coordinator answers and has finished starting. */
  static async launch(spec: EngineLaunchSpec, cluster: ClusterClient, options: TrinoEngineOptions): Promise<TrinoEngine> {
    let session: ClientSession;
    try {
      session = initialSession(spec, cluster, options.engine);
    } catch (err) {
      cluster.close();
      throw err;
    }
    try {
      const info = await cluster.client.serverInfo(AbortSignal.timeout(options.launchTimeoutMs));
      if (info.starting) throw new Error('the coordinator is still starting');
    } catch (err) {
      cluster.close();
      const reason = err instanceof Error ? err.message : String(err);
      throw new SluiceError('SLUICE_ENGINE_LAUNCH_FAILED', { engine: options.engine, reason: `${cluster.dataSource}: ${reason}` });
    }
    return new TrinoEngine(spec.engineId, cluster, session, options);
  }

  /** The session the next statement runs in (for inspection; it holds no secrets). */
  get session(): ClientSession {
    return this.sessionState;
  }

  async *execute(task: EngineTask): AsyncGenerator<EngineEvent> {
    if (this.closed) throw new SluiceError('SLUICE_ENGINE_CRASHED', { engine: this.options.engine, reason: 'the engine was closed' });
    if (task.signal.aborted) throw new SluiceError('SLUICE_JOB_CANCELLED');
    const controller = new AbortController();
    const onAbort = () => controller.abort(task.signal.reason);
    task.signal.addEventListener('abort', onAbort, { once: true });
    this.running.add(controller);
    const statements = splitStatements(task.code);
    let current: { statement: ScriptStatement; index: number } | undefined;
    try {
      if (statements.length === 0) {
        yield { type: 'log', line: 'The code holds no statement; nothing ran.' };
        return;
      }
      for (const [index, statement] of statements.entries()) {
        current = { statement, index };
        yield* this.runStatement(task, statement, index, statements.length, controller.signal);
      }
    } catch (err) {
      throw this.taskError(err, controller.signal, current);
    } finally {
      task.signal.removeEventListener('abort', onAbort);
      this.running.delete(controller);
    }
  }

  private async *runStatement(task: EngineTask, statement: ScriptStatement, index: number, total: number, signal: AbortSignal): AsyncGenerator<EngineEvent> {
    yield { type: 'log', line: total > 1 ? `Statement ${index + 1} of ${total}: ${preview(statement.sql)}` : `Statement: ${preview(statement.sql)}` };
    const execution = this.cluster.client.execute(statement.sql, this.sessionState, {
      signal,
      attribution: { clientInfo: JSON.stringify({ sluiceEngine: this.id, sluiceTask: task.taskId }), traceToken: task.taskId },
    });
    this.executions.add(execution);
    let announced = false;
    let mode: 'unknown' | 'rows' | 'update' = 'unknown';
    let decode: ((rows: Row[]) => void) | null = null;
    let rowCount = 0;
    let lastProgress = -1;
    let lastState = '';
    const warnings = new Set<string>();
    try {
      for await (const page of execution) {
        if (!announced) {
          announced = true;
          yield { type: 'log', line: `${this.options.engine} query ${page.id}${page.infoUri ? ` (${page.infoUri})` : ''}` };
        }
        const p = progressOf(page.stats);
        const overall = (index + (p ?? 0)) / total;
        if (page.stats.state !== lastState || (p !== undefined && overall - lastProgress >= 0.01)) {
          lastState = page.stats.state;
          lastProgress = Math.max(lastProgress, overall);
          yield { type: 'progress', progress: lastProgress, info: progressInfo(page.id, page.stats) };
        }
        if (mode === 'unknown' && page.columns) {
          // DDL and DML report an update type; their one-row "result" (true, or a row count) is not data.
          if (page.updateType) mode = 'update';
          else {
            mode = 'rows';
            decode = compileRowDecoder(page.columns);
            const columns: Column[] = page.columns.map((c) => ({ name: c.name, type: columnType(c) }));
            yield { type: 'resultSet', columns };
          }
        }
        if (mode === 'rows' && page.data && page.data.length > 0) {
          const rows = page.data as Row[];
          decode?.(rows);
          rowCount += rows.length;
          yield { type: 'rows', rows };
        }
        for (const warning of page.warnings ?? []) {
          if (warnings.has(warning.message)) continue;
          warnings.add(warning.message);
          yield { type: 'log', line: `WARNING: ${warning.message}` };
        }
      }
    } finally {
      this.executions.delete(execution);
      // The server reports only changes that took effect, so they count even when the query failed.
      this.sessionState = applySessionUpdate(this.sessionState, execution.sessionUpdate);
    }
    const last = execution.last;
    const elapsed = last?.stats.elapsedTimeMillis;
    const took = elapsed === undefined ? '' : ` in ${elapsed} ms`;
    if (mode === 'update' || (mode === 'unknown' && last?.updateType)) {
      const count = last?.updateCount;
      yield { type: 'log', line: `${last?.updateType ?? 'OK'}${count === undefined || count === null ? '' : `: ${count} rows`}${took}` };
    } else {
      yield { type: 'log', line: `${rowCount} rows${took}` };
    }
    yield { type: 'progress', progress: (index + 1) / total, info: last ? progressInfo(last.id, last.stats) : undefined };
  }

  /** The SluiceError of a failed task; SQL error positions are translated into the task's script. */
  private taskError(err: unknown, signal: AbortSignal, current: { statement: ScriptStatement; index: number } | undefined): SluiceError {
    if (err instanceof SluiceError) return err;
    if (err instanceof TrinoAbortedError || signal.aborted) {
      if (signal.reason === CLOSED) return new SluiceError('SLUICE_ENGINE_CRASHED', { engine: this.options.engine, reason: 'the engine was closed' });
      return new SluiceError('SLUICE_JOB_CANCELLED', err instanceof TrinoAbortedError && err.queryId ? { queryId: err.queryId } : {});
    }
    const mapped = mapProtocolError(err, { engine: this.options.engine, dataSource: this.cluster.dataSource });
    const line = mapped.details.line;
    if (!current || typeof line !== 'number') return mapped;
    const column = mapped.details.column;
    const { statement, index } = current;
    return new SluiceError(
      mapped.code,
      {
        ...mapped.details,
        line: statement.line + line - 1,
        column: typeof column === 'number' ? (line === 1 ? statement.column + column - 1 : column) : null,
        statement: index + 1,
      },
      mapped.message,
    );
  }

  async health(): Promise<EngineHealth> {
    if (this.closed) return { ok: false, detail: 'the engine was closed' };
    try {
      const info = await this.cluster.client.serverInfo(AbortSignal.timeout(this.options.healthTimeoutMs));
      if (info.starting) return { ok: false, detail: `${this.cluster.dataSource}: the coordinator is starting` };
      return { ok: true, detail: `${this.cluster.dataSource}: ${this.options.engine} ${info.version ?? ''}`.trim() };
    } catch (err) {
      return { ok: false, detail: `${this.cluster.dataSource}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const controller of this.running) controller.abort(CLOSED);
    // Wait for the DELETEs, so the cluster stops the queries before the connections go.
    await Promise.allSettled([...this.executions].map((execution) => execution.cancel()));
    this.cluster.close();
  }

  /**
   * A session has no process that could die on its own: a cluster outage surfaces as failed tasks
   * and an unhealthy health(), so the listener is never called.
   */
  onExit(_listener: (reason: string) => void): void {}
}
