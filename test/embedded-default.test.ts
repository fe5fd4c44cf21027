import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = path.resolve(import.meta.dirname, '..');
const MAIN = path.join(ROOT, 'apps/standalone/src/main.ts');

/** A free loopback port (bound, then released) for the embedded PostgreSQL. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

interface Running {
  child: ChildProcess;
  output: () => string;
  url: string;
  token: string;
  exited: Promise<number | null>;
}

/**
 * `npm start` as a new user runs it: no DATABASE_URL, no REDIS_URL, no SLUICE_* setting but where its
 * home and ports go. Resolves once it printed its URL and token.
 */
async function startDefault(home: string, pgPort: number): Promise<Running> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('SLUICE_') && k !== 'DATABASE_URL' && k !== 'REDIS_URL' && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, { SLUICE_HOME: home, SLUICE_PORT: '0', SLUICE_PG_PORT: '0', SLUICE_EMBEDDED_PG_PORT: String(pgPort) });
  const child = spawn(process.execPath, ['--conditions=sluice-source', '--import', 'tsx', MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const deadline = Date.now() + 120_000;
  let printed: { url: string; token: string } | undefined;
  while (!printed) {
    const url = /export SLUICE_URL=(\S+)/.exec(out)?.[1];
    const token = /export SLUICE_TOKEN=(\S+)/.exec(out)?.[1];
    if (url && token) printed = { url, token };
    else if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${out}`);
    else if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`npm start printed no URL and token within 120 s:\n${out}`);
    } else await sleep(200);
  }
  return { child, output: () => out, exited, ...printed };
}

async function post(r: Running, p: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${r.url}${p}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${r.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function get(r: Running, p: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${r.url}${p}`, { headers: { authorization: `Bearer ${r.token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function stop(r: Running): Promise<number | null> {
  r.child.kill('SIGTERM');
  const timer = setTimeout(() => r.child.kill('SIGKILL'), 60_000);
  const code = await r.exited;
  clearTimeout(timer);
  return code;
}

describe('the embedded default: npm start with no configuration', () => {
  let home: string;
  let pgPort: number;
  let running: Running | undefined;

  before(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'sluice-embedded-'));
    // As root the embedded server runs as the OS user 'postgres', which must reach the home.
    chmodSync(home, 0o755);
    pgPort = await freePort();
  });
  after(async () => {
    if (running && running.child.exitCode === null) await stop(running);
    rmSync(home, { recursive: true, force: true });
  });

  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  it('as root, refuses a SLUICE_HOME the postgres OS user cannot enter, naming the setting', { skip: !root && 'applies only when run as root' }, async () => {
    const closed = mkdtempSync(path.join(os.tmpdir(), 'sluice-closed-')); // mode 0700
    try {
      const r = startDefault(closed, pgPort);
      await assert.rejects(r, /SLUICE_HOME.*cannot enter/s);
    } finally {
      rmSync(closed, { recursive: true, force: true });
    }
  });

  it('runs a job on embedded PostgreSQL with the PostgreSQL queue, stops cleanly on SIGTERM and keeps its history', async () => {
    running = await startDefault(home, pgPort);
    const first = running;
    assert.match(first.output(), /embedded PostgreSQL under /);
    assert.match(first.output(), /queue on postgres/);
    assert.ok(existsSync(path.join(home, 'pg', 'data', 'PG_VERSION')), 'the database lives under SLUICE_HOME');

    // The printed example, with ?wait so the answer comes in the same request.
    const job = await post(first, '/api/v1/jobs?wait=30', { code: 'select 42 as answer, current_date as today' });
    assert.equal(job.status, 201, JSON.stringify(job.body));
    assert.equal(job.body.state, 'Succeed', JSON.stringify(job.body.error));
    assert.equal(job.body.engineType, 'duckdb-1.5');
    const rows = await get(first, `/api/v1/jobs/${String(job.body.id)}/results/0`);
    assert.equal((rows.body.rows as unknown[][])[0]?.[0], 42);

    const code = await stop(first);
    assert.equal(code, 0, first.output());
    assert.doesNotMatch(first.output(), /stop failed|Unhandled|terminating connection|reconnecting/);
    assert.ok(!existsSync(path.join(home, 'pg', 'data', 'postmaster.pid')), 'the embedded PostgreSQL was stopped');

    // A second start on the same home: the job is still there, the old token no longer works.
    running = await startDefault(home, pgPort);
    const second = running;
    assert.notEqual(second.token, first.token);
    const again = await get(second, `/api/v1/jobs/${String(job.body.id)}`);
    assert.equal(again.status, 200);
    assert.equal(again.body.state, 'Succeed');
    const old = await fetch(`${second.url}/api/v1/jobs/${String(job.body.id)}`, { headers: { authorization: `Bearer ${first.token}` } });
    assert.equal(old.status, 401);
    assert.equal(await stop(second), 0, second.output());
  });
});
