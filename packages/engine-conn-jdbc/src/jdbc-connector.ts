import { type EngineConnector, type EngineLaunchSpec, type MetadataBrowser, SluiceError } from '@sluice/core';
import { resolveDataSource } from './data-source.ts';
import { ConnectFailure, launchError, messageOf, queryFailedError, StatementFailure } from './db-errors.ts';
import type { DbSession } from './db-session.ts';
import { withDriver } from './jdbc-drivers.ts';
import { JdbcEngine, type JdbcEngineOptions } from './jdbc-engine.ts';
import { createJdbcMetadataBrowser } from './jdbc-metadata.ts';
import { JDBC_DATASOURCE_TYPES, type JdbcDataSourceType } from './param-schemas.ts';
import { redactText } from './redact.ts';

/** Options of {@link createJdbcConnector}; all optional. */
export interface JdbcConnectorOptions {
  /** Most rows in one `rows` event, and in one fetch from the server (default 1000). */
  batchRows?: number;
  /** About the most bytes in one `rows` event; wide rows make fetches smaller (default 1 MiB). */
  batchBytes?: number;
  /** How long health() waits for the server's answer (default 5000 ms). */
  healthTimeoutMs?: number;
}

/** The version label of the JDBC engine (`jdbc-4`, as Linkis names it). */
export const JDBC_VERSION = '4';

/** The JDBC connector: an EngineConnector that also tests and browses its data sources. */
export type JdbcConnector = EngineConnector & { readonly metadata: MetadataBrowser; readonly dataSourceTypes: readonly JdbcDataSourceType[] };

/**
 * Creates the `jdbc` connector (`jdbc-4`, code types `sql` and `jdbc`). Each engine is one database
 * session on the job's data source (PostgreSQL, MySQL/MariaDB or ClickHouse) for one user; it is a
 * remote session, not a local process.
 */
export function createJdbcConnector(options: JdbcConnectorOptions = {}): JdbcConnector {
  const engineOptions: JdbcEngineOptions = {
    batchRows: options.batchRows ?? 1000,
    batchBytes: options.batchBytes ?? 1024 * 1024,
    healthTimeoutMs: options.healthTimeoutMs ?? 5000,
  };
  const versions = [JDBC_VERSION] as const;
  return {
    name: 'jdbc',
    versions,
    defaultVersion: JDBC_VERSION,
    codeTypes: ['sql', 'jdbc'],
    dataSourceTypes: JDBC_DATASOURCE_TYPES,
    metadata: createJdbcMetadataBrowser(),
    async launch(spec: EngineLaunchSpec) {
      if (!versions.includes(spec.version as typeof JDBC_VERSION)) {
        throw new SluiceError('SLUICE_JOB_ENGINE_UNKNOWN', { engineType: `jdbc-${spec.version}` });
      }
      const ds = resolveDataSource(spec.dataSource);
      let session: DbSession;
      try {
        session = await withDriver(ds.conn, (driver, params) => driver.open(params));
      } catch (err) {
        if (err instanceof SluiceError) throw err;
        if (err instanceof ConnectFailure) throw launchError(ds, err);
        if (err instanceof StatementFailure) throw queryFailedError(ds, err);
        throw new SluiceError('SLUICE_ENGINE_LAUNCH_FAILED', { engine: 'jdbc', reason: redactText(messageOf(err), ds.secrets) });
      }
      return new JdbcEngine(spec.engineId, session, ds, engineOptions);
    },
  };
}
