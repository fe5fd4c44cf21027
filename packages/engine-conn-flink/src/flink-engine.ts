import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Column, DataSourceConnection, Engine, EngineEvent, EngineHealth, EngineLaunchSpec, EngineTask, Row } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { ClusterRestClient } from './cluster-rest-client.ts';
import { ENGINE_NAME, type ErrorContext, mapGatewayError } from './error-mapping.ts';
import {
  authorizationHeader,
  type FlinkParams,
  type FlinkRuntimeParams,
  gatewayUrlOf,
  parseFlinkParams,
  parseFlinkRuntimeParams,
  parseFlinkStartupParams,
} from './flink-params.ts';
import { SqlGatewayClient } from './gateway-client.ts';
import { GatewayAbortedError, GatewayConnectionError } from './gateway-errors.ts';
import { GatewaySession } from './gateway-session.ts';
import { cancelJob, followJob, sweepJob, untilTasksRun } from './job-follower.ts';
import { formatLogicalType } from './logical-type.ts';
import { RestHttp } from './rest-http.ts';
import { resultPages } from './result-stream.ts';
import { changesConfig, routeOf, type ScriptStatement, splitStatements } from './sql-splitter.ts';

/** Tunables of an engine; the connector fills every field. */
export interface FlinkEngineOptions {
  /** How long launch() may take to reach the gateway and open the session. */
  launchTimeoutMs: number;
  /** How long health() waits for the gateway. */
  healthTimeoutMs: number;
  /** How long cancelling a task may wait for its operation to close or its Flink job to stop. */
  cancelWaitMs: number;
  /** How long an abandoned query's cancel waits for its job's tasks to run (see untilTasksRun). */
  queryStartWaitMs: number;
}

/** The abort reason when close() stops a task: it then fails as SLUICE_ENGINE_CRASHED, not cancelled. */
const CLOSED = Symbol('engine closed');
/** The abort reason when a query's `maxSeconds` passes: it then ends successfully. */
const DEADLINE = Symbol('maxSeconds reached');

/**
 * The Flink option that fixes the id of the job a statement submits (what Flink's application mode
 * uses). Set on every statement so that the connector knows the job id before the gateway tells it.
 */
export const FIXED_JOB_ID = '$internal.pipeline.job-id';

/** Most time cancelling and closing an operation may take together: a cancelled task ends promptly. */
const OPERATION_CLOSE_BUDGET_MS = 2500;

/** How long after a statement was abandoned its job, should it still appear, is cancelled. */
const ABANDONED_JOB_WINDOW_MS = 30_000;

/** How long an abandoned query's operation may report FINISHED with no job on the cluster. */
const SUBMITTED_JOB_GRACE_MS = 3000;

/** How long close() waits for stopped tasks to hand over their abandoned statements. */
const CLOSE_DRAIN_MS = 2000;

/** Most characters of a statement shown in its log line. */
const PREVIEW_CHARS = 160;

/** The leading column of streaming query results: the changelog row kind. */
export const ROW_KIND_COLUMN: Column = { name: 'op', type: 'CHAR(2)', nullable: false };

