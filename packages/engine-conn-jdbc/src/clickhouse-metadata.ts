import type http from 'node:http';
import type { BrowseItem, BrowsePage, BrowsePath } from '@sluice/core';
import { decodeCursor, toPage } from './browse-cursor.ts';
import { ChServerError, chAgent, chQuote, classifyChConnectError } from './clickhouse-http.ts';
import { chQueryText } from './clickhouse-session.ts';
import { chSqlName, parseChType, unwrapChType } from './clickhouse-types.ts';
import { unescapeCh } from './clickhouse-values.ts';
import { ConnectFailure, StatementFailure } from './db-errors.ts';
import type { ClickhouseParams } from './param-schemas.ts';

/** The data rows of a TabSeparatedWithNamesAndTypes body, fields unescaped. */
function tsvRows(body: string): string[][] {
  const lines = body.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(2).map((line) => line.split('\t').map(unescapeCh));
}

async function withAgent<T>(p: ClickhouseParams, work: (agent: http.Agent) => Promise<T>): Promise<T> {
  const agent = chAgent(p, false);
  try {
    return await work(agent);
  } catch (err) {
    if (err instanceof ChServerError) {
      const failure = classifyChConnectError(err);
      if (failure.reason === 'auth_failed') throw failure;
      throw new StatementFailure(err.message, undefined, err.chCode);
    }
    throw err instanceof ConnectFailure ? err : classifyChConnectError(err);
  } finally {
    agent.destroy();
  }
}

/** Runs `SELECT version()` within `timeoutMs`. */
export async function testClickhouse(p: ClickhouseParams, timeoutMs: number): Promise<{ serverVersion: string }> {
  const agent = chAgent(p, false);
  try {
    const body = await chQueryText(p, agent, 'SELECT version()', timeoutMs);
    return { serverVersion: tsvRows(body)[0]?.[0] ?? '' };
  } catch (err) {
    throw classifyChConnectError(err);
  } finally {
    agent.destroy();
  }
}

/**
 * Lists one level of a ClickHouse server. ClickHouse has no catalogs: there is one, named after the
 * data source's database, and its schemas are the server's databases. Databases and tables page by
 * keyset (`name > key ORDER BY name LIMIT n+1` on system.databases / system.tables); the columns of
 * one table page by position within the table.
 */
export async function browseClickhouse(p: ClickhouseParams, path: BrowsePath, limit: number, cursor: string | undefined): Promise<BrowsePage> {
  const after = decodeCursor(path, cursor);
  const fetch = limit + 1;
  const afterName = typeof after === 'string' ? ` AND name > ${chQuote(after)}` : '';
  switch (path.level) {
    case 'catalogs':
      return { items: after === undefined ? [{ name: p.database, kind: 'catalog' }] : [], nextCursor: null };
    case 'schemas': {
      const rows = await withAgent(p, async (agent) =>
        tsvRows(await chQueryText(p, agent, `SELECT name FROM system.databases WHERE 1${afterName} ORDER BY name LIMIT ${fetch}`)),
      );
      return toPage(
        path,
        rows,
        limit,
        (r): BrowseItem => ({ name: r[0]!, kind: 'schema' }),
        (r) => r[0]!,
      );
    }
    case 'tables': {
      const rows = await withAgent(p, async (agent) =>
        tsvRows(
          await chQueryText(
            p,
            agent,
            `SELECT name, engine FROM system.tables WHERE database = ${chQuote(path.schema)}${afterName} AND NOT is_temporary ORDER BY name LIMIT ${fetch}`,
          ),
        ),
      );
      return toPage(
        path,
        rows,
        limit,
        (r): BrowseItem => ({ name: r[0]!, kind: /View$/.test(r[1] ?? '') ? 'view' : 'table', comment: null }),
        (r) => r[0]!,
      );
    }
    case 'columns': {
      // system.columns lists a table's columns in their order; older servers have no position column.
      const all = await withAgent(p, async (agent) =>
        tsvRows(
          await chQueryText(
            p,
            agent,
            `SELECT name, type, comment FROM system.columns WHERE database = ${chQuote(path.schema)} AND table = ${chQuote(path.table)}`,
          ),
        ),
      );
      const from = typeof after === 'number' ? after : 0;
      const rows = all.slice(from, from + fetch).map((r, i) => ({ r, position: from + i + 1 }));
      return toPage(
        path,
        rows,
        limit,
        ({ r }): BrowseItem => {
          const type = parseChType(r[1]!);
          return { name: r[0]!, kind: 'column', type: chSqlName(type), nullable: unwrapChType(type).nullable, comment: r[2] ? r[2] : null };
        },
        ({ position }) => position,
      );
    }
  }
}
