import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freshDatabase, type TestDatabase, waitFor } from '@sluice/testkit';
// @ts-expect-error: a plain ES module of the repository's scripts, without type declarations.
import { buildSluice } from '../scripts/build.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');

interface LineageEvent {
  eventType: string;
  run: { runId: string };
  job: { facets?: { sql?: { lineageParser?: string } } };
  inputs?: { name: string }[];
}

/**
 * The production build (`npm run build`, then `node apps/standalone/dist/main.js`): plain Node.js, no
 * tsx. Runs the whole stack from the built output against the test PostgreSQL and checks that the
 * entry points it starts by path work there too: the DuckDB child process, the shell engine's
 * watchdog process, and the lineage worker thread (a PostgreSQL job's SQL is parsed with a
 * dt-sql-parser grammar in it).
 */
describe('the production build runs a job', () => {
  let db: TestDatabase;
  let home: string;
  let buildDir: string | undefined;
  let child: ChildProcess | undefined;
  let output = '';
  let receiver: Server;
  const received: LineageEvent[] = [];
  let url = '';
  let token = '';

  const call = async (method: string, p: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${url}${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };

  before(async () => {
    // A build of its own (three levels below the root, as apps/standalone/dist), so a developer's
    // dist/ and a concurrent run are left alone.
    buildDir = path.join(ROOT, '.cache', `built-test-${process.pid}`);
    const { main } = (await buildSluice({ quiet: true, outdir: path.join(buildDir, 'dist') })) as { main: string };
    assert.ok(existsSync(main), 'the build wrote its main module');
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        if (req.url === '/api/v1/lineage' && req.method === 'POST') received.push(JSON.parse(body) as LineageEvent);
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    db = await freshDatabase('built');
    home = mkdtempSync(path.join(os.tmpdir(), 'sluice-built-'));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: db.url,
      SLUICE_QUEUE_BACKEND: 'postgres',
      SLUICE_BUS_BACKEND: 'postgres',
      SLUICE_HOME: home,
      SLUICE_HOST: '127.0.0.1',
      SLUICE_PORT: '0',
      SLUICE_PG_PORT: '0',
      SLUICE_LOG_LEVEL: 'warn',
      SLUICE_ENGINES: 'duckdb,jdbc,shell',
      SLUICE_MASTER_KEYS: `built1:${randomBytes(32).toString('base64')}`,
      SLUICE_LINEAGE_TRANSPORT: 'http',
      SLUICE_LINEAGE_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
    };
    // Plain node: no --import tsx, no source condition.
    child = spawn(process.execPath, [main], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const deadline = Date.now() + 120_000;
    for (;;) {
      const u = /export SLUICE_URL=(\S+)/.exec(output)?.[1];
      const t = /export SLUICE_TOKEN=(\S+)/.exec(output)?.[1];
      if (u && t) {
        url = u;
        token = t;
        break;
      }
      if (child.exitCode !== null) throw new Error(`the built main exited ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`the built main printed no URL and token within 120 s:\n${output}`);
      await sleep(200);
    }
  });

  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child?.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    receiver?.close();
    await db?.drop().catch(() => {});
    if (home) rmSync(home, { recursive: true, force: true });
    if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  });

  it('answers a DuckDB job (in its child process) over REST', async () => {
    const job = await call('POST', '/api/v1/jobs?wait=60', { code: 'select 6 * 7 as answer' });
    assert.equal(job.status, 201, JSON.stringify(job.body));
    assert.equal(job.body.state, 'Succeed', JSON.stringify(job.body.error));
    assert.match(String(job.body.engineType), /^duckdb-/);
    const rows = await call('GET', `/api/v1/jobs/${String(job.body.id)}/results/0`);
    assert.equal(rows.status, 200, JSON.stringify(rows.body));
    assert.equal((rows.body.rows as unknown[][])[0]?.[0], 42);
  });

  it('runs a shell job (its engine starts the watchdog process by path)', async () => {
    const job = await call('POST', '/api/v1/jobs?wait=60', { code: 'echo built-ok', engineType: 'shell' });
    assert.equal(job.status, 201, JSON.stringify(job.body));
    assert.equal(job.body.state, 'Succeed', JSON.stringify(job.body.error));
  });

  it('emits the lineage of a PostgreSQL job, parsed by the grammar in the lineage worker thread', async () => {
    const pgUrl = new URL(db.url);
    const created = await call('POST', '/api/v1/datasources', {
      name: 'built_pg',
      type: 'postgresql',
      params: {
        host: pgUrl.hostname,
        port: Number(pgUrl.port || 5432),
        database: db.name,
        user: decodeURIComponent(pgUrl.username),
        password: decodeURIComponent(pgUrl.password),
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const published = await call('POST', '/api/v1/datasources/built_pg/versions/1/publish');
    assert.equal(published.status, 200, JSON.stringify(published.body));
    const job = await call('POST', '/api/v1/jobs?wait=60', { code: 'select count(*) as n from pg_catalog.pg_class', dataSource: 'built_pg' });
    assert.equal(job.status, 201, JSON.stringify(job.body));
    assert.equal(job.body.state, 'Succeed', JSON.stringify(job.body.error));
    const rows = await call('GET', `/api/v1/jobs/${String(job.body.id)}/results/0`);
    assert.ok(Number((rows.body.rows as unknown[][])[0]?.[0]) > 0, JSON.stringify(rows.body));
    const complete = await waitFor(() => received.find((e) => e.eventType === 'COMPLETE' && (e.inputs ?? []).some((d) => d.name.endsWith('pg_class'))), {
      timeoutMs: 60_000,
      what: `the COMPLETE event of the PostgreSQL job\n${output}`,
    });
    assert.equal(
      complete.job.facets?.sql?.lineageParser,
      'dt-sql-parser',
      `parsed with the grammar, in the worker: ${JSON.stringify(complete.job.facets?.sql)}`,
    );
    assert.doesNotMatch(output, /lineage worker.*(fail|crash|unavailable)/i);
  });
});
