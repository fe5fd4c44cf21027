import http from 'node:http';
import https from 'node:https';
import { ConnectFailure, classifyNetworkError, messageOf } from './db-errors.ts';
import type { ClickhouseParams } from './param-schemas.ts';

/** An error answer of the ClickHouse server: HTTP status, ClickHouse error code and message. */
export class ChServerError extends Error {
  constructor(
    readonly status: number,
    readonly chCode: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ChServerError';
  }
}

/** ClickHouse error codes of failed authentication: unknown user, wrong/required password, failed auth, IP not allowed. */
export const CH_AUTH_CODES = new Set([192, 193, 194, 195, 516]);
/** "Session not found": the session expired (only reported with session_check=1). */
export const CH_SESSION_NOT_FOUND = 372;
/** "Session is locked by a concurrent client": the previous query of the session is still finishing. */
export const CH_SESSION_LOCKED = 373;

const EXCEPTION = /^Code: (\d+)[.,]\s*(?:e\.displayText\(\) = )?(?:DB::Exception: )?(.*?)(?:, e\.what\(\) = DB::Exception)?\s*$/s;

/** Parses an exception text such as `Code: 62, e.displayText() = DB::Exception: Syntax error…`. */
export function parseChException(text: string): { code: number; message: string } | undefined {
  const m = EXCEPTION.exec(text.trim());
  return m ? { code: Number(m[1]), message: m[2]!.trim() } : undefined;
}

/** An HTTP(S) agent for one engine's or one probe's requests to a ClickHouse server. */
export function chAgent(p: ClickhouseParams, keepAlive: boolean): http.Agent {
  if (!p.tls) return new http.Agent({ keepAlive, maxSockets: 4 });
  const verify = p.tlsMode !== 'require';
  return new https.Agent({
    keepAlive,
    maxSockets: 4,
    rejectUnauthorized: verify,
    ...(p.tlsCa ? { ca: p.tlsCa } : {}),
    ...(p.tlsMode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
  });
}

/** Options of one request. */
export interface ChRequestOptions {
  /** URL parameters: settings, session_id, query_id, database… */
  query: Record<string, string>;
  /** Deadline for the response headers (not for the body); none when undefined. */
  headersTimeoutMs?: number;
}

/**
 * Sends one statement as a POST body and resolves with the response once its headers arrived with
 * status 200. Credentials travel in an Authorization header, never in the URL. Rejects with
 * ConnectFailure (network, TLS, time-out) or ChServerError (the server's error answer).
 */
export function chRequest(
  p: ClickhouseParams,
  agent: http.Agent,
  sql: string,
  options: ChRequestOptions,
): { response: Promise<http.IncomingMessage>; abort: () => void } {
  const search = new URLSearchParams(options.query);
  const auth = Buffer.from(`${p.user}:${p.password ?? ''}`).toString('base64');
  const transport = p.tls ? https : http;
  let request: http.ClientRequest | undefined;
  let aborted = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = (retry: boolean): Promise<http.IncomingMessage> =>
    new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = transport.request({
        host: p.host,
        port: p.port,
        method: 'POST',
        path: `/?${search.toString()}`,
        agent,
        headers: { authorization: `Basic ${auth}`, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(sql) },
      });
      request = req;
      let answered = false;
      req.on('error', (err) => {
        // The server closes idle kept-alive connections on its own schedule: a request written to
        // such a socket never reached it, so it is sent once more on a fresh connection.
        const code = (err as { code?: string }).code;
        if (retry && !answered && !aborted && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) {
          attempt(false).then(resolve, reject);
          return;
        }
        clearTimeout(timer);
        reject(err instanceof ConnectFailure ? err : (classifyNetworkError(err) ?? new ConnectFailure('error', messageOf(err))));
      });
      req.on('response', (res) => {
        answered = true;
        clearTimeout(timer);
        if (res.statusCode === 200) {
          resolve(res);
          return;
        }
        res.setEncoding('utf8');
        let body = '';
        res.on('data', (chunk: string) => {
          if (body.length < 65_536) body += chunk;
        });
        res.on('end', () => {
          const parsed = parseChException(body);
          reject(new ChServerError(res.statusCode ?? 0, parsed?.code, parsed?.message ?? (body.trim() || `HTTP ${res.statusCode}`)));
        });
        res.on('error', (err) => reject(new ConnectFailure('error', messageOf(err))));
      });
      req.end(sql);
    });
  if (options.headersTimeoutMs !== undefined) {
    const ms = options.headersTimeoutMs;
    timer = setTimeout(() => request?.destroy(new ConnectFailure('timeout', `no answer from the server within ${ms} ms`)), ms);
  }
  const response = attempt(true);
  return {
    response,
    abort: () => {
      aborted = true;
      clearTimeout(timer);
      request?.destroy();
    },
  };
}

/** Classifies a failure of the first request to a server (connection test, engine launch). */
export function classifyChConnectError(err: unknown): ConnectFailure {
  if (err instanceof ConnectFailure) return err;
  if (err instanceof ChServerError) {
    if (err.status === 401 || err.status === 403 || (err.chCode !== undefined && CH_AUTH_CODES.has(err.chCode))) {
      return new ConnectFailure('auth_failed', err.message);
    }
    return new ConnectFailure('error', err.message, { transient: err.status === 503 });
  }
  return classifyNetworkError(err) ?? new ConnectFailure('error', messageOf(err));
}

/** Reads a whole (small) response body as text. */
export async function readText(res: http.IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk as string;
  return text;
}

/** A ClickHouse string literal: single quotes, backslash and quote escaped. */
export function chQuote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