function preview(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ');
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS)}…` : flat;
}

/**
 * A Flink SQL engine: one SQL Gateway session for one (user, data source). Tasks run their statements
 * in that session, so temporary tables, views, functions, SET options and the current catalog carry
 * from task to task and are never visible to another engine. There is no local process: close()
 * stops what runs (queries' jobs and followed INSERT jobs) and closes the session.
 */
export class FlinkEngine implements Engine {
  readonly id: string;
  readonly pid = undefined;
  private readonly session: GatewaySession;
  private readonly rest: ClusterRestClient | undefined;
  private readonly params: FlinkParams;
  private readonly dataSource: string;
  private readonly options: FlinkEngineOptions;
  private closed = false;
  private readonly running = new Set<AbortController>();
  private readonly followed = new Set<string>();
  /** Abandoned statements whose operation is closed once their job's tasks run; close() waits for them. */
  private readonly abandoning = new Set<Promise<void>>();
  private readonly exitListeners: ((reason: string) => void)[] = [];

  private constructor(
    id: string,
    session: GatewaySession,
    rest: ClusterRestClient | undefined,
    params: FlinkParams,
    dataSource: string,
    options: FlinkEngineOptions,
  ) {
    this.id = id;
    this.session = session;
    this.rest = rest;
    this.params = params;
    this.dataSource = dataSource;
    this.options = options;
    session.onLost((reason) => {
      for (const listener of this.exitListeners) listener(reason);
    });
  }

  /**
   * Negotiates the API version, opens the session (data-source properties, the job's start-up
   * properties on top, then USE CATALOG / USE) and starts its heartbeats. An unreachable gateway is
   * SLUICE_DATASOURCE_UNAVAILABLE (retryable); other failures SLUICE_ENGINE_LAUNCH_FAILED.
   */
  static async launch(spec: EngineLaunchSpec, ds: DataSourceConnection, options: FlinkEngineOptions): Promise<FlinkEngine> {
    const params = parseFlinkParams(ds.params, `data source ${ds.name}`);
    const startup = parseFlinkStartupParams(spec.params);
    const headers = authorizationHeader(params);
    const gateway = new RestHttp({ baseUrl: gatewayUrlOf(params), headers, timeoutMs: params.requestTimeoutMs });
    const rest = params.restUrl ? new ClusterRestClient(new RestHttp({ baseUrl: params.restUrl, headers, timeoutMs: params.requestTimeoutMs })) : undefined;
    const signal = AbortSignal.timeout(options.launchTimeoutMs);
    let session: GatewaySession;
    try {
      const client = await SqlGatewayClient.connect(gateway, { pinned: params.apiVersion, signal });
      const catalog = startup.catalog ?? params.catalog;
      const database = startup.database ?? (startup.catalog !== undefined && startup.catalog !== params.catalog ? undefined : params.database);
      session = await GatewaySession.open(
        client,
        {
          name: `sluice:${spec.user}:${spec.engineId}`,
          properties: { ...params.sessionProperties, ...(startup.sessionProperties ?? {}) },
          initStatements: params.initStatements,
          catalog,
          database,
          heartbeatIntervalMs: params.heartbeatIntervalMs,
          requestTimeoutMs: params.requestTimeoutMs,
        },
        signal,
      );
    } catch (err) {
      if (err instanceof GatewayConnectionError || err instanceof GatewayAbortedError) {
        const detail = err instanceof GatewayAbortedError ? `no session within ${options.launchTimeoutMs} ms` : err.message;
        throw new SluiceError('SLUICE_DATASOURCE_UNAVAILABLE', { name: ds.name, detail, engine: ENGINE_NAME });
      }
      const mapped = mapGatewayError(err, { dataSource: ds.name });
      if (mapped.code === 'SLUICE_DATASOURCE_UNAVAILABLE') throw mapped;
      throw new SluiceError('SLUICE_ENGINE_LAUNCH_FAILED', { engine: ENGINE_NAME, reason: `${ds.name}: ${mapped.message}` });
    }
    return new FlinkEngine(spec.engineId, session, rest, params, ds.name, options);
  }

  /** The SQL Gateway session handle (for inspection and tests). */
  get sessionHandle(): string {
    return this.session.handle;
  }

  /** The negotiated REST API version and the gateway's Flink version. */
  get server(): { apiVersion: string; flinkVersion: string } {
    return { apiVersion: this.session.client.version, flinkVersion: this.session.client.info.version };
  }

  async *execute(task: EngineTask): AsyncGenerator<EngineEvent> {
    if (this.closed) throw new SluiceError('SLUICE_ENGINE_CRASHED', { engine: ENGINE_NAME, reason: 'the engine was closed' });
    if (this.session.lost) throw new SluiceError('SLUICE_ENGINE_CRASHED', { engine: ENGINE_NAME, reason: this.session.lost });
    if (task.signal.aborted) throw new SluiceError('SLUICE_JOB_CANCELLED');
    const runtime = parseFlinkRuntimeParams(task.runtimeParams);
    const controller = new AbortController();
    const onAbort = () => controller.abort(task.signal.reason);
    task.signal.addEventListener('abort', onAbort, { once: true });
    this.running.add(controller);
    const statements = splitStatements(task.code);
    let ctx: ErrorContext = { dataSource: this.dataSource };
    try {
      if (statements.length === 0) {
        yield { type: 'log', line: 'The code holds no statement; nothing ran.' };
        return;
      }
      for (const [index, statement] of statements.entries()) {
        ctx = { dataSource: this.dataSource, statement: index + 1, statementLine: statement.line, statementColumn: statement.column };
        yield* this.runStatement(statement, index, statements.length, runtime, controller.signal);
      }
    } catch (err) {
      throw this.taskError(err, controller.signal, ctx);
    } finally {
      task.signal.removeEventListener('abort', onAbort);
      this.running.delete(controller);
    }
  }

  private taskError(err: unknown, signal: AbortSignal, ctx: ErrorContext): SluiceError {
    if (signal.aborted && (err instanceof GatewayAbortedError || !(err instanceof SluiceError))) {
      if (signal.reason === CLOSED) return new SluiceError('SLUICE_ENGINE_CRASHED', { engine: ENGINE_NAME, reason: 'the engine was closed' });
      return new SluiceError('SLUICE_JOB_CANCELLED');
    }
    if (this.session.noteError(err) || this.session.lost) {
      return new SluiceError('SLUICE_ENGINE_CRASHED', { engine: ENGINE_NAME, reason: this.session.lost ?? 'the session is gone' });
    }
    return mapGatewayError(err, ctx);
  }

  private async *runStatement(
    statement: ScriptStatement,
    index: number,
    total: number,
    runtime: FlinkRuntimeParams,
    signal: AbortSignal,
  ): AsyncGenerator<EngineEvent> {
    yield { type: 'log', line: total > 1 ? `Statement ${index + 1} of ${total}: ${preview(statement.sql)}` : `Statement: ${preview(statement.sql)}` };
    const started = Date.now();
    if (routeOf(statement) === 'configure') {
      await this.session.configure(statement.sql, signal);
      const how = this.session.client.hasConfigureSession ? 'configure-session' : `a statement: API ${this.session.client.version} has no configure-session`;
      yield { type: 'log', line: `OK (${how}) in ${Date.now() - started} ms` };
    } else {
      const client = this.session.client;
      // A job id chosen here: a statement abandoned before the gateway reports its job can still be found.
      const executionConfig = { [FIXED_JOB_ID]: randomBytes(16).toString('hex'), ...(runtime.executionConfig ?? {}) };
      const operation = await client.executeStatement(this.session.handle, statement.sql, { executionConfig, signal });
      let jobId: string | undefined;
      // undefined while reading, and still undefined when the consumer stopped reading this task early
      // (e.g. the engine manager's own result limit): that abandons the statement too.
      let outcome: 'done' | 'stopped' | 'failed' | undefined;
      try {
        const read = yield* this.readResults(operation, runtime, signal, started);
        jobId = read.jobId;
        outcome = read.stopped ? 'stopped' : 'done';
      } catch (err) {
        outcome = 'failed';
        throw err;
      } finally {
        // Closing alone does not stop a query whose job is still starting: an abandoned one is cancelled.
        const abandoned = signal.aborted || outcome === undefined || outcome === 'stopped';
        const preset = executionConfig[FIXED_JOB_ID];
        if (abandoned && this.rest && preset && /^[0-9a-f]{32}$/.test(preset)) this.abandon(operation, preset, this.rest);
        else await this.closeOperation(operation, abandoned || outcome === 'failed');
      }
      if (jobId !== undefined) yield* this.followSubmittedJob(jobId, runtime, signal, index, total);
    }
    if (changesConfig(statement)) await this.session.refreshConfig(signal);
    yield { type: 'progress', progress: (index + 1) / total };
  }

  /**
   * Stops an abandoned statement in the background, so that the task ends at once: waits until its
   * job's tasks run (or it ended, or will never be submitted), then cancels and closes the operation,
   * which cancels the job. A job not seen by then is swept for, should it appear only later.
   */
  private abandon(operation: string, jobId: string, rest: ClusterRestClient): void {
    const client = this.session.client;
    const handle = this.session.handle;
    let finishedSince: number | undefined;
    const mayAppear = async (): Promise<boolean> => {
      const status = await client.operationStatus(handle, operation, AbortSignal.timeout(2000));
      // A query's operation finishes once its job is submitted: the job is then on its way.
      if (status === 'FINISHED') {
        finishedSince ??= Date.now();
        return Date.now() - finishedSince < SUBMITTED_JOB_GRACE_MS;
      }
      return status === 'INITIALIZED' || status === 'PENDING' || status === 'RUNNING';
    };
    const stopping = (async () => {
      const outcome = await untilTasksRun(rest, jobId, { waitMs: this.options.queryStartWaitMs, pollIntervalMs: 100, mayAppear });
      await this.closeOperation(operation, true);
      // A job the cluster knew is stopped by closing its operation; only one not seen yet is swept for.
      if (outcome !== 'running' && outcome !== 'ended') void sweepJob(rest, jobId, ABANDONED_JOB_WINDOW_MS).catch(() => undefined);
    })()
      .catch(() => undefined)
      .finally(() => this.abandoning.delete(stopping));
    this.abandoning.add(stopping);
  }

  /** Frees an operation; one that was abandoned is cancelled first. A query's job stops with it. */
  private async closeOperation(operation: string, abandoned: boolean): Promise<void> {
    const client = this.session.client;
    const signal = AbortSignal.timeout(Math.min(this.options.cancelWaitMs, OPERATION_CLOSE_BUDGET_MS));
    if (abandoned) await client.cancelOperation(this.session.handle, operation, signal).catch(() => undefined);
    await client.closeOperation(this.session.handle, operation, signal).catch(() => undefined);
  }

  /**
   * Reads an operation's results to EOS, or until the row cap or time cap (`stopped`). Returns the
   * Flink job id of a submitted DML statement (INSERT, STATEMENT SET, CREATE TABLE AS), which the
   * caller follows.
   */
  private async *readResults(
    operation: string,
    runtime: FlinkRuntimeParams,
    signal: AbortSignal,
    started: number,
  ): AsyncGenerator<EngineEvent, { jobId?: string; stopped: boolean }> {
    const client = this.session.client;
    const deadline = new AbortController();
    const timer = runtime.maxSeconds === undefined ? undefined : setTimeout(() => deadline.abort(DEADLINE), runtime.maxSeconds * 1000);
    const readSignal = AbortSignal.any([signal, deadline.signal]);
    let mode: 'unknown' | 'query' | 'content' | 'dml' | 'ok' = 'unknown';
    let withKind = false;
    let rowCount = 0;
    let stopped: string | undefined;
    let jobId: string | undefined;
    try {
      for await (const page of resultPages(client, client.firstResultUri(this.session.handle, operation), readSignal)) {
        if (mode === 'unknown') {
          jobId = page.jobId;
          if (page.jobId && page.isQueryResult === false) mode = 'dml';
          else if (page.isQueryResult === true || (page.isQueryResult === undefined && page.resultKind === undefined)) mode = 'query';
          else if (page.resultKind === 'SUCCESS') mode = 'ok';
          else mode = 'content';
          if (mode === 'query' && jobId) yield { type: 'log', line: `Flink job ${jobId} runs the query` };
          if (mode !== 'ok') {
            withKind = mode === 'query' && this.rowKindColumn(runtime);
            const columns: Column[] = (page.columns ?? []).map((c) => ({
              name: c.name,
              type: formatLogicalType(c.logicalType),
              ...(c.logicalType.nullable === undefined ? {} : { nullable: c.logicalType.nullable }),
            }));
            yield { type: 'resultSet', columns: withKind ? [ROW_KIND_COLUMN, ...columns] : columns };
          }
        }
        if (mode === 'ok' || page.rows.length === 0) continue;
        let rows: Row[] = page.rows.map((r) => (withKind ? [r.kind, ...r.fields] : r.fields));
        if (mode === 'query' && rowCount + rows.length >= runtime.maxRows) {
          rows = rows.slice(0, runtime.maxRows - rowCount);
          stopped = `the row cap (maxRows ${runtime.maxRows}) was reached`;
        }
        rowCount += rows.length;
        if (rows.length > 0) yield { type: 'rows', rows };
        if (stopped) break;
      }
    } catch (err) {
      if (!(deadline.signal.aborted && !signal.aborted && err instanceof GatewayAbortedError)) throw err;
      stopped = `maxSeconds ${runtime.maxSeconds} passed`;
    } finally {
      clearTimeout(timer);
    }
    const took = `in ${Date.now() - started} ms`;
    if (mode === 'ok') yield { type: 'log', line: `OK ${took}` };
    else if (mode === 'dml') {
      yield { type: 'log', line: `Flink job ${jobId} submitted ${took}` };
      return { jobId, stopped: false };
    } else if (stopped) {
      yield { type: 'log', line: `${rowCount} rows; ${stopped}, so the query was stopped${jobId ? ` and Flink job ${jobId} cancelled` : ''}` };
    } else yield { type: 'log', line: `${rowCount} rows ${took}` };
    return { stopped: stopped !== undefined };
  }

  private rowKindColumn(runtime: FlinkRuntimeParams): boolean {
    if (runtime.rowKind === 'always') return true;
    if (runtime.rowKind === 'never') return false;
    return this.session.runtimeMode !== 'batch';
  }

  /**
   * Follows a submitted job until it ends (unless the task is detached or the data source names no
   * REST API); cancelling the task or closing the engine cancels the job.
   */
  private async *followSubmittedJob(
    jobId: string,
    runtime: FlinkRuntimeParams,
    signal: AbortSignal,
    index: number,
    total: number,
  ): AsyncGenerator<EngineEvent> {
    if (runtime.detach || !this.rest) {
      const why = runtime.detach ? 'the task is detached (runtimeParams.detach)' : `data source ${this.dataSource} names no restUrl`;
      yield { type: 'log', line: `Flink job ${jobId} keeps running on the cluster; it is not followed because ${why}` };
      return;
    }
    const rest = this.rest;
    yield { type: 'log', line: `Following Flink job ${jobId} on ${rest.http.baseUrl}` };
    this.followed.add(jobId);
    try {
      yield* followJob(rest, jobId, {
        signal,
        pollIntervalMs: this.params.jobPollIntervalMs,
        lostAfterMs: Math.max(60_000, this.params.requestTimeoutMs * 2),
        progressBase: index / total,
        progressSpan: 1 / total,
        dataSource: this.dataSource,
      });
    } catch (err) {
      if (!signal.aborted) throw err;
      const state = await cancelJob(rest, jobId, this.options.cancelWaitMs);
      yield { type: 'log', line: state ? `Flink job ${jobId} cancelled: ${state}` : `Flink job ${jobId}: cancel requested, but the REST API did not answer` };
      const details = { flinkJobId: jobId, flinkJobState: state ?? null };
      if (signal.reason === CLOSED) throw new SluiceError('SLUICE_ENGINE_CRASHED', { engine: ENGINE_NAME, reason: 'the engine was closed', ...details });
      throw new SluiceError('SLUICE_JOB_CANCELLED', details);
    } finally {
      this.followed.delete(jobId);
    }
  }

  async health(): Promise<EngineHealth> {
    if (this.closed) return { ok: false, detail: 'the engine was closed' };
    if (this.session.lost) return { ok: false, detail: this.session.lost };
    try {
      await this.session.check(this.options.healthTimeoutMs);
      const { apiVersion, flinkVersion } = this.server;
      return { ok: true, detail: `${this.dataSource}: Flink ${flinkVersion}, SQL Gateway API ${apiVersion}` };
    } catch (err) {
      return { ok: false, detail: `${this.dataSource}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const controller of this.running) controller.abort(CLOSED);
    // Followed INSERT jobs would outlive the session; a retry elsewhere must not find them running.
    const rest = this.rest;
    if (rest) await Promise.allSettled([...this.followed].map((jobId) => cancelJob(rest, jobId, this.options.cancelWaitMs)));
    // Closing the session closes its operations, which cancels their jobs: the abandoned queries'
    // jobs must be running first (see abandon()).
    const drainUntil = Date.now() + CLOSE_DRAIN_MS;
    while (this.running.size > 0 && Date.now() < drainUntil) await sleep(20);
    await Promise.allSettled([...this.abandoning]);
    await this.session.close();
  }

  /** Called once if the gateway loses the session on its own (expiry, restart); never for close(). */
  onExit(listener: (reason: string) => void): void {
    this.exitListeners.push(listener);
  }
}
