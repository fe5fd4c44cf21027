/** One exception of a server-side cause chain: its class and its message. */
export interface ServerCause {
  /** Fully qualified Java class name, e.g. `org.apache.flink.table.api.ValidationException`. */
  className: string;
  message: string;
}

/** The Flink REST server answered with an error status (`{errors: [...]}` body). */
export class GatewayHttpError extends Error {
  readonly status: number;
  /** The `errors` array of the body: short texts and server-side stack traces. */
  readonly errors: readonly string[];
  /** The exception chain found in the stack traces, outermost first. */
  readonly causes: readonly ServerCause[];
  /** The request, `METHOD /path` (no query string: nothing secret is ever in it anyway). */
  readonly request: string;

  constructor(status: number, errors: readonly string[], request: string) {
    const causes = parseServerCauses(errors);
    super(`${request}: HTTP ${status}: ${summarizeCauses(causes) ?? errors[0] ?? 'no error message'}`);
    this.name = 'GatewayHttpError';
    this.status = status;
    this.errors = errors;
    this.causes = causes;
    this.request = request;
  }

  /** The most telling message of the chain (see {@link summarizeCauses}), or the first error text. */
  get reason(): string {
    return summarizeCauses(this.causes) ?? this.errors[0] ?? `HTTP ${this.status}`;
  }

  /** True when the server says the session does not exist (expired, closed, or the gateway restarted). */
  get sessionGone(): boolean {
    return this.causes.some((c) => /^Session '[^']+' does not exist\.?$/.test(c.message));
  }
}

/** A request failed below HTTP: no connection, a reset, a timeout. */
export class GatewayConnectionError extends Error {
  /** Node's error code (ECONNREFUSED, ENOTFOUND, ECONNRESET, …) or ETIMEDOUT. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'GatewayConnectionError';
    this.code = code;
  }

  /** True for certificate and TLS handshake failures. */
  get tls(): boolean {
    return /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_OSSL_|EPROTO$)/.test(this.code);
  }
}

/** The caller aborted the request (the task was cancelled or the engine closed). */
export class GatewayAbortedError extends Error {
  constructor() {
    super('the request was aborted');
    this.name = 'GatewayAbortedError';
  }
}

/** The server answered something this client does not understand. */
export class GatewayProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewayProtocolError';
  }
}

const HEAD = /^(?:Caused by: )?([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+)(?:: ?([\s\S]*))?$/;

/**
 * Reads the exception chain out of the `errors` of a Flink REST error body: each trace's first line
 * and its `Caused by:` lines, with the message lines that follow each (multi-line messages kept).
 * Stack frames, `... N more` and the `<Exception on server side:` markers are dropped.
 */
export function parseServerCauses(errors: readonly string[]): ServerCause[] {
  const causes: ServerCause[] = [];
  for (const text of errors) {
    let current: ServerCause | undefined;
    for (const raw of text.split('\n')) {
      const line = raw.replace(/\r$/, '');
      if (/^\s+at /.test(line) || /^\s+\.\.\. \d+ more/.test(line) || /^\s*\.\.\. \d+ more/.test(line)) {
        current = undefined;
        continue;
      }
      if (line === '<Exception on server side:' || line === 'End of exception on server side>' || line.startsWith('<Exception on server side:')) {
        current = undefined;
        continue;
      }
      const m = HEAD.exec(line);
      if (m?.[1] && (line.startsWith('Caused by: ') || !current)) {
        current = { className: m[1], message: (m[2] ?? '').trim() };
        causes.push(current);
        continue;
      }
      if (current && line.trim() !== '') current.message = current.message ? `${current.message}\n${line}` : line;
    }
  }
  return causes;
}

/** Exceptions that only wrap the interesting one: the gateway's, the REST layer's, futures'. */
const WRAPPERS = new Set([
  'org.apache.flink.table.gateway.api.utils.SqlGatewayException',
  'org.apache.flink.table.gateway.service.utils.SqlExecutionException',
  'org.apache.flink.runtime.rest.handler.RestHandlerException',
  'org.apache.flink.runtime.rest.util.RestClientException',
  'java.util.concurrent.CompletionException',
  'java.util.concurrent.ExecutionException',
  'java.lang.reflect.InvocationTargetException',
  'org.apache.flink.util.FlinkRuntimeException',
]);

function simpleName(className: string): string {
  return className.slice(className.lastIndexOf('.') + 1);
}

/**
 * The message a user should read: the first exception of the chain that is not a wrapper, as
 * `ValidationException: SQL validation failed. From line 1, column 15 …`. Undefined when the chain
 * is empty.
 */
export function summarizeCauses(causes: readonly ServerCause[]): string | undefined {
  const chosen = causes.find((c) => !WRAPPERS.has(c.className) && c.message !== '') ?? causes[causes.length - 1];
  if (!chosen) return undefined;
  return chosen.message ? `${simpleName(chosen.className)}: ${chosen.message}` : simpleName(chosen.className);
}

/** Exceptions in a chain that say the Flink cluster behind the gateway could not be reached or had no room. */
const UNAVAILABLE_CAUSES = [
  /^java\.net\.(ConnectException|NoRouteToHostException|UnknownHostException|SocketTimeoutException)$/,
  /ConnectTimeoutException$/,
  /\.NoResourceAvailableException$/,
  /\.JobSubmissionException$/,
  /\.RecipientUnreachableException$/,
];

/** True when a server-side chain shows that the cluster (not the statement) failed: a retry may succeed. */
export function clusterUnavailable(causes: readonly ServerCause[]): boolean {
  return causes.some((c) => UNAVAILABLE_CAUSES.some((re) => re.test(c.className)));
}

/**
 * True when a failed job's root cause (a `firstCauseLine`, class name without its package) says the
 * cluster had no task slots to run it: no TaskManager, or every slot taken.
 */
export function noRoomOnCluster(rootCause: string): boolean {
  return /^NoResourceAvailableException\b/.test(rootCause);
}

/** Line and column of a SQL error (`From line 1, column 15 …`, `at line 2, column 3`), if the message has one. */
export function errorPosition(message: string): { line: number; column: number } | undefined {
  const m = /\bline (\d+), column (\d+)/.exec(message);
  return m ? { line: Number(m[1]), column: Number(m[2]) } : undefined;
}
