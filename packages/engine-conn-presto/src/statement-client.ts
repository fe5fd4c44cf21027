import { setTimeout as sleep } from 'node:timers/promises';
import { TrinoAbortedError, TrinoConnectionError, TrinoHttpError, TrinoProtocolError, TrinoQueryError } from './client-errors.ts';
import {
  type ClientSession,
  collectSessionHeaders,
  emptySessionUpdate,
  type QueryAttribution,
  type SessionUpdate,
  sessionRequestHeaders,
} from './client-session.ts';
import { type HttpResponse, type HttpTransport, TransportError } from './http-transport.ts';
import { parseResponseJson } from './lossless-json.ts';
import { type HeaderFamily, type ProtocolHeaders, protocolHeaders, retryableStatuses } from './protocol-headers.ts';
import { asQueryResults, type QueryResults } from './query-results.ts';

/** Options of a {@link StatementClient}: one coordinator, one header family, one credential. */
export interface StatementClientOptions {
  /** Base URL of the coordinator, e.g. `https://trino.example.com:443`. */
  server: string;
  family: HeaderFamily;
  transport: HttpTransport;
  /** The whole `Authorization` header value (`Basic …`, `Bearer …`), if any. Never logged. */
  authorization?: string;
  /** How long one GET may keep failing retryably before the query fails (the Java client's 2 min). */
  requestTimeoutMs: number;
  /** Most time a cancel (DELETE) may take before it is given up on. */
  cancelTimeoutMs?: number;
  /**
   * Statuses after which a GET is repeated; default: those the header family's protocol documents.
   * They follow the server product, not the header names: a Trino server speaking `X-Presto-*`
   * still sits behind proxies that send 502 and 504.
   */
  retryableStatuses?: ReadonlySet<number>;
}

/** What `GET /v1/info` reports. */
export interface ServerInfo {
  starting: boolean;
  version?: string;
  environment?: string;
  coordinator?: boolean;
}

/** Per-query options of {@link StatementClient.execute}. */
export interface ExecuteOptions {
  /** Aborting it cancels the query on the server (DELETE of `nextUri`) and ends iteration. */
  signal?: AbortSignal;
  attribution?: QueryAttribution;
}

/** Shortest snippet of a non-protocol body kept in an error, enough to read the server's reason. */
const DETAIL_CHARS = 300;

function detailOf(res: HttpResponse): string {
  return res.body.replace(/\s+/g, ' ').trim().slice(0, DETAIL_CHARS);
}

/** Linear backoff, as the Java client does (attempt × 100 ms), capped so a long outage polls steadily. */
function backoffMs(attempt: number): number {
  return Math.min(attempt * 100, 2000);
}

/**
 * A client of the statement protocol for one coordinator. It keeps no session state of its own:
 * every {@link execute} takes the session to run in and reports the session changes of its query,
 * so one client can serve many sessions (users) at once without any of them seeing another's state.
 */
export class StatementClient {
  readonly server: string;
  readonly family: HeaderFamily;
  readonly headers: ProtocolHeaders;
  readonly transport: HttpTransport;
  readonly requestTimeoutMs: number;
  readonly cancelTimeoutMs: number;
  readonly retryable: ReadonlySet<number>;
  // A private field: the credential never shows up in a dump, a log or JSON of the client.
  readonly #authorization: string | undefined;

  constructor(options: StatementClientOptions) {
    this.server = options.server.replace(/\/+$/, '');
    this.family = options.family;
    this.headers = protocolHeaders(options.family);
    this.transport = options.transport;
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.cancelTimeoutMs = options.cancelTimeoutMs ?? 3000;
    this.retryable = options.retryableStatuses ?? retryableStatuses(options.family);
    this.#authorization = options.authorization;
  }

  /** Starts iterating a statement on first pull; see {@link QueryExecution}. */
  execute(sql: string, session: ClientSession, options: ExecuteOptions = {}): QueryExecution {
    return new QueryExecution(this, sql, session, options);
  }

