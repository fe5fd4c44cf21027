import type { Column, Row } from '../job.ts';

/**
 * The engine connector port. One package per engine implements it; every implementation passes the
 * shared contract suite against its real engine.
 *
 * An *engine* is a long-lived resource owned by one engine manager (a child process, or a session on
 * a remote cluster). It runs *tasks*: one job attempt each.
 */
export interface EngineConnector {
  /** Engine name, the first part of the `engineType` label, e.g. `duckdb`. */
  readonly name: string;
  readonly versions: readonly string[];
  readonly defaultVersion: string;
  /** Code types it runs; the first is the default. */
  readonly codeTypes: readonly string[];
  /** Starts an engine. Rejects with SLUICE_ENGINE_LAUNCH_FAILED when it cannot. */
  launch(spec: EngineLaunchSpec): Promise<Engine>;
  /** Data-source types this connector serves (e.g. `postgresql`, `trino`); empty for local engines. */
  readonly dataSourceTypes?: readonly string[];
  /** Connection test and metadata browse of a data source, for connectors that reach external systems. */
  readonly metadata?: MetadataBrowser;
  /**
   * Which jobs may share an engine (share levels). Absent: one engine per user. Throws a SluiceError
   * (e.g. SLUICE_REQUEST_INVALID) when the job asks for a share it may not have.
   */
  shareFor?(job: EngineShareRequest): EngineShare;
}

/** What a connector sees of a job when it decides who shares its engine. */
export interface EngineShareRequest {
  /** The submitting user. */
  user: string;
  /** The job's start-up params. */
  params: Record<string, unknown>;
  /** The job's labels, with `creator`. */
  labels: Record<string, string>;
}

/** Who shares an engine: the pool reuses an engine only for jobs of the same engine type, data source and key. */
export interface EngineShare {
  /** Jobs with equal keys may share an engine. */
  key: string;
  /**
   * The identity the engine belongs to: its registry user, the one SLUICE_MAX_ENGINES_PER_USER counts
   * it against, and `user` of its launch. The submitting user for a per-user engine.
   */
  owner: string;
  /** A fresh engine for this job alone, stopped afterwards, as with `executeOnce`. */
  fresh: boolean;
}

/**
 * A data source as a connector receives it: the published version's parameters, secrets decrypted.
 * It exists only in memory of the engine manager; it is never logged, persisted or returned.
 */
export interface DataSourceConnection {
  /** Registered name, e.g. `orders_pg`. */
  name: string;
  /** Type from the data-source types registry, e.g. `postgresql`, `trino`. */
  type: string;
  /** Published version number. */
  version: number;
  params: Record<string, unknown>;
  /** Which params are secrets, so anything that prints or logs can redact them. */
  secretFields: readonly string[];
}

/** Where a browse request points: the level to list and the parents it lists under. */
export type BrowsePath =
  | { level: 'catalogs' }
  | { level: 'schemas'; catalog: string }
  | { level: 'tables'; catalog: string; schema: string }
  | { level: 'columns'; catalog: string; schema: string; table: string };

/** One entry of a browse page. Columns carry their type, nullability and comment. */
export interface BrowseItem {
  name: string;
  kind: 'catalog' | 'schema' | 'table' | 'view' | 'column';
  type?: string;
  nullable?: boolean;
  comment?: string | null;
}

export interface BrowsePage {
  items: BrowseItem[];
  /** Opaque; pass it back to get the next page. Null on the last page. */
  nextCursor: string | null;
}

/** Connection test and metadata browse through a connector, for one data source at a time. */
export interface MetadataBrowser {
  /**
   * Connects and runs a trivial probe within `timeoutMs`. Rejects with SLUICE_DATASOURCE_TEST_FAILED
   * whose details.reason is one of unreachable, auth_failed, timeout, tls, error.
   */
  testConnection(ds: DataSourceConnection, timeoutMs: number): Promise<{ ok: true; serverVersion?: string; latencyMs: number }>;
  /** Lists one level, paged; sources without catalogs (e.g. MySQL) report one catalog named after the database. */
  browse(ds: DataSourceConnection, path: BrowsePath, page: { cursor?: string; limit: number }): Promise<BrowsePage>;
}

