import { SluiceError } from '@sluice/core';
import { redactText } from './redact.ts';

/** Why a connection could not be opened, as the connection test reports it. */
export type ConnectFailureReason = 'unreachable' | 'auth_failed' | 'timeout' | 'tls' | 'error';

/**
 * A connection that could not be opened. Drivers classify their own errors into this; `transient`
 * marks server states worth retrying (too many connections, starting up).
 */
export class ConnectFailure extends Error {
  constructor(
    readonly reason: ConnectFailureReason,
    readonly detail: string,
    readonly options: { transient?: boolean; sqlState?: string } = {},
  ) {
    super(`${reason}: ${detail}`);
    this.name = 'ConnectFailure';
  }
}

/** A statement the database rejected: the user's fault. */
export class StatementFailure extends Error {
  constructor(
    message: string,
    readonly sqlState?: string,
    readonly errorCode?: string | number,
  ) {
    super(message);
    this.name = 'StatementFailure';
  }
}

/** The running statement was cancelled on the server. */
export class StatementCancelled extends Error {
  constructor(message = 'the statement was cancelled') {
    super(message);
    this.name = 'StatementCancelled';
  }
}

/** The session's connection broke (server restart, killed session, network). */
export class SessionLost extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SessionLost';
  }
}

/** Says which data source failed, for error details. */
export interface FailureContext {
  /** Data-source name. */
  name: string;
  /** Data-source type, e.g. `postgresql`. */
  type: string;
  /** Secret values to keep out of every message. */
  secrets: readonly string[];
}

/** A connection-test failure: SLUICE_DATASOURCE_TEST_FAILED {name, reason, detail}. */
export function testFailedError(ctx: FailureContext, failure: ConnectFailure): SluiceError {
  return new SluiceError('SLUICE_DATASOURCE_TEST_FAILED', {
    name: ctx.name,
    reason: failure.reason,
    detail: redactText(failure.detail, ctx.secrets),
    ...(failure.options.sqlState ? { sqlState: failure.options.sqlState } : {}),
  });
}

/**
 * A failure to open an engine's session. An unreachable server, a time-out or a transient server
 * state is SLUICE_DATASOURCE_UNAVAILABLE (retryable: another attempt may succeed). Bad credentials,
 * a TLS mismatch or an unknown database are the data source's fault and will not heal by retrying:
 * SLUICE_DATASOURCE_TEST_FAILED with the same reasons as the connection test (a user error).
 */
export function launchError(ctx: FailureContext, failure: ConnectFailure): SluiceError {
  const detail = redactText(failure.detail, ctx.secrets);
  if (failure.reason === 'unreachable' || failure.reason === 'timeout' || failure.options.transient) {
    return new SluiceError('SLUICE_DATASOURCE_UNAVAILABLE', { name: ctx.name, reason: failure.reason, detail });
  }
  return testFailedError(ctx, failure);
}

/** A statement error: SLUICE_ENGINE_QUERY_FAILED {engine, reason, sqlState?} (a user error). */
export function queryFailedError(ctx: FailureContext, failure: StatementFailure): SluiceError {
  return new SluiceError('SLUICE_ENGINE_QUERY_FAILED', {
    engine: ctx.type,
    reason: redactText(failure.message, ctx.secrets),
    dataSource: ctx.name,
    ...(failure.sqlState ? { sqlState: failure.sqlState } : {}),
    ...(failure.errorCode !== undefined ? { errorCode: failure.errorCode } : {}),
  });
}

/** The message of anything thrown, without a stack. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) {
    // AggregateError (e.g. a refused connect to every address of a host) hides its parts.
    if (!err.message && err instanceof AggregateError) return err.errors.map(messageOf).join('; ');
    return err.message || err.name;
  }
  return String(err);
}

/** The `code` property Node and the drivers put on errors (ECONNREFUSED, 28P01…), if any. */
export function errorCodeOf(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') return String(code);
  }
  if (err instanceof AggregateError) {
    for (const part of err.errors) {
      const code = errorCodeOf(part);
      if (code) return code;
    }
  }
  return undefined;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EADDRNOTAVAIL',
  'ECONNRESET',
  'EPIPE',
]);
const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|EPROTO$|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_|CERT_|HOSTNAME_MISMATCH$)/;

/** Classifies socket-level errors shared by every driver; undefined when the error is not one. */
export function classifyNetworkError(err: unknown): ConnectFailure | undefined {
  const code = errorCodeOf(err);
  const cause = err instanceof Error && err.cause ? errorCodeOf(err.cause) : undefined;
  for (const c of [code, cause]) {
    if (!c) continue;
    if (UNREACHABLE_CODES.has(c)) return new ConnectFailure('unreachable', `${c}: ${messageOf(err instanceof Error && err.cause ? err.cause : err)}`);
    if (c === 'ETIMEDOUT' || c === 'UND_ERR_CONNECT_TIMEOUT') return new ConnectFailure('timeout', messageOf(err));
    if (TLS_CODE.test(c)) return new ConnectFailure('tls', `${c}: ${messageOf(err instanceof Error && err.cause ? err.cause : err)}`);
  }
  return undefined;
}
