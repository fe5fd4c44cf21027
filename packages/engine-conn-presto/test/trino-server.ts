import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { DataSourceConnection } from '@sluice/core';
import { trinoSecretFields } from '../src/index.ts';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where the real Trino server of the tests is, as scripts/engines/trino.sh reports it. */
export interface TrinoServer {
  /** Plain HTTP, no authentication (the X-Trino-User header is trusted). */
  url: string;
  host: string;
  port: number;
  /** HTTPS with PASSWORD and JWT authentication, self-signed certificate. */
  httpsUrl: string;
  httpsPort: number;
  /** PEM of the HTTPS certificate. */
  ca: string;
  /** A user of the password file and its password. */
  user: string;
  password: string;
  /** The base64 HS256 key that JWTs must be signed with. */
  jwtKey: string;
}

let ready: Promise<TrinoServer> | undefined;

function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export (\w+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

async function start(): Promise<TrinoServer> {
  // Unless TRINO_URL names a running server, start ours (the first run downloads it: minutes).
  const script = path.join(root, 'scripts/engines/trino.sh');
  const { stdout } = await run('bash', [script, process.env.TRINO_URL ? 'env' : 'start'], { maxBuffer: 1 << 20, timeout: 15 * 60_000 });
  // What the environment already says wins (a CI step may have started the server and exported these).
  const env: Record<string, string> = { ...parseExports(stdout) };
  for (const name of ['TRINO_URL', 'TRINO_HTTPS_URL', 'TRINO_AUTH_DIR']) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  const url = new URL(env.TRINO_URL ?? 'http://127.0.0.1:18080');
  const httpsUrl = new URL(env.TRINO_HTTPS_URL ?? 'https://127.0.0.1:18443');
  const authDir = env.TRINO_AUTH_DIR ?? '';
  return {
    url: url.origin,
    host: url.hostname,
    port: Number(url.port),
    httpsUrl: httpsUrl.origin,
    httpsPort: Number(httpsUrl.port),
    ca: readFileSync(path.join(authDir, 'ca.pem'), 'utf8'),
    user: 'sluice_test',
    password: readFileSync(path.join(authDir, 'password'), 'utf8').trim(),
    jwtKey: readFileSync(path.join(authDir, 'jwt.key'), 'utf8').trim(),
  };
}

/** Makes sure the test Trino server runs (once per process) and says where it is. */
export function ensureTrino(): Promise<TrinoServer> {
  ready ??= start();
  return ready;
}

/** A `trino` data source on the test server's plain HTTP port, with tpch.tiny as default schema. */
export function trinoDataSource(server: TrinoServer, params: Record<string, unknown> = {}, type = 'trino'): DataSourceConnection {
  return {
    name: `test_${type}`,
    type,
    version: 1,
    params: { host: server.host, port: server.port, catalog: 'tpch', schema: 'tiny', ...params },
    secretFields: trinoSecretFields,
  };
}

/** GET /v1/query/{id}: the server's own record of a query. */
export async function queryInfo(server: TrinoServer, queryId: string): Promise<{ state: string; errorCode?: { name: string; type: string } }> {
  const res = await fetch(`${server.url}/v1/query/${queryId}`, { headers: { 'X-Trino-User': 'sluice-test-observer' } });
  if (res.status !== 200) throw new Error(`GET /v1/query/${queryId}: HTTP ${res.status}`);
  return (await res.json()) as { state: string; errorCode?: { name: string; type: string } };
}
