import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { createGunzip } from 'node:zlib';

/** How the server's certificate is checked: chain and host name, chain only, or not at all. */
export type TlsMode = 'verify-full' | 'verify-ca' | 'require';

/** Options of one {@link HttpTransport}: one coordinator. */
export interface HttpTransportOptions {
  tls?: { mode: TlsMode; ca?: string };
  /** Most time from opening a connection to having it (TLS included). */
  connectTimeoutMs: number;
  /** Most time a request may wait without receiving a byte. */
  idleTimeoutMs: number;
  /** Ask for gzip-compressed responses. */
  compression: boolean;
}

/** One request. Headers are pairs so a header may repeat. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  headers: readonly (readonly [string, string])[];
  body?: string;
  signal?: AbortSignal;
  /**
   * Use a new connection rather than a pooled one. A request on a pooled connection can fail because
   * the server just closed it, and nobody can tell whether it arrived. A fresh connection that fails
   * before connecting proves the request never left; the protocol's POST needs that certainty.
   */
  fresh?: boolean;
}

/** A complete response: status, headers as Node's flat raw list, and the body as text. */
export interface HttpResponse {
  status: number;
  rawHeaders: string[];
  body: string;
}

/** A request that failed below HTTP: no connection, a reset, a timeout, a TLS failure, an abort. */
export class TransportError extends Error {
  /** Node's error code (ECONNREFUSED, ECONNRESET, CERT_HAS_EXPIRED, ...), ETIMEDOUT or ABORT_ERR. */
  readonly code: string;
  /** False when the request provably never reached the server (no connection was made). */
  readonly sent: boolean;

  constructor(code: string, message: string, sent: boolean) {
    super(message);
    this.name = 'TransportError';
    this.code = code;
    this.sent = sent;
  }

  /** True for certificate and TLS handshake failures. */
  get tls(): boolean {
    return /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_OSSL_|EPROTO$)/.test(this.code);
  }
}

/** Most bytes of a response body kept; protocol pages are ~1 MB, and errors are short. */
const MAX_BODY_BYTES = 256 * 1024 * 1024;

/**
 * HTTP/1.1 to one coordinator over node:http(s): pooled keep-alive connections for the `nextUri`
 * loop, fresh ones on request, TLS with a custom CA, and bodies read whole (one protocol page each).
 */
export class HttpTransport {
  private readonly options: HttpTransportOptions;
  private readonly pooled: http.Agent;
  private readonly tlsOptions: Pick<https.AgentOptions, 'ca' | 'rejectUnauthorized' | 'checkServerIdentity'>;

  constructor(options: HttpTransportOptions) {
    this.options = options;
    this.tlsOptions = {};
    if (options.tls) {
      if (options.tls.ca) this.tlsOptions.ca = options.tls.ca;
      if (options.tls.mode === 'require') this.tlsOptions.rejectUnauthorized = false;
      if (options.tls.mode === 'verify-ca') this.tlsOptions.checkServerIdentity = () => undefined;
    }
    this.pooled = options.tls
      ? new https.Agent({ keepAlive: true, maxSockets: 32, scheduling: 'lifo', ...this.tlsOptions })
      : new http.Agent({ keepAlive: true, maxSockets: 32, scheduling: 'lifo' });
  }

  /** Sends a request and reads the whole response; rejects with {@link TransportError} below HTTP. */
  request(req: HttpRequest): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      if (req.signal?.aborted) {
        reject(new TransportError('ABORT_ERR', 'the request was aborted', false));
        return;
      }
      const url = new URL(req.url);
      const secure = url.protocol === 'https:';
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of req.headers) {
        const key = name.toLowerCase();
        const prev = headers[key];
        if (prev === undefined) headers[key] = value;
        else if (Array.isArray(prev)) prev.push(value);
        else headers[key] = [prev, value];
      }
      if (this.options.compression) headers['accept-encoding'] = 'gzip';
      if (req.body !== undefined) {
        headers['content-type'] = 'text/plain; charset=utf-8';
        headers['content-length'] = String(Buffer.byteLength(req.body));
      }
      let connected = false;
      let settled = false;
      const fail = (err: TransportError) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        req.signal?.removeEventListener('abort', onAbort);
        reject(err);
      };
      const options: https.RequestOptions = {
        method: req.method,
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || (secure ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        headers,
        ...(secure ? this.tlsOptions : {}),
        // A fresh request gets a throw-away agent; keep-alive would park its connection for nothing.
        agent: req.fresh ? (secure ? new https.Agent({ keepAlive: false, ...this.tlsOptions }) : new http.Agent({ keepAlive: false })) : this.pooled,
      };
      const request = (secure ? https : http).request(options);
      const onAbort = () => {
        request.destroy();
        fail(new TransportError('ABORT_ERR', 'the request was aborted', connected));
      };
      req.signal?.addEventListener('abort', onAbort, { once: true });
      const connectTimer = setTimeout(() => {
        if (connected) return;
        request.destroy();
        fail(new TransportError('ETIMEDOUT', `could not connect to ${url.host} within ${this.options.connectTimeoutMs} ms`, false));
      }, this.options.connectTimeoutMs);
      request.on('socket', (socket: Socket) => {
        const ready = () => {
          connected = true;
          clearTimeout(connectTimer);
        };
        // A pooled socket is already connected (and may be stale: that is why `sent` is then true).
        if (!socket.connecting) ready();
        else socket.once(secure ? 'secureConnect' : 'connect', ready);
      });
      request.setTimeout(this.options.idleTimeoutMs, () => {
        request.destroy();
        fail(new TransportError('ETIMEDOUT', `no answer from ${url.host} for ${this.options.idleTimeoutMs} ms`, true));
      });
      request.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? 'EUNKNOWN';
        fail(new TransportError(code, `${req.method} ${url.host}: ${err.message}`, connected));
      });
      request.on('response', (res) => {
        clearTimeout(connectTimer);
        const stream = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res;
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            request.destroy();
            fail(new TransportError('EMSGSIZE', `a response from ${url.host} is larger than ${MAX_BODY_BYTES} bytes`, true));
            return;
          }
          chunks.push(chunk);
        });
        stream.on('error', (err: NodeJS.ErrnoException) => fail(new TransportError(err.code ?? 'EUNKNOWN', `${req.method} ${url.host}: ${err.message}`, true)));
        res.on('close', () => {
          if (!res.complete) fail(new TransportError('ECONNRESET', `${req.method} ${url.host}: the response was cut off`, true));
        });
        stream.on('end', () => {
          if (settled) return;
          settled = true;
          req.signal?.removeEventListener('abort', onAbort);
          resolve({ status: res.statusCode ?? 0, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks, size).toString('utf8') });
        });
      });
      request.end(req.body);
    });
  }

  /** Closes pooled connections. Requests in flight are not affected; later ones open new connections. */
  close(): void {
    this.pooled.destroy();
  }
}
