import { clickhouseDriver } from './clickhouse-driver.ts';
import type { JdbcDriver } from './jdbc-driver.ts';
import { mysqlDriver } from './mysql-driver.ts';
import type { ClickhouseParams, JdbcParams, MysqlParams, PostgresqlParams } from './param-schemas.ts';
import { pgDriver } from './pg-driver.ts';

/** The driver of each dialect. */
export interface JdbcDrivers {
  postgresql: JdbcDriver<PostgresqlParams>;
  mysql: JdbcDriver<MysqlParams>;
  clickhouse: JdbcDriver<ClickhouseParams>;
}

/** Every driver this build has. */
export const JDBC_DRIVERS: JdbcDrivers = {
  postgresql: pgDriver,
  mysql: mysqlDriver,
  clickhouse: clickhouseDriver,
};

/** Calls `work` with the driver of a data source and its typed parameters. */
export function withDriver<T>(conn: JdbcParams, work: <P>(driver: JdbcDriver<P>, params: P) => T): T {
  switch (conn.dialect) {
    case 'postgresql':
      return work(JDBC_DRIVERS.postgresql, conn.params);
    case 'mysql':
      return work(JDBC_DRIVERS.mysql, conn.params);
    case 'clickhouse':
      return work(JDBC_DRIVERS.clickhouse, conn.params);
  }
}