  /** Adds the credential to a request's headers. */
  withAuth(headers: [string, string][]): [string, string][] {
    if (this.#authorization !== undefined) headers.push(['authorization', this.#authorization]);
    return headers;
  }

  /** `GET /v1/info`: is the server up, and which version. */
  async serverInfo(signal?: AbortSignal): Promise<ServerInfo> {
    let res: HttpResponse;
    try {
      res = await this.transport.request({ method: 'GET', url: `${this.server}/v1/info`, headers: this.withAuth([]), signal });
    } catch (err) {
      throw connectionError(err, 'info');
    }
    if (res.status !== 200) throw new TrinoHttpError(res.status, 'info', detailOf(res));
    let body: { starting?: boolean; nodeVersion?: { version?: string }; environment?: string; coordinator?: boolean };
    try {
      body = JSON.parse(res.body);
    } catch {
      throw new TrinoProtocolError('info', 'GET /v1/info did not return JSON');
    }
    return { starting: body.starting === true, version: body.nodeVersion?.version, environment: body.environment, coordinator: body.coordinator };
  }
}

function connectionError(err: unknown, phase: 'submit' | 'fetch' | 'info', queryId?: string): Error {
  if (err instanceof TransportError) return new TrinoConnectionError(phase, err.code, err.message, err.sent, err.tls, queryId);
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * One statement on the server, iterated response by response: the POST, then a GET of each
 * `nextUri` until there is none. Pulling is the backpressure: one GET runs ahead of the consumer
 * (so the network and the consumer overlap) and none further.
 *
 * - GETs are repeated on the family's retryable statuses and on connection failures, with linear
 *   backoff, for up to `requestTimeoutMs`. The POST is never repeated: a repeated POST could start
 *   the statement twice.
 * - Session headers of every response are gathered into {@link sessionUpdate}.
 * - The last response's `error` is thrown as {@link TrinoQueryError}.
 * - Aborting the signal, or leaving the loop early, cancels the query with a DELETE of `nextUri`.
 */
export class QueryExecution implements AsyncIterable<QueryResults> {
  /** The server's query id, once the POST answered. */
  queryId: string | undefined;
  /** The session changes reported so far; complete once iteration ends. */
  readonly sessionUpdate: SessionUpdate = emptySessionUpdate();
  /** The latest response. */
  last: QueryResults | undefined;

  private readonly client: StatementClient;
  private readonly sql: string;
  private readonly session: ClientSession;
  private readonly options: ExecuteOptions;
  private readonly requests = new AbortController();
  private nextUri: string | undefined;
  private finished = false;
  private cancelling: Promise<void> | undefined;
  private started = false;

  constructor(client: StatementClient, sql: string, session: ClientSession, options: ExecuteOptions) {
    this.client = client;
    this.sql = sql;
    this.session = session;
    this.options = options;
  }

  /** The user headers every request carries (the server wants them on each, PrestoDB insists). */
  private followHeaders(): [string, string][] {
    const h = this.client.headers;
    const headers: [string, string][] =
      this.session.authorizationUser !== undefined
        ? [
            [h.user, this.session.authorizationUser],
            [h.originalUser, this.session.user],
          ]
        : [[h.user, this.session.user]];
    return this.client.withAuth(headers);
  }

  private abortedError(): TrinoAbortedError {
    return new TrinoAbortedError(this.options.signal?.reason, this.queryId);
  }

  private parse(res: HttpResponse, phase: 'submit' | 'fetch'): QueryResults {
    let parsed: unknown;
    try {
      parsed = parseResponseJson(res.body);
    } catch {
      throw new TrinoProtocolError(phase, `the server answered ${phase === 'submit' ? 'POST /v1/statement' : 'a nextUri GET'} with a body that is not JSON`);
    }
    const results = asQueryResults(parsed);
    if (!results) throw new TrinoProtocolError(phase, 'the server answered with JSON that is not a QueryResults');
    this.queryId = results.id;
    this.nextUri = results.nextUri ?? undefined;
    this.last = results;
    return results;
  }

  private async submit(): Promise<QueryResults> {
    const headers = this.client.withAuth(sessionRequestHeaders(this.session, this.client.headers, this.options.attribution));
    let res: HttpResponse;
    try {
      res = await this.client.transport.request({
        method: 'POST',
        url: `${this.client.server}/v1/statement`,
        headers,
        body: this.sql,
        signal: this.requests.signal,
        fresh: true,
      });
    } catch (err) {
      if (this.options.signal?.aborted) throw this.abortedError();
      throw connectionError(err, 'submit');
    }
    collectSessionHeaders(this.sessionUpdate, this.client.headers, res.rawHeaders);
    if (res.status !== 200) throw new TrinoHttpError(res.status, 'submit', detailOf(res));
    return this.parse(res, 'submit');
  }

  private async fetch(uri: string): Promise<QueryResults> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse | undefined;
      let failure: unknown;
      try {
        res = await this.client.transport.request({ method: 'GET', url: uri, headers: this.followHeaders(), signal: this.requests.signal });
      } catch (err) {
        failure = err;
      }
      if (this.requests.signal.aborted) throw this.abortedError();
      if (res) {
        collectSessionHeaders(this.sessionUpdate, this.client.headers, res.rawHeaders);
        if (res.status === 200) return this.parse(res, 'fetch');
        if (!this.client.retryable.has(res.status)) throw new TrinoHttpError(res.status, 'fetch', detailOf(res), this.queryId, attempt - 1);
        failure = new TrinoHttpError(res.status, 'fetch', detailOf(res), this.queryId, attempt - 1);
      }
      const remaining = this.client.requestTimeoutMs - (Date.now() - started);
      if (remaining <= 0) throw failure instanceof TrinoHttpError ? failure : connectionError(failure, 'fetch', this.queryId);
      try {
        // The last wait is cut short so that one more attempt lands right at the deadline.
        await sleep(Math.min(backoffMs(attempt), remaining), undefined, { signal: this.requests.signal });
      } catch {
        throw this.abortedError();
      }
    }
  }

