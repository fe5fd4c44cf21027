import type { BrowseItem, BrowsePage, BrowsePath, DataSourceConnection, MetadataBrowser, Row } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { TrinoAbortedError, TrinoConnectionError, TrinoHttpError, TrinoQueryError } from './client-errors.ts';
import type { ClientSession } from './client-session.ts';
import { type ClusterClient, openClusterClient } from './cluster-client.ts';
import { mapProtocolError } from './error-mapping.ts';
import { QUERY_SOURCE } from './trino-engine.ts';
import { compileRowDecoder } from './value-decoder.ts';

/** Largest page a browse returns, whatever the caller asks for. */
const MAX_PAGE = 1000;

/** Connection failures that mean "nothing answers there". */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'EADDRNOTAVAIL']);

/** A SQL string literal. */
function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A quoted SQL identifier. */
function identifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Display types (`varchar(25)`) in the upper case Sluice column types use, quoted field names kept. */
function sqlType(display: string): string {
  return display.replace(/"(?:[^"]|"")*"|[^"]+/g, (part) => (part.startsWith('"') ? part : part.toUpperCase()));
}

/** Cursors are opaque to callers: base64url JSON of the last key of the previous page. */
function encodeCursor(after: string | number): string {
  return Buffer.from(JSON.stringify({ a: after }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string | undefined): string | number | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { a?: unknown };
    if (typeof parsed.a === 'string' || typeof parsed.a === 'number') return parsed.a;
  } catch {
    // Reported below.
  }
  throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'cursor: not a cursor this browse returned' });
}

/** The session of metadata queries: the data source's own user (no Sluice user is involved). */
function metadataSession(cluster: ClusterClient): ClientSession {
  return { user: cluster.params.user ?? QUERY_SOURCE, source: QUERY_SOURCE, properties: {}, roles: {}, preparedStatements: {}, clientTags: [] };
}

/** Runs a small query to its end and returns its rows, decoded like task results. */
async function collect(cluster: ClusterClient, sql: string, signal?: AbortSignal): Promise<Row[]> {
  const rows: Row[] = [];
  let decode: ((rows: Row[]) => void) | null | undefined;
  for await (const page of cluster.client.execute(sql, metadataSession(cluster), { signal })) {
    if (decode === undefined && page.columns) decode = compileRowDecoder(page.columns);
    if (page.data && page.data.length > 0) {
      decode?.(page.data as Row[]);
      for (const row of page.data) rows.push(row);
    }
  }
  return rows;
}

/** The SLUICE_DATASOURCE_TEST_FAILED of a failed probe, with a reason a UI can act on. */
function testFailure(err: unknown, name: string, timedOut: boolean): SluiceError {
  const fail = (reason: 'unreachable' | 'auth_failed' | 'timeout' | 'tls' | 'error', detail: string) =>
    new SluiceError('SLUICE_DATASOURCE_TEST_FAILED', { name, reason, detail });
  if (err instanceof SluiceError && err.code === 'SLUICE_DATASOURCE_TEST_FAILED') return err;
  if (timedOut || err instanceof TrinoAbortedError) return fail('timeout', 'no answer within the time allowed');
  if (err instanceof TrinoConnectionError) {
    if (err.tls) return fail('tls', err.message);
    if (err.code === 'ETIMEDOUT') return fail('timeout', err.message);
    if (UNREACHABLE.has(err.code)) return fail('unreachable', err.message);
    return fail('error', err.message);
  }
  if (err instanceof TrinoHttpError) {
    if (err.status === 401 || err.status === 403) return fail('auth_failed', `the cluster refused the credentials (HTTP ${err.status})`);
    return fail('error', err.message);
  }
  if (err instanceof TrinoQueryError) {
    if (err.error.errorName === 'PERMISSION_DENIED') return fail('auth_failed', err.message);
    return fail('error', `${err.error.errorName}: ${err.message}`);
  }
  return fail('error', err instanceof Error ? err.message : String(err));
}

