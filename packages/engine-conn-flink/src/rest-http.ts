import { GatewayAbortedError, GatewayConnectionError, GatewayHttpError, GatewayProtocolError } from './gateway-errors.ts';
import { parseLosslessJson } from './lossless-json.ts';

/** Options of one {@link RestHttp}: one Flink REST endpoint (the SQL Gateway, or a cluster's REST API). */
export interface RestHttpOptions {
  /** `http(s)://host:port[/prefix]`, without credentials. */
  baseUrl: string;
  /** Extra request headers, e.g. `Authorization` for a proxy in front of Flink. Never logged. */
  headers?: Record<string, string>;
  /** Most time one request may take (connect, send, answer) before it fails with ETIMEDOUT. */
  timeoutMs: number;
}

/** One request's options. */
export interface RestRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH';
  /** Path with query string, relative to the base URL: `/v2/sessions`. */
  path: string;
  body?: unknown;
  signal?: AbortSignal;
  /** Parse numbers as exact {@link import('./lossless-json.ts').JsonNumber}s (fetch results). */
  lossless?: boolean;
  /** Overrides the endpoint's timeout for this request. */
  timeoutMs?: number;
}

/** Node's error code of a failed fetch: undici puts the socket error in `cause`, sometimes nested. */
function errorCode(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return 'EUNKNOWN';
}

function errorMessage(err: unknown): string {
  let e: unknown = err;
  let message = err instanceof Error ? err.message : String(err);
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth += 1) {
    const cause = (e as { cause?: unknown }).cause;
    if (cause instanceof Error && cause.message) message = cause.message;
    e = cause;
  }
  return message;
}

/**
 * JSON over HTTP to one Flink REST endpoint with Node's fetch: per-request timeouts, caller aborts,
 * Flink's `{errors: [...]}` bodies turned into {@link GatewayHttpError}, failures below HTTP into
 * {@link GatewayConnectionError}. Error messages name the method and path, never headers.
 */
export class RestHttp {
  readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(options: RestHttpOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.headers = { accept: 'application/json', ...(options.headers ?? {}) };
    this.timeoutMs = options.timeoutMs;
  }

  /** Sends a request and returns its parsed JSON body (an empty body is `{}`). */
  async request(req: RestRequest): Promise<unknown> {
    if (req.signal?.aborted) throw new GatewayAbortedError();
    const what = `${req.method} ${req.path.replace(/\?.*$/, '')}`;
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    const headers: Record<string, string> = { ...this.headers };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.baseUrl}${req.path}`, {
        method: req.method,
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal,
        redirect: 'error',
      });
      text = await res.text();
    } catch (err) {
      if (req.signal?.aborted) throw new GatewayAbortedError();
      if (timeout.aborted) throw new GatewayConnectionError('ETIMEDOUT', `${what}: no answer from ${new URL(this.baseUrl).host} within ${timeoutMs} ms`);
      throw new GatewayConnectionError(errorCode(err), `${what}: ${new URL(this.baseUrl).host}: ${errorMessage(err)}`);
    }
    let body: unknown = {};
    if (text.trim() !== '') {
      try {
        body = req.lossless && res.ok ? parseLosslessJson(text) : JSON.parse(text);
      } catch {
        if (res.ok) throw new GatewayProtocolError(`${what}: the answer is not JSON (HTTP ${res.status})`);
        body = { errors: [text.slice(0, 2000)] };
      }
    }
    if (!res.ok) {
      const errors = (body as { errors?: unknown }).errors;
      const list = Array.isArray(errors) ? errors.map((e) => String(e)) : [`HTTP ${res.status} ${res.statusText}`];
      throw new GatewayHttpError(res.status, list, what);
    }
    return body;
  }
}
