import type { QueryError } from './query-results.ts';

/** Which protocol step failed: the POST of the statement, a GET of `nextUri`, or a server probe. */
export type ProtocolPhase = 'submit' | 'fetch' | 'info';

/** The server ran the query and reports it failed (`error` in the last response). */
export class TrinoQueryError extends Error {
  readonly queryId: string;
  readonly error: QueryError;

  constructor(queryId: string, error: QueryError) {
    super(error.message);
    this.name = 'TrinoQueryError';
    this.queryId = queryId;
    this.error = error;
  }
}

/** The server (or a proxy) answered with an HTTP status the protocol does not continue after. */
export class TrinoHttpError extends Error {
  readonly status: number;
  readonly phase: ProtocolPhase;
  readonly queryId?: string;
  /** How many times the request was repeated before giving up (retryable statuses only). */
  readonly retries: number;

  constructor(status: number, phase: ProtocolPhase, detail: string, queryId?: string, retries = 0) {
    super(`HTTP ${status} on ${phase}${detail ? `: ${detail}` : ''}`);
    this.name = 'TrinoHttpError';
    this.status = status;
    this.phase = phase;
    this.queryId = queryId;
    this.retries = retries;
  }
}

/** No usable answer at all: no connection, a reset, a timeout or a TLS failure. */
export class TrinoConnectionError extends Error {
  readonly phase: ProtocolPhase;
  /** Node's error code, e.g. ECONNREFUSED, ETIMEDOUT, CERT_HAS_EXPIRED. */
  readonly code: string;
  /** False when the request provably never reached the server. */
  readonly sent: boolean;
  /** True for certificate and TLS handshake failures. */
  readonly tls: boolean;
  readonly queryId?: string;

  constructor(phase: ProtocolPhase, code: string, message: string, sent: boolean, tls: boolean, queryId?: string) {
    super(message);
    this.name = 'TrinoConnectionError';
    this.phase = phase;
    this.code = code;
    this.sent = sent;
    this.tls = tls;
    this.queryId = queryId;
  }
}

/** The server answered 200 with something that is not a protocol response. */
export class TrinoProtocolError extends Error {
  readonly phase: ProtocolPhase;

  constructor(phase: ProtocolPhase, message: string) {
    super(message);
    this.name = 'TrinoProtocolError';
    this.phase = phase;
  }
}

/** The query was abandoned because its signal was aborted; it has been cancelled on the server. */
export class TrinoAbortedError extends Error {
  readonly queryId?: string;
  /** The abort reason of the signal. */
  readonly reason: unknown;

  constructor(reason: unknown, queryId?: string) {
    super('the query was cancelled');
    this.name = 'TrinoAbortedError';
    this.reason = reason;
    this.queryId = queryId;
  }
}