  /**
   * Cancels the query: stops the request in flight and DELETEs the current `nextUri`, which the
   * server answers by failing the query with USER_CANCELED. Safe to call more than once; resolves
   * when the server acknowledged, or after `cancelTimeoutMs`.
   */
  cancel(): Promise<void> {
    if (this.cancelling) return this.cancelling;
    this.requests.abort();
    const uri = this.finished ? undefined : this.nextUri;
    if (!uri) {
      this.cancelling = Promise.resolve();
      return this.cancelling;
    }
    this.cancelling = this.client.transport
      .request({ method: 'DELETE', url: uri, headers: this.followHeaders(), signal: AbortSignal.timeout(this.client.cancelTimeoutMs) })
      .then(
        () => undefined,
        // Best effort: the server also fails a query whose client stops fetching (query.client.timeout).
        () => undefined,
      );
    return this.cancelling;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<QueryResults> {
    if (this.started) throw new Error('a QueryExecution can be iterated once');
    this.started = true;
    const signal = this.options.signal;
    if (signal?.aborted) throw this.abortedError();
    const onAbort = () => void this.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let results = await this.submit();
      for (;;) {
        const uri = results.nextUri ?? undefined;
        if (!uri) {
          this.finished = true;
          if (results.error) throw new TrinoQueryError(results.id, results.error);
          yield results;
          return;
        }
        // Read one response ahead while the consumer works on this one.
        const pending = this.fetch(uri);
        pending.catch(() => {});
        yield results;
        results = await pending;
      }
    } catch (err) {
      if (signal?.aborted && !(err instanceof TrinoAbortedError)) throw this.abortedError();
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // Left early (the consumer stopped, or an error above): the server must not keep running it.
      if (!this.finished) await this.cancel();
    }
  }
}