export interface EngineLaunchSpec {
  engineId: string;
  user: string;
  version: string;
  /** A private directory for this engine's files. */
  workDir: string;
  /** Start-up parameters from the job that caused the launch. */
  params: Record<string, unknown>;
  /** The data source the engine connects to, for connectors of external systems. */
  dataSource?: DataSourceConnection;
  /** Labels of the job that caused the launch (creator, scheduler run ids…), e.g. for client tags. */
  labels?: Record<string, string>;
}

export interface EngineTask {
  taskId: string;
  /** The submitting user; on an engine shared beyond one user it differs from the launch's user. */
  user?: string;
  code: string;
  codeType: string;
  runtimeParams: Record<string, unknown>;
  /** Aborting it cancels the task; execute() must then end promptly with SLUICE_JOB_CANCELLED. */
  signal: AbortSignal;
}

/**
 * Events of one task, pulled by the engine manager. Pulling is the backpressure: a connector must not
 * read further from its engine than the manager has consumed.
 */
export type EngineEvent =
  | { type: 'log'; line: string }
  | { type: 'progress'; progress: number; info?: Record<string, unknown> }
  | { type: 'resultSet'; columns: Column[] }
  | { type: 'rows'; rows: Row[] };

export interface EngineHealth {
  ok: boolean;
  detail?: string;
}

export interface Engine {
  readonly id: string;
  /** OS process id when the engine is a local process. */
  readonly pid?: number;
  /** Runs a task. The iterator ends on success and throws a SluiceError on failure. */
  execute(task: EngineTask): AsyncIterable<EngineEvent>;
  health(): Promise<EngineHealth>;
  /** Stops the engine and frees everything it holds. Safe to call twice. */
  close(): Promise<void>;
  /** Called once if the engine dies on its own (not through close()). */
  onExit(listener: (reason: string) => void): void;
}

/**
 * Rows as PostgreSQL DataRow messages in text format, back to back, exactly as a PostgreSQL server sent
 * them: what a JDBC engine on PostgreSQL can hand the pgwire front door to copy instead of re-encoding.
 */
export interface WireRows {
  /** Consecutive DataRow messages (type byte, length, values). */
  chunks: Buffer[];
  /** How many messages the chunks hold. */
  rows: number;
}

/** An event of a task run for wire rows: rows of the current result set as DataRow messages. */
export interface WireRowsEvent {
  type: 'wireRows';
  wire: WireRows;
}

/**
 * An optional engine capability: run a task handing rows over as {@link WireRows} whenever `accept`
 * says the result set's columns may go so (as ordinary `rows` events otherwise).
 */
export interface WireRowsEngine {
  executeWire(task: EngineTask, accept: (columns: Column[]) => boolean): AsyncIterable<EngineEvent | WireRowsEvent>;
}

/** True when the engine offers {@link WireRowsEngine.executeWire}. */
export function offersWireRows(engine: unknown): engine is WireRowsEngine {
  return typeof (engine as Partial<WireRowsEngine> | undefined)?.executeWire === 'function';
}

/**
 * An optional engine capability: a hint that `task` is likely the next task this engine runs. While the
 * job's submit is being written, the engine may do work for it that has no effect of its own (DuckDB
 * parses, binds and plans the statement), so that `execute` of the same task id and code starts
 * further along. The hint is dropped when anything else runs first, when the engine is busy, or when
 * the task never comes; a task runs exactly as it would have without it.
 */
export interface PrepareAheadEngine {
  prepareAhead(task: Pick<EngineTask, 'taskId' | 'code' | 'codeType'>, opts?: PrepareAheadOptions): void;
}

/** What the caller of {@link PrepareAheadEngine.prepareAhead} allows beyond preparing. */
export interface PrepareAheadOptions {
  /**
   * The engine may also run the task ahead when its statement has no effect of its own (for DuckDB: a
   * single SELECT that calls nothing that changes state), holding the results until `execute` of the
   * same task id and code adopts them (ADR 16). A run nobody adopts is dropped, so the statement may
   * run once more, or not at all: the caller allows this only when that is invisible, i.e. never for a
   * job whose submit may be a retry of another.
   */
  mayRun?: boolean;
}

