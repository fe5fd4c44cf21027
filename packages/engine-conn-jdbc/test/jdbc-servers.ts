import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { DataSourceConnection } from '@sluice/core';
import { freshDatabase, uniqueSuffix } from '@sluice/testkit';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Makes sure the real MariaDB and ClickHouse servers run: when MYSQL_URL or CLICKHOUSE_URL is unset,
 * runs scripts/services-jdbc.sh (which installs them from Debian packages if needed and starts them)
 * and takes the URLs it prints. PostgreSQL comes from `npm test` (DATABASE_URL).
 */
export function ensureServers(): { mysqlUrl: string; clickhouseUrl: string } {
  if (!process.env.MYSQL_URL || !process.env.CLICKHOUSE_URL) {
    let out: string;
    try {
      out = execFileSync('bash', [path.join(root, 'scripts/services-jdbc.sh'), 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? '';
      throw new Error(`scripts/services-jdbc.sh start failed: ${stderr.trim() || String(err)}`);
    }
    for (const line of out.split('\n')) {
      const m = /^export (\w+)=(.*)$/.exec(line.trim());
      if (m && !process.env[m[1]!]) process.env[m[1]!] = m[2]!;
    }
  }
  const mysqlUrl = process.env.MYSQL_URL;
  const clickhouseUrl = process.env.CLICKHOUSE_URL;
  if (!mysqlUrl || !clickhouseUrl) throw new Error('scripts/services-jdbc.sh did not print MYSQL_URL and CLICKHOUSE_URL');
  return { mysqlUrl, clickhouseUrl };
}

/** Connection parameters from a URL such as postgres://user:pw@host:port/db. */
export function paramsFromUrl(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const u = new URL(url);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  return {
    host: u.hostname,
    port: Number(u.port),
    ...(database ? { database } : {}),
    user: decodeURIComponent(u.username),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...extra,
  };
}

/** A DataSourceConnection as the engine manager hands it over. */
export function dataSource(type: string, params: Record<string, unknown>, name = `ds_${type}`): DataSourceConnection {
  return { name, type, version: 1, params, secretFields: ['password'] };
}

/** A test database on one of the three servers, with its data source and its removal. */
export interface TestSource {
  dataSource: DataSourceConnection;
  database: string;
  drop(): Promise<void>;
}

/** A fresh database on the test PostgreSQL (DATABASE_URL). */
export async function freshPostgres(prefix = 'jdbc'): Promise<TestSource & { url: string }> {
  const db = await freshDatabase(prefix);
  return { dataSource: dataSource('postgresql', paramsFromUrl(db.url)), database: db.name, url: db.url, drop: () => db.drop() };
}

/** Runs SQL on MariaDB through its own command-line client (independent of the driver under test). */
export async function mysqlAdmin(sql: string, database?: string): Promise<string[][]> {
  const u = new URL(ensureServers().mysqlUrl);
  const args = ['--protocol=tcp', '-h', u.hostname, '-P', u.port, '-u', decodeURIComponent(u.username), '-B', '-N', '-e', sql];
  if (database) args.push(database);
  const { stdout } = await run('mariadb', args, { env: { ...process.env, MYSQL_PWD: decodeURIComponent(u.password) }, maxBuffer: 64 * 1024 * 1024 });
  return stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split('\t'));
}

/** A fresh database on the test MariaDB. */
export async function freshMysql(type: 'mysql' | 'mariadb' = 'mariadb'): Promise<TestSource> {
  const { mysqlUrl } = ensureServers();
  const database = `jdbc_${uniqueSuffix()}`;
  await mysqlAdmin(`CREATE DATABASE ${database}`);
  const params = paramsFromUrl(mysqlUrl, { database });
  return { dataSource: dataSource(type, params), database, drop: async () => void (await mysqlAdmin(`DROP DATABASE IF EXISTS ${database}`)) };
}

/** Runs SQL on ClickHouse over plain HTTP (independent of the driver under test); returns the body. */
export async function clickhouseAdmin(sql: string): Promise<string> {
  const u = new URL(ensureServers().clickhouseUrl);
  const send = () =>
    fetch(`${u.protocol}//${u.host}/`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}` },
      body: sql,
    });
  // ClickHouse closes idle keep-alive connections sooner than fetch drops them: a reused socket can
  // be closed under the request before it is read. Retry once on a fresh connection.
  const response = await send().catch((err: { cause?: { code?: string } }) => {
    if (err?.cause?.code === 'UND_ERR_SOCKET' || err?.cause?.code === 'ECONNRESET') return send();
    throw err;
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`clickhouse: ${text}`);
  return text;
}

/** A fresh database on the test ClickHouse. */
export async function freshClickhouse(): Promise<TestSource> {
  const { clickhouseUrl } = ensureServers();
  const database = `jdbc_${uniqueSuffix()}`;
  await clickhouseAdmin(`CREATE DATABASE ${database}`);
  const params = paramsFromUrl(clickhouseUrl, { database });
  return { dataSource: dataSource('clickhouse', params), database, drop: async () => void (await clickhouseAdmin(`DROP DATABASE IF EXISTS ${database}`)) };
}
