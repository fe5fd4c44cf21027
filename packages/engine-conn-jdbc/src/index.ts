/**
 * @sluice/engine-conn-jdbc — SQL sessions on PostgreSQL, MySQL/MariaDB and ClickHouse data sources:
 * streamed typed results, server-side cancel, connection test and paged metadata browse.
 */

export type { WireRowsEvent } from '@sluice/core';
export { createJdbcConnector, JDBC_VERSION, type JdbcConnector, type JdbcConnectorOptions } from './jdbc-connector.ts';
export { JdbcEngine } from './jdbc-engine.ts';
export { createJdbcMetadataBrowser } from './jdbc-metadata.ts';
export {
  type ClickhouseParams,
  clickhouseParamsSchema,
  isJdbcDataSourceType,
  JDBC_DATASOURCE_TYPES,
  type JdbcDataSourceType,
  jdbcParamsSchemas,
  jdbcSecretFields,
  type MysqlParams,
  mysqlParamsSchema,
  type PostgresqlParams,
  postgresqlParamsSchema,
} from './param-schemas.ts';
export type { WireRows } from './pg-datarow-tap.ts';
export { REDACTED, redactText } from './redact.ts';
