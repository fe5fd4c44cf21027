import type { BrowseItem, BrowsePage, BrowsePath } from '@sluice/core';
import type { Connection } from 'mysql2';
import { decodeCursor, toPage } from './browse-cursor.ts';
import { connectMysql } from './mysql-connect.ts';
import { mysqlQuery } from './mysql-session.ts';
import type { MysqlParams } from './param-schemas.ts';

/** Connects, probes with `SELECT VERSION()`, and reports the server version. */
export async function testMysql(p: MysqlParams, timeoutMs: number): Promise<{ serverVersion: string }> {
  const connection = await connectMysql(p, timeoutMs);
  try {
    const rows = await mysqlQuery(connection, 'SELECT VERSION()');
    return { serverVersion: rows[0]?.[0]?.toString('utf8') ?? '' };
  } finally {
    connection.destroy();
  }
}

async function withConnection<T>(p: MysqlParams, work: (c: Connection) => Promise<T>): Promise<T> {
  const connection = await connectMysql(p, p.connectTimeoutMs);
  try {
    return await work(connection);
  } finally {
    connection.destroy();
  }
}

function text(value: Buffer | null | undefined): string {
  return value ? value.toString('utf8') : '';
}

/** Upper-cases a COLUMN_TYPE outside quotes: `enum('a','B')` → `ENUM('a','B')`, `int(10) unsigned` → `INT(10) UNSIGNED`. */
function upperOutsideQuotes(type: string): string {
  return type.replace(/'(?:''|[^'])*'|[^']+/g, (part) => (part.startsWith("'") ? part : part.toUpperCase()));
}

/**
 * Lists one level of a MySQL/MariaDB server. MySQL has no catalogs: there is one, named after the
 * data source's database (`def` without one), and its schemas are the server's databases. Schemas
 * and tables page by keyset on the binary name (`name > key ORDER BY name LIMIT n+1`) over
 * information_schema with the schema fixed, which lists a directory without opening tables; table
 * comments are then read for the page's tables only. Columns page by ordinal position.
 */
export async function browseMysql(p: MysqlParams, path: BrowsePath, limit: number, cursor: string | undefined): Promise<BrowsePage> {
  const after = decodeCursor(path, cursor);
  const fetch = limit + 1;
  switch (path.level) {
    case 'catalogs':
      return { items: after === undefined ? [{ name: p.database ?? 'def', kind: 'catalog' }] : [], nextCursor: null };
    case 'schemas': {
      const rows = await withConnection(p, (c) =>
        mysqlQuery(
          c,
          `SELECT SCHEMA_NAME FROM information_schema.SCHEMATA
            WHERE ? IS NULL OR CAST(SCHEMA_NAME AS BINARY) > CAST(? AS BINARY)
            ORDER BY CAST(SCHEMA_NAME AS BINARY) LIMIT ?`,
          [after ?? null, after ?? null, fetch],
        ),
      );
      return toPage(
        path,
        rows,
        limit,
        (r): BrowseItem => ({ name: text(r[0]), kind: 'schema' }),
        (r) => text(r[0]),
      );
    }
    case 'tables': {
      const page = await withConnection(p, async (c) => {
        const rows = await mysqlQuery(
          c,
          `SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES
            WHERE TABLE_SCHEMA = ? AND (? IS NULL OR CAST(TABLE_NAME AS BINARY) > CAST(? AS BINARY))
            ORDER BY CAST(TABLE_NAME AS BINARY) LIMIT ?`,
          [path.schema, after ?? null, after ?? null, fetch],
        );
        const names = rows.slice(0, limit).map((r) => text(r[0]));
        const comments = new Map<string, string>();
        if (names.length > 0) {
          // Comments need the table definitions opened: only for the tables of this page.
          const withComments = await mysqlQuery(
            c,
            `SELECT TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (${names.map(() => '?').join(',')})`,
            [path.schema, ...names],
          );
          for (const r of withComments) comments.set(text(r[0]), text(r[1]));
        }
        return { rows, comments };
      });
      return toPage(
        path,
        page.rows,
        limit,
        (r): BrowseItem => {
          const name = text(r[0]);
          const comment = page.comments.get(name);
          return { name, kind: /VIEW/.test(text(r[1])) ? 'view' : 'table', comment: comment ? comment : null };
        },
        (r) => text(r[0]),
      );
    }
    case 'columns': {
      const rows = await withConnection(p, (c) =>
        mysqlQuery(
          c,
          `SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_COMMENT, ORDINAL_POSITION FROM information_schema.COLUMNS
            WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND ORDINAL_POSITION > ?
            ORDER BY ORDINAL_POSITION LIMIT ?`,
          [path.schema, path.table, typeof after === 'number' ? after : 0, fetch],
        ),
      );
      return toPage(
        path,
        rows,
        limit,
        (r): BrowseItem => ({
          name: text(r[0]),
          kind: 'column',
          type: upperOutsideQuotes(text(r[1])),
          nullable: text(r[2]) === 'YES',
          comment: text(r[3]) ? text(r[3]) : null,
        }),
        (r) => Number(text(r[4])),
      );
    }
  }
}
