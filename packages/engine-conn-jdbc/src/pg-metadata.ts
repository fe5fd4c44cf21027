import type { BrowseItem, BrowsePage, BrowsePath } from '@sluice/core';
import type pg from 'pg';
import { type BrowseKey, decodeCursor, toPage } from './browse-cursor.ts';
import type { PostgresqlParams } from './param-schemas.ts';
import { connectPg, pgClientConfig } from './pg-connect.ts';
import { upperSqlName } from './pg-types.ts';

/** Connects, probes with `SELECT version()`, and reports the server version. */
export async function testPg(params: PostgresqlParams, timeoutMs: number): Promise<{ serverVersion: string }> {
  const client = await connectPg(pgClientConfig(params), timeoutMs);
  try {
    const answer = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return { serverVersion: answer.rows[0]?.v ?? '' };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function withClient<T>(params: PostgresqlParams, database: string | undefined, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectPg(pgClientConfig(params, database), params.connectTimeoutMs);
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface NameRow {
  name: string;
  kind?: string;
  comment?: string | null;
}

interface ColumnRow {
  name: string;
  num: number;
  type: string;
  notnull: boolean;
  comment: string | null;
}

/**
 * Lists one level of a PostgreSQL server with keyset paging: databases (catalogs), schemas, tables
 * and views, columns. Each page is one indexed range scan of the system catalogs from the last key
 * of the previous page (`name > $key ORDER BY name LIMIT n+1`), so page 100 of 10,000 tables costs
 * what page 1 costs. Schemas, tables and columns are read in the catalog's own database.
 */
export async function browsePg(params: PostgresqlParams, path: BrowsePath, limit: number, cursor: string | undefined): Promise<BrowsePage> {
  const after = decodeCursor(path, cursor);
  const fetch = limit + 1;
  switch (path.level) {
    case 'catalogs': {
      const rows = await withClient(params, undefined, async (c) => {
        const r = await c.query<NameRow>(
          `SELECT datname AS name FROM pg_catalog.pg_database
            WHERE datallowconn AND NOT datistemplate AND ($1::text IS NULL OR datname > $1::name)
            ORDER BY datname LIMIT $2`,
          [after ?? null, fetch],
        );
        return r.rows;
      });
      return toPage(
        path,
        rows,
        limit,
        (r): BrowseItem => ({ name: r.name, kind: 'catalog' }),
        (r): BrowseKey => r.name,
      );
    }
    case 'schemas': {
      const rows = await withClient(params, path.catalog, async (c) => {
        const r = await c.query<NameRow>(
          `SELECT n.nspname AS name, pg_catalog.obj_description(n.oid, 'pg_namespace') AS comment
             FROM pg_catalog.pg_namespace n
            WHERE n.nspname !~ '^pg_(toast|temp_|toast_temp_)' AND ($1::text IS NULL OR n.nspname > $1::name)
            ORDER BY n.nspname LIMIT $2`,
          [after ?? null, fetch],
        );
        return r.rows;
      });
      return toPage(
        path,
        rows,
        limit,
        (r): BrowseItem => ({ name: r.name, kind: 'schema', comment: r.comment ?? null }),
        (r): BrowseKey => r.name,
      );
    }
    case 'tables': {
      const rows = await withClient(params, path.catalog, async (c) => {
        const r = await c.query<NameRow>(
          `SELECT cl.relname AS name, cl.relkind::text AS kind, pg_catalog.obj_description(cl.oid, 'pg_class') AS comment
             FROM pg_catalog.pg_class cl
            WHERE cl.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $1)
              AND cl.relkind IN ('r', 'p', 'v', 'm', 'f')
              AND ($2::text IS NULL OR cl.relname > $2::name)
            ORDER BY cl.relname LIMIT $3`,
          [path.schema, after ?? null, fetch],
        );
        return r.rows;
      });
      return toPage(
        path,
        rows,
        limit,
        (r): BrowseItem => ({ name: r.name, kind: r.kind === 'v' || r.kind === 'm' ? 'view' : 'table', comment: r.comment ?? null }),
        (r): BrowseKey => r.name,
      );
    }
    case 'columns': {
      const rows = await withClient(params, path.catalog, async (c) => {
        const r = await c.query<ColumnRow>(
          `SELECT a.attname AS name, a.attnum::int AS num, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
                  a.attnotnull AS notnull, pg_catalog.col_description(a.attrelid, a.attnum) AS comment
             FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = (SELECT cl.oid FROM pg_catalog.pg_class cl JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace
                                 WHERE n.nspname = $1 AND cl.relname = $2)
              AND a.attnum > 0 AND NOT a.attisdropped AND a.attnum > $3
            ORDER BY a.attnum LIMIT $4`,
          [path.schema, path.table, typeof after === 'number' ? after : 0, fetch],
        );
        return r.rows;
      });
      return toPage(
        path,
        rows,
        limit,
        (r): BrowseItem => ({ name: r.name, kind: 'column', type: upperSqlName(r.type), nullable: !r.notnull, comment: r.comment ?? null }),
        (r): BrowseKey => r.num,
      );
    }
  }
}
