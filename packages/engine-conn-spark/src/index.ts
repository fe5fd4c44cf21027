/**
 * @sluice/engine-conn-spark — Spark engines the way Linkis launches them: a Spark driver running the
 * Spark Connect server per user (or per share level), reused and reaped by the engine manager; SQL over Spark Connect
 * (gRPC, with protocol stubs generated at build time from the published Spark Connect jar) with Arrow results; PySpark and jar
 * batch applications through spark-submit.
 */
export { compileReader, type DecodedBatches, decimalText, decodeArrowBatches, type JsonValue } from './arrow-rows.ts';
export { BatchRun, type BatchSpec, batchArgs, JAR_CODE_TYPE, PYTHON_CODE_TYPES, resolveBatchFile } from './batch-run.ts';
export { ConnectClient, type ConnectClientOptions, type ExecutePlanResponse, type PlanExecution } from './connect-client.ts';
export { type ConnectProtocol, findConnectJar, loadConnectProtocol, sparkJarsDir } from './connect-protos.ts';
export { CONNECT_SERVER_CLASS, DriverProcess, type DriverSpec } from './driver-process.ts';
export { DriverWatchdog } from './driver-watchdog.ts';
export { errorInfoOf, type GrpcFailure, mapConnectError, type SparkErrorInfo } from './error-mapping.ts';
export { freePort } from './free-port.ts';
export type * as SparkConnect from './generated/spark-connect.ts';
export { GENERATED_PROTOCOL } from './generated/spark-connect.ts';
export {
  ALLOWED_CONF_PREFIXES,
  checkConf,
  DEFAULT_SPARK_QUOTA,
  DENIED_CONF_KEYS,
  type DriverSettings,
  isAllowedConfKey,
  isLocalMaster,
  memoryMb,
  resolveDriverSettings,
  SparkConfSchema,
  type SparkQuota,
  type SparkStartupParams,
  SparkStartupParamsSchema,
} from './launch-params.ts';
export { LINE_HIGH_WATER, LineQueue } from './line-queue.ts';
export { checkServerVersion, type ProtocolMatch, protocolMatch } from './protocol-guard.ts';
export {
  isSharedLevel,
  parseShareLevel,
  SHARE_LEVEL_PARAM,
  SPARK_SHARE_LEVELS,
  type SparkShareLevel,
  shareGroupOf,
  shareLevelOf,
  sparkShare,
} from './share-level.ts';
export { type SparkConfig, sparkOptionsFromConfig } from './spark-config.ts';
export { createSparkConnector, SPARK_VERSION, type SparkConnectorOptions } from './spark-connector.ts';
export { type BatchSupport, SPARK_CODE_TYPES, SparkEngine, type SparkEngineSettings } from './spark-engine.ts';
export { resolveInstall, type SparkInstall, type SparkInstallOptions } from './spark-install.ts';
export { parseConnectUrl, parseSparkDataSource, type SparkSource, sparkParamsSchema, sparkSecretFields } from './spark-params.ts';
export { type ConnectDataType, columnsOf, sparkTypeName } from './spark-types.ts';
export { splitSparkSql } from './sql-statements.ts';
export { runSqlTask, type SqlTaskContext, stageProgress, taskConf, taskTag } from './sql-task.ts';
export { CONNECT_SERVER_LOGGER, confArgs, localDriverConf, log4jProperties, prepareDirs, type SubmitDirs, submitEnv } from './submit-env.ts';
export { dateText, dayTimeIntervalText, timestampText, yearMonthIntervalText } from './temporal-text.ts';
export { readZipEntries, zipEntries } from './zip-entries.ts';
