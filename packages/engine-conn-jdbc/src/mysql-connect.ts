import mysql, { type Connection, type ConnectionOptions } from 'mysql2';
import { ConnectFailure, classifyNetworkError, errorCodeOf, messageOf } from './db-errors.ts';
import type { MysqlParams } from './param-schemas.ts';

/** The TLS options of mysql2 for the data source's TLS settings (undefined: plain TCP). */
export function mysqlTlsOptions(p: MysqlParams): ConnectionOptions['ssl'] {
  if (!p.tls) return undefined;
  if (p.tlsMode === 'require') return { rejectUnauthorized: false };
  return {
    rejectUnauthorized: true,
    ...(p.tlsCa ? { ca: p.tlsCa } : {}),
    ...(p.tlsMode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
  } as ConnectionOptions['ssl'];
}

/**
 * mysql2 settings for a data source. Values are read as raw bytes (`typeCast: false`) and converted
 * by this package, so nothing goes through JavaScript numbers or Dates on the way.
 */
export function mysqlConnectionOptions(p: MysqlParams, timeoutMs: number): ConnectionOptions {
  const ssl = mysqlTlsOptions(p);
  return {
    host: p.host,
    port: p.port,
    user: p.user,
    password: p.password ?? '',
    ...(p.database ? { database: p.database } : {}),
    charset: p.charset,
    connectTimeout: timeoutMs,
    ...(ssl ? { ssl } : {}),
    multipleStatements: false,
    // LOAD DATA LOCAL INFILE would read files of the engine manager's host: never offered.
    flags: ['-LOCAL_FILES'],
    typeCast: false,
    rowsAsArray: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    enableKeepAlive: true,
  };
}

const AUTH_CODES = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR', 'ER_NOT_SUPPORTED_AUTH_MODE']);
const TRANSIENT_CODES = new Set(['ER_CON_COUNT_ERROR', 'ER_TOO_MANY_USER_CONNECTIONS', 'ER_SERVER_SHUTDOWN']);

/** Classifies an error of opening a MySQL/MariaDB connection. */
export function classifyMysqlConnectError(err: unknown): ConnectFailure {
  if (err instanceof ConnectFailure) return err;
  const code = errorCodeOf(err);
  const message = messageOf(err);
  const sqlState = (err as { sqlState?: string } | undefined)?.sqlState;
  const extra = sqlState ? { sqlState } : {};
  if (code && AUTH_CODES.has(code)) return new ConnectFailure('auth_failed', message, extra);
  if (code === 'ETIMEDOUT') return new ConnectFailure('timeout', message);
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT' || /secure connection|SSL|TLS|certificate/i.test(message)) return new ConnectFailure('tls', message);
  const network = classifyNetworkError(err);
  if (network) return network;
  if (code && TRANSIENT_CODES.has(code)) return new ConnectFailure('error', message, { transient: true, ...extra });
  return new ConnectFailure('error', message, extra);
}

/**
 * Opens a connection within `timeoutMs` (a server that accepts TCP and never answers counts as a
 * time-out). Rejects with a classified ConnectFailure; a half-open connection is destroyed.
 */
export function connectMysql(p: MysqlParams, timeoutMs: number): Promise<Connection> {
  return new Promise<Connection>((resolve, reject) => {
    let settled = false;
    let connection: Connection;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        connection?.destroy();
      } catch {
        // already gone
      }
      reject(classifyMysqlConnectError(err));
    };
    const timer = setTimeout(() => fail(new ConnectFailure('timeout', `no answer from the server within ${timeoutMs} ms`)), timeoutMs + 500);
    try {
      connection = mysql.createConnection(mysqlConnectionOptions(p, timeoutMs));
    } catch (err) {
      fail(err);
      return;
    }
    // Until connected, errors reject; the session installs its own listeners afterwards.
    const onError = (err: unknown) => fail(err);
    connection.on('error', onError);
    connection.connect((err) => {
      if (err) {
        fail(err);
        return;
      }
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      connection.removeListener('error', onError);
      connection.on('error', () => undefined);
      resolve(connection);
    });
  });
}
