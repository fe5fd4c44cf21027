import { type BrowsePage, type BrowsePath, type DataSourceConnection, type MetadataBrowser, SluiceError } from '@sluice/core';
import { checkLimit } from './browse-cursor.ts';
import { type ResolvedDataSource, resolveDataSource } from './data-source.ts';
import { ConnectFailure, launchError, messageOf, queryFailedError, StatementFailure, testFailedError } from './db-errors.ts';
import { withDriver } from './jdbc-drivers.ts';
import { redactText } from './redact.ts';

/** Maps what a driver threw while browsing into a SluiceError without secrets. */
function browseError(ds: ResolvedDataSource, err: unknown): SluiceError {
  if (err instanceof SluiceError) return err;
  if (err instanceof ConnectFailure) return launchError(ds, err);
  if (err instanceof StatementFailure) return queryFailedError(ds, err);
  return new SluiceError('SLUICE_DATASOURCE_UNAVAILABLE', { name: ds.name, reason: 'error', detail: redactText(messageOf(err), ds.secrets) });
}

function testError(ds: ResolvedDataSource, err: unknown): SluiceError {
  if (err instanceof SluiceError) return err;
  if (err instanceof ConnectFailure) return testFailedError(ds, err);
  const detail = err instanceof StatementFailure ? err.message : messageOf(err);
  return testFailedError(ds, new ConnectFailure('error', detail));
}

/**
 * Connection test and metadata browse of PostgreSQL, MySQL/MariaDB and ClickHouse data sources. Each
 * call opens its own short-lived connection with the data source's parameters and closes it.
 */
export function createJdbcMetadataBrowser(): MetadataBrowser {
  return {
    async testConnection(source: DataSourceConnection, timeoutMs: number) {
      const ds = resolveDataSource(source);
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
        throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `the connection test time-out must be positive, got ${timeoutMs}` });
      }
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        const probe = withDriver(ds.conn, (driver, params) => driver.test(params, timeoutMs));
        // A probe that loses the race below still settles later: nobody waits for it then.
        probe.catch(() => undefined);
        // The driver honours the time-out while connecting; this bounds the probe as a whole too.
        const { serverVersion } = await Promise.race([
          probe,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new ConnectFailure('timeout', `no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return { ok: true as const, serverVersion, latencyMs: Math.round(performance.now() - started) };
      } catch (err) {
        throw testError(ds, err);
      } finally {
        clearTimeout(timer);
      }
    },

    async browse(source: DataSourceConnection, path: BrowsePath, page: { cursor?: string; limit: number }): Promise<BrowsePage> {
      const ds = resolveDataSource(source);
      const limit = checkLimit(page.limit);
      try {
        return await withDriver(ds.conn, (driver, params) => driver.browse(params, path, limit, page.cursor));
      } catch (err) {
        throw browseError(ds, err);
      }
    },
  };
}
