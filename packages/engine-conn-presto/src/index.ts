/**
 * @sluice/engine-conn-presto — Trino and Presto clusters as data sources: a typed client of the
 * `/v1/statement` REST protocol, and the `trino` and `presto` engine connectors built on it.
 */
export { type ProtocolPhase, TrinoAbortedError, TrinoConnectionError, TrinoHttpError, TrinoProtocolError, TrinoQueryError } from './client-errors.ts';
export {
  applySessionUpdate,
  type ClientSession,
  collectSessionHeaders,
  emptySessionUpdate,
  type QueryAttribution,
  type SessionUpdate,
  sessionRequestHeaders,
} from './client-session.ts';
export { type ClusterClient, openClusterClient } from './cluster-client.ts';
export { type ErrorContext, mapProtocolError } from './error-mapping.ts';
export { HttpTransport, type HttpTransportOptions, type TlsMode, TransportError } from './http-transport.ts';
export { holdsUnsafeInteger, parseLosslessJson, parseResponseJson } from './lossless-json.ts';
export { createMetadataBrowser } from './metadata-browser.ts';
export { CLIENT_CAPABILITIES, type HeaderFamily, type ProtocolHeaders, protocolHeaders, retryableStatuses } from './protocol-headers.ts';
export { progressOf } from './query-progress.ts';
export type { ErrorLocation, QueryError, QueryResults, QueryWarning, StatementStats } from './query-results.ts';
export { type ScriptStatement, splitStatements } from './sql-splitter.ts';
export { type ExecuteOptions, QueryExecution, type ServerInfo, StatementClient, type StatementClientOptions } from './statement-client.ts';
export { createPrestoConnector, createTrinoConnector, PROTOCOL_VERSION, type TrinoConnectorOptions } from './trino-connector.ts';
export { QUERY_SOURCE, TrinoEngine } from './trino-engine.ts';
export {
  type TrinoParams,
  type TrinoStartupParams,
  trinoParamsSchema,
  trinoSecretFields,
  trinoStartupParamsSchema,
} from './trino-params.ts';
export { columnType, formatType, type ProtocolColumn, type TypeSignature } from './type-signature.ts';
export { compileRowDecoder } from './value-decoder.ts';