/** One browse row as an item of its level. */
function browseItem(level: BrowsePath['level'], row: Row): BrowseItem {
  if (level === 'catalogs') return { name: String(row[0]), kind: 'catalog' };
  if (level === 'schemas') return { name: String(row[0]), kind: 'schema' };
  if (level === 'tables') return { name: String(row[0]), kind: row[1] === 'VIEW' ? 'view' : 'table' };
  return { name: String(row[0]), kind: 'column', type: sqlType(String(row[1])), nullable: row[2] !== 'NO' };
}

/**
 * Connection test and metadata browse of Trino or Presto data sources of `types`. Both run as the
 * data source's `user` (or `sluice`), with its credentials, one short-lived client per call.
 *
 * Browse lists catalogs (`system.metadata.catalogs`), schemas, tables and views, and columns (the
 * catalog's `information_schema`), in name order (columns in table order), paged by keyset: the
 * cursor carries the last name (or column position) of the page before.
 */
export function createMetadataBrowser(engine: string, types: readonly string[]): MetadataBrowser {
  return {
    async testConnection(ds: DataSourceConnection, timeoutMs: number) {
      const started = Date.now();
      let cluster: ClusterClient;
      try {
        cluster = openClusterClient(ds, types);
      } catch (err) {
        throw new SluiceError('SLUICE_DATASOURCE_TEST_FAILED', { name: ds.name, reason: 'error', detail: err instanceof Error ? err.message : String(err) });
      }
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const info = await cluster.client.serverInfo(signal);
        if (info.starting)
          throw new SluiceError('SLUICE_DATASOURCE_TEST_FAILED', { name: ds.name, reason: 'error', detail: 'the coordinator is still starting' });
        // /v1/info needs no credentials; a query proves they work.
        const rows = await collect(cluster, 'SELECT 1', signal);
        if (rows.length !== 1) throw new Error('the probe query returned no row');
        return { ok: true as const, serverVersion: info.version, latencyMs: Date.now() - started };
      } catch (err) {
        throw testFailure(err, ds.name, signal.aborted);
      } finally {
        cluster.close();
      }
    },

    async browse(ds: DataSourceConnection, path: BrowsePath, page: { cursor?: string; limit: number }): Promise<BrowsePage> {
      const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(page.limit)));
      const after = decodeCursor(page.cursor);
      const cluster = openClusterClient(ds, types);
      try {
        const afterName = typeof after === 'string' ? after : '';
        let sql: string;
        switch (path.level) {
          case 'catalogs':
            sql = `SELECT catalog_name FROM system.metadata.catalogs WHERE catalog_name > ${literal(afterName)} ORDER BY catalog_name LIMIT ${limit + 1}`;
            break;
          case 'schemas':
            sql = `SELECT schema_name FROM ${identifier(path.catalog)}.information_schema.schemata WHERE schema_name > ${literal(afterName)} ORDER BY schema_name LIMIT ${limit + 1}`;
            break;
          case 'tables':
            sql = `SELECT table_name, table_type FROM ${identifier(path.catalog)}.information_schema.tables WHERE table_schema = ${literal(path.schema)} AND table_name > ${literal(afterName)} ORDER BY table_name LIMIT ${limit + 1}`;
            break;
          case 'columns': {
            const afterPosition = typeof after === 'number' ? after : 0;
            sql = `SELECT column_name, data_type, is_nullable, ordinal_position FROM ${identifier(path.catalog)}.information_schema.columns WHERE table_schema = ${literal(path.schema)} AND table_name = ${literal(path.table)} AND ordinal_position > ${afterPosition} ORDER BY ordinal_position LIMIT ${limit + 1}`;
            break;
          }
        }
        const rows = await collect(cluster, sql);
        const more = rows.length > limit;
        const pageRows = more ? rows.slice(0, limit) : rows;
        const items = pageRows.map((row) => browseItem(path.level, row));
        const lastRow = pageRows[pageRows.length - 1];
        const nextCursor = more && lastRow ? encodeCursor(path.level === 'columns' ? Number(lastRow[3]) : String(lastRow[0])) : null;
        return { items, nextCursor };
      } catch (err) {
        throw mapProtocolError(err, { engine, dataSource: ds.name });
      } finally {
        cluster.close();
      }
    },
  };
}
