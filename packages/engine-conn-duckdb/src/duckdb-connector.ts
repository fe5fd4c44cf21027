import type { EngineConnector, EngineLaunchSpec } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { DuckdbEngine, type DuckdbEngineOptions } from './duckdb-engine.ts';

/** Options of {@link createDuckdbConnector}; all optional. */
export interface DuckdbConnectorOptions {
  /** DuckDB configuration options applied to every database, e.g. `{ enable_external_access: 'false' }`. */
  settings?: Record<string, string>;
  /** How long a worker may take to open its database (default 30000 ms). */
  launchTimeoutMs?: number;
  /** How long close() waits for a graceful exit before SIGKILL (default 2000 ms). */
  closeGraceMs?: number;
  /** How long a cancelled task may take to stop before its worker is killed (default 3000 ms). */
  cancelGraceMs?: number;
  /** How long health() waits for the worker's answer (default 5000 ms). */
  healthTimeoutMs?: number;
  /** How often DuckDB's query progress is sampled (default 500 ms). */
  progressIntervalMs?: number;
  /** Most rows in one `rows` event (default 2048). */
  batchRows?: number;
  /** About the most bytes in one `rows` event (default 1 MiB). */
  batchBytes?: number;
}

/** The DuckDB version line this connector ships (major.minor of @duckdb/node-api). */
export const DUCKDB_VERSION = '1.5';

/** Creates the `duckdb` connector: each engine is a worker process with its own DuckDB database. */
export function createDuckdbConnector(options: DuckdbConnectorOptions = {}): EngineConnector {
  const resolved: DuckdbEngineOptions = {
    settings: options.settings ?? {},
    launchTimeoutMs: options.launchTimeoutMs ?? 30_000,
    closeGraceMs: options.closeGraceMs ?? 2_000,
    cancelGraceMs: options.cancelGraceMs ?? 3_000,
    healthTimeoutMs: options.healthTimeoutMs ?? 5_000,
    progressIntervalMs: options.progressIntervalMs ?? 500,
    batchRows: options.batchRows ?? 2048,
    batchBytes: options.batchBytes ?? 1024 * 1024,
  };
  const versions = [DUCKDB_VERSION] as const;
  return {
    name: 'duckdb',
    versions,
    defaultVersion: DUCKDB_VERSION,
    codeTypes: ['sql'],
    async launch(spec: EngineLaunchSpec) {
      if (!versions.includes(spec.version as typeof DUCKDB_VERSION)) {
        throw new SluiceError('SLUICE_JOB_ENGINE_UNKNOWN', { engineType: `duckdb-${spec.version}` });
      }
      return DuckdbEngine.launch(spec, resolved);
    },
  };
}
