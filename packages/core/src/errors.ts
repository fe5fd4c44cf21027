/**
 * The one registry of Sluice error codes. Every error a client can see has a code here, an HTTP
 * status, a category and a message template. `docs/errors.md` lists them all and a test fails when
 * a code is undocumented.
 */

/** Who is at fault: a user error is never retried and never looks like a server fault. */
export type ErrorCategory = 'user' | 'auth' | 'engine' | 'system';

export interface ErrorSpec {
  readonly status: number;
  readonly category: ErrorCategory;
  /** Template with `{name}` placeholders filled from `details`. */
  readonly message: string;
  /** Whether the engine manager may retry the job on another engine after this error. */
  readonly retryable?: boolean;
}

export const ERROR_CODES = {
  SLUICE_REQUEST_INVALID: { status: 400, category: 'user', message: 'The request is invalid: {summary}' },
  SLUICE_REQUEST_MALFORMED_JSON: { status: 400, category: 'user', message: 'The request body is not valid JSON' },
  SLUICE_REQUEST_TOO_LARGE: { status: 413, category: 'user', message: 'The request body is larger than {limit} bytes' },
  SLUICE_ROUTE_NOT_FOUND: { status: 404, category: 'user', message: 'No route {method} {url}' },
  SLUICE_AUTH_MISSING: { status: 401, category: 'auth', message: 'Authentication required: send Authorization: Bearer <token>' },
  SLUICE_AUTH_INVALID: { status: 401, category: 'auth', message: 'The token is invalid, expired or revoked' },
  SLUICE_AUTH_FORBIDDEN: { status: 403, category: 'auth', message: 'You are not allowed to {action}' },
  SLUICE_JOB_NOT_FOUND: { status: 404, category: 'user', message: 'Job {jobId} does not exist' },
  SLUICE_JOB_CODE_TOO_LARGE: { status: 413, category: 'user', message: 'The code is {size} bytes, more than the limit of {limit} bytes' },
  SLUICE_JOB_ENGINE_UNKNOWN: { status: 400, category: 'user', message: 'Unknown engine type "{engineType}"' },
  SLUICE_JOB_CODE_TYPE_UNSUPPORTED: { status: 400, category: 'user', message: 'Engine {engine} does not run code of type "{codeType}"' },
  SLUICE_JOB_LABEL_INVALID: { status: 400, category: 'user', message: 'Invalid label {label}: {reason}' },
  SLUICE_JOB_VARIABLE_INVALID: { status: 400, category: 'user', message: 'Invalid variable {name}: {reason}' },
  SLUICE_JOB_STATEMENT_DENIED: { status: 403, category: 'user', message: 'The statement is denied by policy "{pattern}"' },
  SLUICE_JOB_IDEMPOTENCY_CONFLICT: { status: 409, category: 'user', message: 'Idempotency-Key {key} was already used for a different request' },
  SLUICE_JOB_ALREADY_FINAL: { status: 409, category: 'user', message: 'Job {jobId} has already finished as {state}' },
  SLUICE_JOB_CANCELLED: { status: 409, category: 'user', message: 'The job was cancelled' },
  SLUICE_JOB_QUEUE_TIMEOUT: { status: 408, category: 'user', message: 'The job waited more than {seconds} s in the queue' },
  SLUICE_JOB_RUN_TIMEOUT: { status: 408, category: 'user', message: 'The job ran longer than {seconds} s' },
  SLUICE_JOB_RETRIES_EXHAUSTED: { status: 500, category: 'engine', message: 'The job failed after {attempts} attempts: {reason}' },
  SLUICE_RESULT_NOT_FOUND: { status: 404, category: 'user', message: 'Job {jobId} has no result set {index}' },
  SLUICE_RESULT_INCOMPLETE: { status: 409, category: 'user', message: 'Result set {index} of job {jobId} was dropped before it was complete' },
  SLUICE_RESULT_ROW_LIMIT: { status: 413, category: 'user', message: 'The result exceeds the limit of {limit} rows' },
  SLUICE_RESULT_BYTE_LIMIT: { status: 413, category: 'user', message: 'The result exceeds the limit of {limit} bytes' },
  SLUICE_ENGINE_QUERY_FAILED: { status: 400, category: 'user', message: '{engine}: {reason}' },
  SLUICE_ENGINE_SCRIPT_FAILED: { status: 400, category: 'user', message: 'The script exited with code {exitCode}' },
  SLUICE_ENGINE_LAUNCH_FAILED: { status: 503, category: 'engine', message: 'Could not start a {engine} engine: {reason}', retryable: true },
  SLUICE_ENGINE_VERSION_UNSUPPORTED: { status: 502, category: 'engine', message: 'The {engine} server cannot be used: {reason}' },
  SLUICE_ENGINE_CRASHED: { status: 503, category: 'engine', message: 'The {engine} engine stopped unexpectedly: {reason}', retryable: true },
  SLUICE_ENGINE_LOST: { status: 503, category: 'engine', message: 'The engine manager running the job stopped answering', retryable: true },
  SLUICE_ENGINE_QUOTA: { status: 429, category: 'user', message: 'User {user} already runs {count} engines, the maximum' },
  SLUICE_DATASOURCE_NOT_FOUND: { status: 404, category: 'user', message: 'Data source {name} does not exist' },
  SLUICE_DATASOURCE_IN_USE: { status: 409, category: 'user', message: 'Data source {name} is used by {jobs} unfinished job(s)' },
  SLUICE_DATASOURCE_EXPIRED: { status: 409, category: 'user', message: 'Data source {name} has expired; no new job may use it' },
  SLUICE_DATASOURCE_UNPUBLISHED: { status: 409, category: 'user', message: 'Data source {name} has no published version' },
  SLUICE_DATASOURCE_TEST_FAILED: { status: 400, category: 'user', message: 'Connection test of {name} failed ({reason}): {detail}' },
  SLUICE_DATASOURCE_UNAVAILABLE: { status: 503, category: 'engine', message: 'Data source {name} cannot be reached: {detail}', retryable: true },
  SLUICE_WS_MESSAGE_INVALID: { status: 400, category: 'user', message: 'Invalid WebSocket message: {summary}' },
  SLUICE_RATE_LIMITED: { status: 429, category: 'user', message: 'Too many requests; retry after {retryAfter} s' },
  SLUICE_NOT_READY: { status: 503, category: 'system', message: 'Sluice is not ready: {reason}' },
  SLUICE_CONFIG_INVALID: { status: 500, category: 'system', message: 'Invalid configuration {setting}: {reason}' },
  SLUICE_INTERNAL: { status: 500, category: 'system', message: 'Internal error; see the server log for request {requestId}' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The wire shape of every error Sluice returns. */
export interface ErrorBody {
  code: ErrorCode | string;
  message: string;
  details: Record<string, unknown>;
}

function render(template: string, details: Record<string, unknown>): string {
  return template.replace(/\{(\w+)\}/g, (m, key: string) => (key in details ? String(details[key]) : m));
}

/** An error with a registered code. Throw it anywhere; every front door maps it to its protocol. */
export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly status: number;
  readonly category: ErrorCategory;
  readonly retryable: boolean;

  constructor(code: ErrorCode, details: Record<string, unknown> = {}, message?: string) {
    const spec: ErrorSpec = ERROR_CODES[code];
    super(message ?? render(spec.message, details));
    this.name = 'SluiceError';
    this.code = code;
    this.details = details;
    this.status = spec.status;
    this.category = spec.category;
    this.retryable = spec.retryable === true;
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message, details: this.details };
  }

  /** Rebuilds an error that crossed a process boundary as an `ErrorBody`. */
  static fromBody(body: ErrorBody): SluiceError {
    const code = (body.code in ERROR_CODES ? body.code : 'SLUICE_INTERNAL') as ErrorCode;
    return new SluiceError(code, body.details ?? {}, body.message);
  }
}

/** Shorthand constructor used at throw sites. */
export function sluiceError(code: ErrorCode, details: Record<string, unknown> = {}, message?: string): SluiceError {
  return new SluiceError(code, details, message);
}

/** Narrows unknown values thrown by libraries into a SluiceError without losing user errors. */
export function toSluiceError(err: unknown, fallback: ErrorCode = 'SLUICE_INTERNAL'): SluiceError {
  if (err instanceof SluiceError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SluiceError(fallback, { reason: message }, fallback === 'SLUICE_INTERNAL' ? undefined : message);
}
