import { SluiceError } from '@sluice/core';
import { TrinoConnectionError, TrinoHttpError, TrinoProtocolError, TrinoQueryError } from './client-errors.ts';

/** Who the error is reported for: the engine name and the data source. */
export interface ErrorContext {
  engine: string;
  dataSource: string;
}

/** Server error types the cluster may recover from; a retry of the job can succeed. */
const RETRYABLE_ERROR_TYPES: ReadonlySet<string> = new Set(['INSUFFICIENT_RESOURCES', 'EXTERNAL']);

function locationDetails(err: TrinoQueryError): { line: number | null; column: number | null } {
  const loc = err.error.errorLocation;
  return { line: loc?.lineNumber ?? null, column: loc?.columnNumber ?? null };
}

/**
 * Maps a protocol failure to the Sluice error a client sees:
 *
 * - A query error of type USER_ERROR is SLUICE_ENGINE_QUERY_FAILED (a user error, never retried).
 *   INSUFFICIENT_RESOURCES and EXTERNAL are SLUICE_DATASOURCE_UNAVAILABLE (retryable: the cluster was
 *   short of memory, or a system behind a connector failed). INTERNAL_ERROR is a server fault that a
 *   rerun would likely hit again: SLUICE_ENGINE_QUERY_FAILED, not retried. Every one keeps errorName,
 *   errorCode, errorType, the line and column, and the query id.
 * - A POST that provably never reached the server (no connection) or that a proxy refused with 503
 *   is SLUICE_DATASOURCE_UNAVAILABLE: nothing ran, so running it again is safe. A POST whose fate is
 *   unknown (the connection broke after sending, 502, 504) is SLUICE_ENGINE_QUERY_FAILED: the statement
 *   may have started, and retrying it could run it twice.
 * - A GET that kept failing retryably (connection or 502/503/504) past the request timeout is
 *   SLUICE_DATASOURCE_UNAVAILABLE. 401/403 (the cluster refused the data source's credentials) and
 *   other statuses are SLUICE_ENGINE_QUERY_FAILED.
 *
 * Messages come from the server or from Node's network layer; neither contains the credentials,
 * which only ever travel in the Authorization header.
 */
export function mapProtocolError(err: unknown, ctx: ErrorContext): SluiceError {
  if (err instanceof SluiceError) return err;
  if (err instanceof TrinoQueryError) {
    const { errorName, errorCode, errorType, sqlState } = err.error;
    const common = { engine: ctx.engine, errorName, errorCode, errorType, sqlState: sqlState ?? null, ...locationDetails(err), queryId: err.queryId };
    if (RETRYABLE_ERROR_TYPES.has(errorType)) {
      return new SluiceError('SLUICE_DATASOURCE_UNAVAILABLE', { name: ctx.dataSource, detail: `${errorName}: ${err.error.message}`, ...common });
    }
    return new SluiceError('SLUICE_ENGINE_QUERY_FAILED', { reason: err.error.message, ...common });
  }
  if (err instanceof TrinoConnectionError) {
    const common = { engine: ctx.engine, code: err.code, phase: err.phase, queryId: err.queryId ?? null };
    if (err.phase === 'submit' && err.sent) {
      return new SluiceError('SLUICE_ENGINE_QUERY_FAILED', {
        reason: `the connection to the cluster broke while the statement was being sent (${err.code}); it may or may not have started, so it is not retried`,
        ...common,
      });
    }
    return new SluiceError('SLUICE_DATASOURCE_UNAVAILABLE', { name: ctx.dataSource, detail: err.message, ...common });
  }
  if (err instanceof TrinoHttpError) {
    const common = { engine: ctx.engine, status: err.status, phase: err.phase, queryId: err.queryId ?? null };
    if (err.status === 401 || err.status === 403) {
      return new SluiceError('SLUICE_ENGINE_QUERY_FAILED', {
        reason: `the cluster refused the credentials of data source ${ctx.dataSource} (HTTP ${err.status})`,
        ...common,
      });
    }
    if (err.phase === 'submit' && err.status === 503) {
      return new SluiceError('SLUICE_DATASOURCE_UNAVAILABLE', { name: ctx.dataSource, detail: err.message, ...common });
    }
    if (err.phase === 'submit' && (err.status === 502 || err.status === 504)) {
      return new SluiceError('SLUICE_ENGINE_QUERY_FAILED', {
        reason: `a proxy answered the statement with HTTP ${err.status}; it may or may not have started, so it is not retried`,
        ...common,
      });
    }
    if (err.phase === 'fetch' && err.retries > 0) {
      return new SluiceError('SLUICE_DATASOURCE_UNAVAILABLE', { name: ctx.dataSource, detail: `${err.message} (after ${err.retries} retries)`, ...common });
    }
    return new SluiceError('SLUICE_ENGINE_QUERY_FAILED', { reason: err.message, ...common });
  }
  if (err instanceof TrinoProtocolError) {
    return new SluiceError('SLUICE_ENGINE_QUERY_FAILED', { engine: ctx.engine, reason: err.message, phase: err.phase });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new SluiceError('SLUICE_INTERNAL', { engine: ctx.engine, reason: message }, `${ctx.engine} connector: ${message}`);
}
