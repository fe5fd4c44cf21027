import type { BrowseItem, BrowsePage, BrowsePath, DataSourceConnection, MetadataBrowser, Row } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { ClusterRestClient } from './cluster-rest-client.ts';
import { mapGatewayError } from './error-mapping.ts';
import { authorizationHeader, type FlinkParams, gatewayUrlOf, parseFlinkParams, quoteIdentifier } from './flink-params.ts';
import { SqlGatewayClient } from './gateway-client.ts';
import { GatewayAbortedError, GatewayConnectionError, GatewayHttpError } from './gateway-errors.ts';
import { GatewaySession } from './gateway-session.ts';
import { RestHttp } from './rest-http.ts';
import { resultPages } from './result-stream.ts';

/** Largest page a browse returns, whatever the caller asks for. */
const MAX_PAGE = 1000;

/** Connection failures that mean "nothing answers there". */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'EADDRNOTAVAIL']);

function encodeCursor(after: string): string {
  return Buffer.from(JSON.stringify({ a: after }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { a?: unknown };
    if (typeof parsed.a === 'string') return parsed.a;
  } catch {
    // Reported below.
  }
  throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'cursor: not a cursor this browse returned' });
}

/** The SLUICE_DATASOURCE_TEST_FAILED of a failed probe, with a reason a UI can act on. */
function testFailure(err: unknown, name: string, timedOut: boolean): SluiceError {
  const fail = (reason: 'unreachable' | 'auth_failed' | 'timeout' | 'tls' | 'error', detail: string) =>
    new SluiceError('SLUICE_DATASOURCE_TEST_FAILED', { name, reason, detail });
  if (err instanceof SluiceError && err.code === 'SLUICE_DATASOURCE_TEST_FAILED') return err;
  if (timedOut || err instanceof GatewayAbortedError) return fail('timeout', 'no answer within the time allowed');
  if (err instanceof GatewayConnectionError) {
    if (err.tls) return fail('tls', err.message);
    if (err.code === 'ETIMEDOUT') return fail('timeout', err.message);
    if (UNREACHABLE.has(err.code)) return fail('unreachable', err.message);
    return fail('error', err.message);
  }
  if (err instanceof GatewayHttpError && (err.status === 401 || err.status === 403)) {
    return fail('auth_failed', `the server refused the credentials (HTTP ${err.status})`);
  }
  return fail('error', err instanceof Error ? err.message : String(err));
}

/** A short-lived session of the data source's own settings, for metadata statements. */
async function openMetadataSession(params: FlinkParams, signal: AbortSignal): Promise<GatewaySession> {
  const http = new RestHttp({ baseUrl: gatewayUrlOf(params), headers: authorizationHeader(params), timeoutMs: params.requestTimeoutMs });
  const client = await SqlGatewayClient.connect(http, { pinned: params.apiVersion, signal });
  return GatewaySession.open(
    client,
    {
      name: 'sluice:metadata',
      properties: params.sessionProperties,
      initStatements: params.initStatements,
      catalog: params.catalog,
      database: params.database,
      heartbeatIntervalMs: 3_600_000,
      requestTimeoutMs: params.requestTimeoutMs,
    },
    signal,
  );
}

/** Runs one statement in a session and returns every row of its result. */
async function collect(session: GatewaySession, sql: string, signal: AbortSignal): Promise<Row[]> {
  const client = session.client;
  const operation = await client.executeStatement(session.handle, sql, { signal });
  const rows: Row[] = [];
  try {
    for await (const page of resultPages(client, client.firstResultUri(session.handle, operation), signal)) {
      for (const row of page.rows) rows.push(row.fields);
    }
  } finally {
    await client.closeOperation(session.handle, operation, AbortSignal.timeout(5000)).catch(() => undefined);
  }
  return rows;
}

