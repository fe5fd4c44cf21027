import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { ConnectFailure, classifyNetworkError, errorCodeOf, messageOf } from './db-errors.ts';
import type { PostgresqlParams } from './param-schemas.ts';

/** Session settings every connection starts with, so value text has one known shape. */
const SESSION_OPTIONS = '-c DateStyle=ISO,YMD -c IntervalStyle=postgres -c extra_float_digits=3 -c bytea_output=hex';

/** The TLS options of node-postgres for the data source's TLS settings (false: plain TCP). */
export function pgTlsOptions(p: PostgresqlParams): false | ConnectionOptions {
  const mode = p.sslmode ?? (p.tls ? p.tlsMode : 'disable');
  if (mode === 'disable') return false;
  // A client certificate is presented in every TLS mode (the server may authenticate with it).
  const client: ConnectionOptions = p.tlsCert && p.tlsKey ? { cert: p.tlsCert, key: p.tlsKey } : {};
  if (mode === 'require') return { ...client, rejectUnauthorized: false };
  const base: ConnectionOptions = { ...client, rejectUnauthorized: true, ...(p.tlsCa ? { ca: p.tlsCa } : {}) };
  return mode === 'verify-ca' ? { ...base, checkServerIdentity: () => undefined } : base;
}

/** node-postgres client settings for a data source, optionally on another database of the server. */
export function pgClientConfig(p: PostgresqlParams, database?: string): pg.ClientConfig {
  return {
    host: p.host,
    port: p.port,
    database: database ?? p.database,
    user: p.user,
    // pg wants a string for SCRAM: an absent password fails authentication like a wrong one.
    password: p.password ?? '',
    ssl: pgTlsOptions(p),
    connectionTimeoutMillis: p.connectTimeoutMs,
    application_name: p.applicationName,
    options: SESSION_OPTIONS,
    keepAlive: true,
  };
}

const AUTH_STATES = new Set(['28P01', '28000']);
const TRANSIENT_STATES = new Set(['53300', '57P03', '53400']);

/** Classifies an error of opening a PostgreSQL connection. */
export function classifyPgConnectError(err: unknown): ConnectFailure {
  const code = errorCodeOf(err);
  const message = messageOf(err);
  if (code && AUTH_STATES.has(code)) return new ConnectFailure('auth_failed', message, { sqlState: code });
  if (/SASL|SCRAM|password must be a string|no password supplied/i.test(message)) return new ConnectFailure('auth_failed', message);
  if (/timeout/i.test(message)) return new ConnectFailure('timeout', message);
  if (/does not support SSL|SSL|TLS|certificate/i.test(message)) return new ConnectFailure('tls', message);
  const network = classifyNetworkError(err);
  if (network) return network;
  if (code && TRANSIENT_STATES.has(code)) return new ConnectFailure('error', message, { transient: true, sqlState: code });
  if (code && /^[0-9A-Z]{5}$/.test(code)) return new ConnectFailure('error', message, { sqlState: code });
  return new ConnectFailure('error', message);
}

/**
 * Opens a connection within `timeoutMs` (a server that accepts TCP and never answers counts as a
 * time-out). Rejects with a classified ConnectFailure; a half-open client is destroyed.
 */
export async function connectPg(config: pg.ClientConfig, timeoutMs: number): Promise<pg.Client> {
  const client = new pg.Client({ ...config, connectionTimeoutMillis: timeoutMs });
  // Errors after connect are the session's business; before that they reject connect().
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const connecting = client.connect();
  // When the timer wins, the connect attempt still fails later (client.end() below): nobody waits then.
  connecting.catch(() => undefined);
  try {
    await Promise.race([
      connecting,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ConnectFailure('timeout', `no answer from the server within ${timeoutMs} ms`)), timeoutMs + 500);
      }),
    ]);
    return client;
  } catch (err) {
    void client.end().catch(() => undefined);
    if (err instanceof ConnectFailure) throw err;
    throw classifyPgConnectError(err);
  } finally {
    clearTimeout(timer);
  }
}
