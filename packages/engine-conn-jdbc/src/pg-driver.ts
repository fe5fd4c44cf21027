import type { JdbcDriver } from './jdbc-driver.ts';
import type { PostgresqlParams } from './param-schemas.ts';
import { browsePg, testPg } from './pg-metadata.ts';
import { PgSession } from './pg-session.ts';

/** PostgreSQL through node-postgres. */
export const pgDriver: JdbcDriver<PostgresqlParams> = {
  open: (params) => PgSession.open(params),
  test: (params, timeoutMs) => testPg(params, timeoutMs),
  browse: (params, path, limit, cursor) => browsePg(params, path, limit, cursor),
};
