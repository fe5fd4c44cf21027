import type { DataSourceConnection, EngineConnector, EngineLaunchSpec } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { FlinkEngine } from './flink-engine.ts';
import { createMetadataBrowser } from './metadata-browser.ts';

/**
 * The engine version label. It names the Flink major line the connector targets, not a gateway
 * API version: the API (v1–v4) is negotiated with each gateway.
 */
export const FLINK_ENGINE_VERSION = '2';

/** The data-source type of Flink SQL Gateways. */
export const FLINK_DATASOURCE_TYPE = 'flink-sql-gateway';

/** Options of {@link createFlinkConnector}; all optional. */
export interface FlinkConnectorOptions {
  /**
   * The data source of engines whose launch names none: an operator-configured default gateway
   * (e.g. for a deployment without the data-source service). Jobs never supply connection details.
   */
  dataSource?: DataSourceConnection;
  /** How long launch() may take to reach the gateway and open the session (default 30000 ms). */
  launchTimeoutMs?: number;
  /** How long health() waits for the gateway (default 5000 ms). */
  healthTimeoutMs?: number;
  /** How long a cancel waits for the operation to close and a followed Flink job to stop (default 4000 ms). */
  cancelWaitMs?: number;
  /**
   * How long the cancel of an abandoned query waits for its job's tasks to run before it cancels all
   * the same (default 20000 ms): Flink 2.x's TaskManager can exit on a query cancelled while its
   * tasks start (FLINK-39330). The task itself ends at once; close() waits.
   */
  queryStartWaitMs?: number;
}

/**
 * The `flink` connector: engines are SQL Gateway sessions (data sources of type
 * `flink-sql-gateway`), one per (user, data source), running Flink SQL in batch or streaming mode.
 * Code types: `sql` and `flinksql`.
 */
export function createFlinkConnector(options: FlinkConnectorOptions = {}): EngineConnector {
  const engineOptions = {
    launchTimeoutMs: options.launchTimeoutMs ?? 30_000,
    healthTimeoutMs: options.healthTimeoutMs ?? 5_000,
    cancelWaitMs: options.cancelWaitMs ?? 4_000,
    queryStartWaitMs: options.queryStartWaitMs ?? 20_000,
  };
  return {
    name: 'flink',
    versions: [FLINK_ENGINE_VERSION],
    defaultVersion: FLINK_ENGINE_VERSION,
    codeTypes: ['sql', 'flinksql'],
    dataSourceTypes: [FLINK_DATASOURCE_TYPE],
    metadata: createMetadataBrowser(),
    async launch(spec: EngineLaunchSpec) {
      if (spec.version !== FLINK_ENGINE_VERSION) throw new SluiceError('SLUICE_JOB_ENGINE_UNKNOWN', { engineType: `flink-${spec.version}` });
      const ds = spec.dataSource ?? options.dataSource;
      if (!ds)
        throw new SluiceError('SLUICE_REQUEST_INVALID', {
          summary: `a flink job needs a data source (the dataSource field) naming a ${FLINK_DATASOURCE_TYPE}`,
        });
      if (ds.type !== FLINK_DATASOURCE_TYPE) {
        throw new SluiceError('SLUICE_REQUEST_INVALID', {
          summary: `data source ${ds.name} is of type ${ds.type}; the flink engine needs a ${FLINK_DATASOURCE_TYPE}`,
        });
      }
      return FlinkEngine.launch(spec, ds, engineOptions);
    },
  };
}
