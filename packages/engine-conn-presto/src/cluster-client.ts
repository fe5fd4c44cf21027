import type { DataSourceConnection } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { HttpTransport } from './http-transport.ts';
import { type HeaderFamily, retryableStatuses } from './protocol-headers.ts';
import { StatementClient } from './statement-client.ts';
import { parseTrinoParams, type TrinoParams } from './trino-params.ts';

/** A data source resolved into a protocol client, plus what sessions on it start from. */
export interface ClusterClient {
  /** The data source's registered name, for error messages. */
  dataSource: string;
  /** Parsed params; they include the secrets, so never log or return them. */
  params: TrinoParams;
  family: HeaderFamily;
  /** Base URL, e.g. `https://trino.example.com:443`. */
  server: string;
  client: StatementClient;
  /** Closes pooled connections. */
  close(): void;
}

/** The `Authorization` header of the params: Basic for user and password, Bearer for a JWT. */
function authorization(params: TrinoParams): string | undefined {
  if (params.password !== undefined) return `Basic ${Buffer.from(`${params.user ?? ''}:${params.password}`, 'utf8').toString('base64')}`;
  if (params.jwt !== undefined) return `Bearer ${params.jwt}`;
  return undefined;
}

/**
 * Builds the protocol client of a data source of one of `types`. The header family is the params'
 * `headerFamily`, else the data source's type. Wrong types and invalid params are configuration
 * faults: SLUICE_REQUEST_INVALID.
 */
export function openClusterClient(ds: DataSourceConnection, types: readonly string[]): ClusterClient {
  if (!types.includes(ds.type)) {
    throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `data source ${ds.name} is of type ${ds.type}; this engine serves ${types.join(', ')}` });
  }
  const params = parseTrinoParams(ds.params, `data source ${ds.name}`);
  const family: HeaderFamily = params.headerFamily ?? (ds.type === 'presto' ? 'presto' : 'trino');
  const port = params.port ?? (params.tls ? 443 : 8080);
  const host = params.host.includes(':') ? `[${params.host}]` : params.host;
  const server = `${params.tls ? 'https' : 'http'}://${host}:${port}`;
  const transport = new HttpTransport({
    tls: params.tls ? { mode: params.tlsMode, ca: params.tlsCa } : undefined,
    connectTimeoutMs: params.connectTimeoutMs,
    // The coordinator long-polls for about a second; a minute of silence means the connection is dead.
    idleTimeoutMs: 60_000,
    compression: params.compression,
  });
  const client = new StatementClient({
    server,
    family,
    transport,
    authorization: authorization(params),
    requestTimeoutMs: params.requestTimeoutMs,
    // A `presto` data source is a PrestoDB server, which documents 503 only; a `trino` one is Trino.
    retryableStatuses: retryableStatuses(ds.type === 'presto' ? 'presto' : 'trino'),
  });
  return { dataSource: ds.name, params, family, server, client, close: () => transport.close() };
}
