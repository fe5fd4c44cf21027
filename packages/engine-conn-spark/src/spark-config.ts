import type { Config } from '@sluice/core';
import type { SparkConnectorOptions } from './spark-connector.ts';

/** The SLUICE_SPARK_* settings of the configuration schema, as the connector's options. */
export type SparkConfig = Pick<
  Config,
  | 'SLUICE_SPARK_HOME'
  | 'SLUICE_SPARK_JAVA_HOME'
  | 'SLUICE_SPARK_PYTHON'
  | 'SLUICE_SPARK_MASTER'
  | 'SLUICE_SPARK_DRIVER_MEMORY'
  | 'SLUICE_SPARK_MAX_DRIVER_MEMORY_MB'
  | 'SLUICE_SPARK_MAX_DRIVER_CORES'
  | 'SLUICE_SPARK_MAX_EXECUTOR_MEMORY_MB'
  | 'SLUICE_SPARK_MAX_EXECUTOR_CORES'
  | 'SLUICE_SPARK_MAX_EXECUTORS'
  | 'SLUICE_SPARK_CONF'
  | 'SLUICE_SPARK_UI'
  | 'SLUICE_SPARK_LOG_LEVEL'
  | 'SLUICE_SPARK_BATCH_FILE_ROOTS'
  | 'SLUICE_SPARK_LAUNCH_TIMEOUT_SECONDS'
  | 'SLUICE_SPARK_SHARE_LEVEL'
  | 'SLUICE_SPARK_SERVICE_USER'
>;

/**
 * Connector options from the parsed configuration (packages/core/src/config.ts validated every value
 * at start-up, SLUICE_SPARK_CONF included), so the deployment's catalog builds the connector from it.
 */
export function sparkOptionsFromConfig(config: SparkConfig): SparkConnectorOptions {
  return {
    sparkHome: config.SLUICE_SPARK_HOME,
    javaHome: config.SLUICE_SPARK_JAVA_HOME,
    python: config.SLUICE_SPARK_PYTHON,
    defaultMaster: config.SLUICE_SPARK_MASTER,
    defaultDriverMemory: config.SLUICE_SPARK_DRIVER_MEMORY,
    quota: {
      maxDriverMemoryMb: config.SLUICE_SPARK_MAX_DRIVER_MEMORY_MB,
      maxDriverCores: config.SLUICE_SPARK_MAX_DRIVER_CORES,
      maxExecutorMemoryMb: config.SLUICE_SPARK_MAX_EXECUTOR_MEMORY_MB,
      maxExecutorCores: config.SLUICE_SPARK_MAX_EXECUTOR_CORES,
      maxExecutors: config.SLUICE_SPARK_MAX_EXECUTORS,
    },
    conf: JSON.parse(config.SLUICE_SPARK_CONF) as Record<string, string>,
    ui: config.SLUICE_SPARK_UI,
    logLevel: config.SLUICE_SPARK_LOG_LEVEL,
    batchFileRoots: config.SLUICE_SPARK_BATCH_FILE_ROOTS,
    launchTimeoutMs: config.SLUICE_SPARK_LAUNCH_TIMEOUT_SECONDS * 1000,
    shareLevel: config.SLUICE_SPARK_SHARE_LEVEL,
    serviceUser: config.SLUICE_SPARK_SERVICE_USER,
  };
}