/** Sorted, de-duplicated items after the cursor, one page of them. */
function pageOf(items: BrowseItem[], after: string | undefined, limit: number): BrowsePage {
  const sorted = [...new Map(items.map((i) => [i.name, i])).values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rest = after === undefined ? sorted : sorted.filter((i) => i.name > after);
  const slice = rest.slice(0, limit);
  const last = slice[slice.length - 1];
  return { items: slice, nextCursor: rest.length > limit && last ? encodeCursor(last.name) : null };
}

/**
 * Connection test and metadata browse of `flink-sql-gateway` data sources, each call in a
 * short-lived session with the data source's settings.
 *
 * The test negotiates the API version, opens a session and runs `SELECT 1`-free probes only
 * (`/info`, the session, and `GET /overview` of the cluster's REST API when `restUrl` is set), so it
 * submits no Flink job. Browse lists catalogs (`SHOW CATALOGS`), databases (`SHOW DATABASES FROM`),
 * tables and views (`SHOW TABLES FROM` / `SHOW VIEWS FROM`) in name order, paged by the last name, and
 * columns (`DESCRIBE`) in table order, paged by position.
 */
export function createMetadataBrowser(): MetadataBrowser {
  return {
    async testConnection(ds: DataSourceConnection, timeoutMs: number) {
      const started = Date.now();
      let params: FlinkParams;
      try {
        params = parseFlinkParams(ds.params, `data source ${ds.name}`);
      } catch (err) {
        throw new SluiceError('SLUICE_DATASOURCE_TEST_FAILED', { name: ds.name, reason: 'error', detail: err instanceof Error ? err.message : String(err) });
      }
      const signal = AbortSignal.timeout(timeoutMs);
      let session: GatewaySession | undefined;
      try {
        session = await openMetadataSession(params, signal);
        if (params.restUrl) {
          const rest = new ClusterRestClient(new RestHttp({ baseUrl: params.restUrl, headers: authorizationHeader(params), timeoutMs }));
          const overview = await rest.overview(signal);
          if (overview.taskManagers === 0) {
            throw new SluiceError('SLUICE_DATASOURCE_TEST_FAILED', { name: ds.name, reason: 'error', detail: 'the Flink cluster has no TaskManager' });
          }
        }
        return { ok: true as const, serverVersion: session.client.info.version, latencyMs: Date.now() - started };
      } catch (err) {
        throw testFailure(err, ds.name, signal.aborted);
      } finally {
        await session?.close();
      }
    },

    async browse(ds: DataSourceConnection, path: BrowsePath, page: { cursor?: string; limit: number }): Promise<BrowsePage> {
      const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(page.limit)));
      const after = decodeCursor(page.cursor);
      const params = parseFlinkParams(ds.params, `data source ${ds.name}`);
      const signal = AbortSignal.timeout(params.requestTimeoutMs * 4);
      let session: GatewaySession | undefined;
      try {
        session = await openMetadataSession(params, signal);
        switch (path.level) {
          case 'catalogs': {
            const rows = await collect(session, 'SHOW CATALOGS', signal);
            return pageOf(
              rows.map((r) => ({ name: String(r[0]), kind: 'catalog' as const })),
              after,
              limit,
            );
          }
          case 'schemas': {
            const rows = await collect(session, `SHOW DATABASES FROM ${quoteIdentifier(path.catalog)}`, signal);
            return pageOf(
              rows.map((r) => ({ name: String(r[0]), kind: 'schema' as const })),
              after,
              limit,
            );
          }
          case 'tables': {
            const where = `${quoteIdentifier(path.catalog)}.${quoteIdentifier(path.schema)}`;
            const tables = await collect(session, `SHOW TABLES FROM ${where}`, signal);
            const views = new Set((await collect(session, `SHOW VIEWS FROM ${where}`, signal)).map((r) => String(r[0])));
            return pageOf(
              tables.map((r) => ({ name: String(r[0]), kind: views.has(String(r[0])) ? ('view' as const) : ('table' as const) })),
              after,
              limit,
            );
          }
          case 'columns': {
            const table = `${quoteIdentifier(path.catalog)}.${quoteIdentifier(path.schema)}.${quoteIdentifier(path.table)}`;
            const rows = await collect(session, `DESCRIBE ${table}`, signal);
            // DESCRIBE: name, type, null, key, extras, watermark, comment.
            const items: BrowseItem[] = rows.map((r) => ({
              name: String(r[0]),
              kind: 'column',
              type: String(r[1]),
              nullable: r[2] !== false,
              comment: r[6] === null || r[6] === undefined ? null : String(r[6]),
            }));
            const start = after === undefined ? 0 : Number(after);
            const slice = items.slice(start, start + limit);
            return { items: slice, nextCursor: start + limit < items.length ? encodeCursor(String(start + limit)) : null };
          }
        }
      } catch (err) {
        throw mapGatewayError(err, { dataSource: ds.name });
      } finally {
        await session?.close();
      }
    },
  };
}
