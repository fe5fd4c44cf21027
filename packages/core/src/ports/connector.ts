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
}

export interface EngineLaunchSpec {
  engineId: string;
  user: string;
  version: string;
  /** A private directory for this engine's files. */
  workDir: string;
  /** Start-up parameters from the job that caused the launch. */
  params: Record<string, unknown>;
}

export interface EngineTask {
  taskId: string;
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