/** True when the engine offers {@link PrepareAheadEngine.prepareAhead}. */
export function offersPrepareAhead(engine: unknown): engine is PrepareAheadEngine {
  return typeof (engine as Partial<PrepareAheadEngine> | undefined)?.prepareAhead === 'function';
}

/**
 * A PostgreSQL session handed whole to a client of the same protocol (pgwire's relay, ADR 17): the
 * client's messages go to the server as bytes and the server's come back as bytes. The holder owns
 * the session until {@link close}; nothing else runs on it meanwhile.
 */
export interface WireRelay {
  /** Sends protocol messages to the server. False when the socket's buffer is full: wait for `onDrain`. */
  write(bytes: Buffer): boolean;
  /** The server's bytes as they arrive: whole messages or parts of them. */
  onData(listener: (chunk: Buffer) => void): void;
  onDrain(listener: () => void): void;
  /** Called once if the server connection breaks (not through {@link close}). */
  onLost(listener: (reason: string) => void): void;
  /** Stops reading from the server (the client reads slowly) and starts again. */
  pause(): void;
  resume(): void;
  /** Tells the relay whether the server is working for the client, which is when {@link cancel} acts. */
  setBusy(busy: boolean): void;
  /** Cancels what the server executes now, from a separate connection. */
  cancel(): Promise<void>;
  /** Gives the session back; the engine holding it is not reused. Safe to call twice. */
  close(): Promise<void>;
}

/** An optional engine capability: hand its PostgreSQL session over as a {@link WireRelay}. */
export interface WireRelayEngine {
  /** Undefined when the engine's session is not PostgreSQL. Waits while a task runs. */
  openRelay(signal: AbortSignal): Promise<WireRelay | undefined>;
}

/** True when the engine offers {@link WireRelayEngine.openRelay}. */
export function offersWireRelay(engine: unknown): engine is WireRelayEngine {
  return typeof (engine as Partial<WireRelayEngine> | undefined)?.openRelay === 'function';
}

/** How a relayed statement ended, as its job records it. */
export interface RelayedOutcome {
  state: 'Succeed' | 'Failed' | 'Cancelled';
  /** The server's error (SQLSTATE and message) for a failed statement. */
  error?: { sqlState: string; message: string };
  /** Rows sent to the client. */
  rows: number;
  /** The server's command tag (`SELECT 3`, `INSERT 0 1`). */
  tag?: string;
}

/** A relayed statement's job, begun when the statement goes to the server. */
export interface RelayedStatement {
  readonly jobId: string;
  /** Records the end; the first call counts. */
  end(outcome: RelayedOutcome): void;
}

/** A statement a relay may send: checked and intercepted as a submission is. */
export interface RelayPrepared {
  /** The text to send to the server (interceptors may have changed it). */
  readonly code: string;
  /** Begins the statement's job (a new one each time the statement runs). */
  begin(): RelayedStatement;
}

/** A connection's own PostgreSQL session on a data source, relayed byte for byte (ADR 17). */
export interface InteractiveRelay {
  readonly wire: WireRelay;
  /**
   * Validates a statement, applies the statement policy and the interceptors; throws (or rejects
   * with) a SluiceError when refused. A text prepared a moment ago comes back at once, not as a promise.
   */
  prepare(sql: string): RelayPrepared | Promise<RelayPrepared>;
  /** Ends the relay: open statements end Cancelled, the engine is stopped. Safe to call twice. */
  close(): Promise<void>;
}

/** One statement an interactive session runs on an engine held for it (pgwire's direct path). */
export interface InteractiveStatement {
  readonly jobId: string;
  /** Columns of the statement's first result set; undefined when it returned none. */
  readonly columns: Column[] | undefined;
  /**
   * The next rows of the first result set, at most `limit`: the engine's next batch as it comes (at
   * least one row, unless every row was read: then an empty array). Rows come as DataRow messages
   * when the statement was started for them and its engine could send them so.
   */
  next(limit: number): Promise<Row[] | WireRows>;
  /** True once the statement ended and every row was read. */
  readonly done: boolean;
  /** Log lines so far (a connector reports affected row counts there). */
  readonly logLines: readonly string[];
  /** Stops the statement if it still runs (the client went away or dropped the portal). */
  close(): Promise<void>;
}
