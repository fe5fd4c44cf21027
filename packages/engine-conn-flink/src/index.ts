/**
 * @sluice/engine-conn-flink — Flink SQL through the Flink SQL Gateway REST API: a typed client
 * (v1–v4), sessions per user and data source, bounded and streaming queries with changelog rows,
 * and INSERT jobs followed on the cluster's REST API.
 */
export { type ClusterOverview, ClusterRestClient, FINAL_JOB_STATES, type FlinkJobInfo, type FlinkJobState, firstCauseLine } from './cluster-rest-client.ts';
export { ENGINE_NAME, type ErrorContext, mapGatewayError } from './error-mapping.ts';
export { createFlinkConnector, FLINK_DATASOURCE_TYPE, FLINK_ENGINE_VERSION, type FlinkConnectorOptions } from './flink-connector.ts';
export { FIXED_JOB_ID, FlinkEngine, type FlinkEngineOptions, ROW_KIND_COLUMN } from './flink-engine.ts';
export {
  authorizationHeader,
  type FlinkParams,
  type FlinkRuntimeParams,
  type FlinkStartupParams,
  flinkParamsSchema,
  flinkRuntimeParamsSchema,
  flinkSecretFields,
  flinkStartupParamsSchema,
  gatewayUrlOf,
  parseFlinkParams,
  parseFlinkRuntimeParams,
  parseFlinkStartupParams,
  quoteIdentifier,
} from './flink-params.ts';
export { API_VERSIONS, type ApiVersion, type GatewayInfo, negotiateVersion, type OperationStatus, SqlGatewayClient } from './gateway-client.ts';
export {
  clusterUnavailable,
  errorPosition,
  GatewayAbortedError,
  GatewayConnectionError,
  GatewayHttpError,
  GatewayProtocolError,
  parseServerCauses,
  type ServerCause,
  summarizeCauses,
} from './gateway-errors.ts';
export { GatewaySession, type SessionSpec } from './gateway-session.ts';
export { cancelJob, type FollowOptions, followJob, type SettleOptions, type SettleOutcome, sweepJob, untilTasksRun } from './job-follower.ts';
export { decodeValue, type FlinkColumn, formatLogicalType, type LogicalType } from './logical-type.ts';
export { JsonNumber, JsonSyntaxError, parseLosslessJson, plainDecimal, plainJson } from './lossless-json.ts';
export { createMetadataBrowser } from './metadata-browser.ts';
export { RestHttp, type RestHttpOptions, type RestRequest } from './rest-http.ts';
export { type ChangelogRow, decodeResultPage, type ResultKind, type ResultPage, type ResultType, type RowKind, rowKindOf } from './result-page.ts';
export { DEFAULT_BACKOFF, type PollBackoff, resultPages } from './result-stream.ts';
export { changesConfig, routeOf, type ScriptStatement, type StatementRoute, splitStatements } from './sql-splitter.ts';
