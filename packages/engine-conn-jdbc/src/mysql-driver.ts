import type { JdbcDriver } from './jdbc-driver.ts';
import { browseMysql, testMysql } from './mysql-metadata.ts';
import { MysqlSession } from './mysql-session.ts';
import type { MysqlParams } from './param-schemas.ts';

/** MySQL and MariaDB through mysql2. */
export const mysqlDriver: JdbcDriver<MysqlParams> = {
  open: (params) => MysqlSession.open(params),
  test: (params, timeoutMs) => testMysql(params, timeoutMs),
  browse: (params, path, limit, cursor) => browseMysql(params, path, limit, cursor),
};
