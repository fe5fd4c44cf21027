import type { DataSourceConnection, EngineConnector, EngineLaunchSpec } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { openClusterClient } from './cluster-client.ts';
import { createMetadataBrowser } from './metadata-browser.ts';
import { TrinoEngine } from './trino-engine.ts';

/**
 * The engine version label. It names the client protocol (v1, the `/v1/statement` REST protocol),
 * not a server release: one connector talks to every server that speaks it.
 */
export const PROTOCOL_VERSION = 'v1';

/** Options of {@link createTrinoConnector} and {@link createPrestoConnector}; all optional. */
export interface TrinoConnectorOptions {
  /**
   * The data source of engines whose launch names none: an operator-configured default cluster
   * (e.g. for a deployment without the data-source service, or a benchmark). Jobs never supply
   * connection details themselves.
   */
  dataSource?: DataSourceConnection;
  /** How long launch() waits for the coordinator's `/v1/info` (default 10000 ms). */
  launchTimeoutMs?: number;
  /** How long health() waits for it (default 5000 ms). */
  healthTimeoutMs?: number;
}

function createConnector(flavor: 'trino' | 'presto', options: TrinoConnectorOptions): EngineConnector {
  const types = [flavor] as const;
  const engineOptions = { engine: flavor, launchTimeoutMs: options.launchTimeoutMs ?? 10_000, healthTimeoutMs: options.healthTimeoutMs ?? 5_000 };
  return {
    name: flavor,
    versions: [PROTOCOL_VERSION],
    defaultVersion: PROTOCOL_VERSION,
    codeTypes: ['sql'],
    dataSourceTypes: types,
    metadata: createMetadataBrowser(flavor, types),
    async launch(spec: EngineLaunchSpec) {
      if (spec.version !== PROTOCOL_VERSION) throw new SluiceError('SLUICE_JOB_ENGINE_UNKNOWN', { engineType: `${flavor}-${spec.version}` });
      const ds = spec.dataSource ?? options.dataSource;
      if (!ds)
        throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `a ${flavor} job needs a data source (the dataSource field) naming a ${flavor} cluster` });
      return TrinoEngine.launch(spec, openClusterClient(ds, types), engineOptions);
    },
  };
}

/**
 * The `trino` connector: engines are client sessions on Trino clusters (data sources of type
 * `trino`), speaking the `X-Trino-*` header family unless the data source says otherwise, and
 * repeating GETs after 502, 503 and 504.
 */
export function createTrinoConnector(options: TrinoConnectorOptions = {}): EngineConnector {
  return createConnector('trino', options);
}

/**
 * The `presto` connector: the same client for data sources of type `presto` (PrestoDB, or Trino
 * before release 351), speaking `X-Presto-*` and repeating GETs only after 503, as PrestoDB documents.
 */
export function createPrestoConnector(options: TrinoConnectorOptions = {}): EngineConnector {
  return createConnector('presto', options);
}
