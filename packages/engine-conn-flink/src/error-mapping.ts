import { SluiceError } from '@sluice/core';
import { clusterUnavailable, errorPosition, GatewayConnectionError, GatewayHttpError, GatewayProtocolError } from './gateway-errors.ts';

/** The connector's engine name in error details. */
export const ENGINE_NAME = 'flink';

/** Who the error is reported for: the data source, and the statement it happened in. */
export interface ErrorContext {
  dataSource: string;
  /** 1-based index of the statement in the task's script. */
  statement?: number;
  /** Where the statement starts in the script, to translate Flink's positions into the script's. */
  statementLine?: number;
  statementColumn?: number;
}

/**
 * Maps a gateway or cluster failure to the Sluice error a client sees:
 *
 * - No connection, a timeout, HTTP 502/503/504 (a proxy or a gateway that is starting), or a
 *   statement whose server-side cause chain shows the Flink cluster could not be reached or had no
 *   slots: SLUICE_DATASOURCE_UNAVAILABLE, retryable.
 * - A statement the server rejected (SQL parse or validation errors, unsupported statements,
 *   missing tables, failed jobs): SLUICE_ENGINE_QUERY_FAILED, a user error that keeps Flink's own
 *   message (e.g. `ValidationException: SQL validation failed. From line 1, column 15 …`), with the
 *   line and column translated into the task's script.
 * - 401/403 from a proxy: SLUICE_ENGINE_QUERY_FAILED naming the data source's credentials.
 *
 * Messages come from Flink or from Node's network layer; credentials only travel in the
 * Authorization header and never appear in them.
 */
export function mapGatewayError(err: unknown, ctx: ErrorContext): SluiceError {
  if (err instanceof SluiceError) return err;
  const statement = ctx.statement === undefined ? {} : { statement: ctx.statement };
  if (err instanceof GatewayConnectionError) {
    return new SluiceError('SLUICE_DATASOURCE_UNAVAILABLE', { name: ctx.dataSource, detail: err.message, engine: ENGINE_NAME, code: err.code, ...statement });
  }
  if (err instanceof GatewayHttpError) {
    const common = { engine: ENGINE_NAME, status: err.status, ...statement };
    if (err.status === 502 || err.status === 503 || err.status === 504 || clusterUnavailable(err.causes)) {
      return new SluiceError('SLUICE_DATASOURCE_UNAVAILABLE', { name: ctx.dataSource, detail: err.reason, ...common });
    }
    if (err.status === 401 || err.status === 403) {
      return new SluiceError('SLUICE_ENGINE_QUERY_FAILED', {
        reason: `the server refused the credentials of data source ${ctx.dataSource} (HTTP ${err.status})`,
        ...common,
      });
    }
    const reason = err.reason;
    const pos = errorPosition(reason);
    const position =
      pos && ctx.statementLine !== undefined
        ? { line: ctx.statementLine + pos.line - 1, column: pos.line === 1 ? (ctx.statementColumn ?? 1) + pos.column - 1 : pos.column }
        : {};
    return new SluiceError('SLUICE_ENGINE_QUERY_FAILED', {
      reason,
      errorClass: err.causes.find((c) => c.message && reason.includes(c.message))?.className ?? null,
      ...position,
      ...common,
    });
  }
  if (err instanceof GatewayProtocolError) {
    return new SluiceError('SLUICE_ENGINE_QUERY_FAILED', {
      engine: ENGINE_NAME,
      reason: `unexpected answer from the SQL Gateway: ${err.message}`,
      ...statement,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new SluiceError('SLUICE_INTERNAL', { engine: ENGINE_NAME, reason: message }, `${ENGINE_NAME} connector: ${message}`);
}
