import { browseClickhouse, testClickhouse } from './clickhouse-metadata.ts';
import { ClickhouseSession } from './clickhouse-session.ts';
import type { JdbcDriver } from './jdbc-driver.ts';
import type { ClickhouseParams } from './param-schemas.ts';

/** ClickHouse through its HTTP interface (node:http, no driver package). */
export const clickhouseDriver: JdbcDriver<ClickhouseParams> = {
  open: (params) => ClickhouseSession.open(params),
  test: (params, timeoutMs) => testClickhouse(params, timeoutMs),
  browse: (params, path, limit, cursor) => browseClickhouse(params, path, limit, cursor),
};
