/**
 * Trino benchmark: rows per second of a large TPC-H result through Sluice (a job on a `trino` data
 * source, its result downloaded over REST while the job still writes it: `?follow=true`) against the
 * same query read directly from the coordinator with the `trino-client` npm package, in the same
 * run, and the memory of the Sluice process meanwhile.
 *
 *   node --conditions=sluice-source --import tsx test/bench/trino.bench.ts
 *
 * Settings: TRINO_BENCH_QUERY (default: all 1.5 M rows of tpch.sf1.orders), TRINO_BENCH_RUNS (3),
 * TRINO_BENCH_SLUICE: `built` (default) builds Sluice (`npm run build`) and runs its production entry,
 * `node apps/standalone/dist/main.js`, as a process of its own; `source` runs the stack from
 * TypeScript through tsx instead (a child of this script, which also reports its heap at the peak).
 * Needs the real Trino of scripts/engines/trino.sh (started when TRINO_URL is unset) and the
 * PostgreSQL of scripts/services.sh (started when DATABASE_URL is unset).
 *
 * The direct baseline is the `trino-client` package (axios, JSON.parse per page), as issue 4 names
 * it. A minimal protocol client (node:http keep-alive, POST, follow nextUri, JSON.parse) is measured
 * too, as an extra line: the fastest a Node.js client of the protocol gets.
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@sluice/core';
import { ALL_ROLES, startStack } from '@sluice/standalone';
import { freshDatabase } from '@sluice/testkit';
import { BasicAuth, Trino } from 'trino-client';
import { ensureTrino } from '../../packages/engine-conn-presto/test/trino-server.ts';
// @ts-expect-error: a plain ES module of the repository's scripts, without type declarations.
import { buildSluice } from '../../scripts/build.mjs';

const QUERY = process.env.TRINO_BENCH_QUERY ?? 'SELECT * FROM tpch.sf1.orders';
const RUNS = Number(process.env.TRINO_BENCH_RUNS ?? 3);
const FROM = process.env.TRINO_BENCH_SLUICE ?? 'built';
const root = fileURLToPath(new URL('../../', import.meta.url));

/** One measured read of the query's whole result. */
interface Measurement {
  rows: number;
  ms: number;
  rowsPerSecond: number;
  /** Sluice only: submit → first byte of the download, and submit → Succeed as seen once the download ended. */
  phases?: { firstByteMs: number; downloadMs: number };
  /** Sluice only: highest RSS of the Sluice process sampled every 50 ms during the job and its download. */
  peakRssMiB?: number;
  /** Sluice from source only: `process.memoryUsage()` of the Sluice process (MiB) at its highest RSS during the run. */
  memoryAtPeakMiB?: Record<string, number>;
}

function ensureDatabase(): void {
  if (process.env.DATABASE_URL) return;
  const out = execFileSync('bash', ['scripts/services.sh', 'start'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const line of out.split('\n')) {
    const m = /^export (\w+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined && !process.env[m[1]]) process.env[m[1]] = m[2];
  }
}

/** Reads a response body as text. */
function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

/** The direct baseline of the issue: the `trino-client` package, counting the rows of every page. */
async function directTrinoClient(trinoUrl: string, sql: string): Promise<Measurement> {
  const client = Trino.create({ server: trinoUrl, auth: new BasicAuth('bench-direct') });
  const started = performance.now();
  let rows = 0;
  let failure: string | undefined;
  for await (const page of await client.query(sql)) {
    rows += page.data?.length ?? 0;
    if (page.error) failure = page.error.message;
  }
  if (failure) throw new Error(`trino-client query failed: ${failure}`);
  const ms = performance.now() - started;
  return { rows, ms, rowsPerSecond: rows / (ms / 1000) };
}

/** The extra line: a minimal protocol client (POST, follow nextUri, JSON.parse every page, count rows). */
async function direct(trinoUrl: string, sql: string): Promise<Measurement> {
  const agent = new http.Agent({ keepAlive: true });
  const request = (method: string, url: string, body?: string) =>
    new Promise<{ nextUri?: string; data?: unknown[][]; error?: { message: string } }>((resolve, reject) => {
      const req = http.request(
        url,
        { method, agent, headers: { 'X-Trino-User': 'bench-direct', ...(body ? { 'content-type': 'text/plain' } : {}) } },
        (res) => {
          readBody(res).then((text) => resolve(JSON.parse(text)), reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const started = performance.now();
  let rows = 0;
  let page = await request('POST', `${trinoUrl}/v1/statement`, sql);
  for (;;) {
    rows += page.data?.length ?? 0;
    if (!page.nextUri) break;
    page = await request('GET', page.nextUri);
  }
  agent.destroy();
  if (page.error) throw new Error(`direct query failed: ${page.error.message}`);
  const ms = performance.now() - started;
  return { rows, ms, rowsPerSecond: rows / (ms / 1000) };
}

/** A minimal REST client of the Sluice gateway. */
function api(base: string, token: string) {
  return async <T>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${base}${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
}

/** A process's resident set (`VmRSS`), or its peak so far (`VmHWM`), in bytes, from /proc. */
function rssOf(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Counts the lines of a streamed body with the native byte search (a JS loop per byte costs seconds). */
async function countLines(body: AsyncIterable<Uint8Array>): Promise<number> {
  let lines = 0;
  for await (const chunk of body) {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) lines += 1;
  }
  return lines;
}

/**
 * Through Sluice, overlapped: submit a job on the data source and at once ask for its first result
 * set with `?follow=true`: the gateway answers as soon as the set begins and streams rows as the job
 * writes them, ending when it is sealed. Then checks that the job succeeded. One job per format.
 */
async function throughSluice(base: string, token: string, dataSource: string, sql: string, format: 'csv' | 'jsonl', stackPid: number): Promise<Measurement> {
  const call = api(base, token);
  let peak = rssOf(stackPid);
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssOf(stackPid));
  }, 50);
  try {
    const started = performance.now();
    const submitted = await call<{ id: string; code?: string; message?: string }>('POST', '/api/v1/jobs', { code: sql, engineType: 'trino', dataSource });
    if (submitted.status >= 300) throw new Error(`submit: ${submitted.status} ${JSON.stringify(submitted.body)}`);
    const id = submitted.body.id;
    const res = await fetch(`${base}/api/v1/jobs/${id}/results/0/download?format=${format}&follow=true`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200 || !res.body) throw new Error(`download ${format}: ${res.status} ${await res.text()}`);
    const firstByteMs = performance.now() - started;
    const lines = await countLines(res.body as unknown as AsyncIterable<Uint8Array>);
    const ms = performance.now() - started;
    const job = await call<{ state: string; error: unknown }>('GET', `/api/v1/jobs/${id}?wait=30`);
    if (job.body.state !== 'Succeed') throw new Error(`job ${id} ${job.body.state}: ${JSON.stringify(job.body.error)}`);
    const rows = format === 'csv' ? lines - 1 : lines;
    return { rows, ms, rowsPerSecond: rows / (ms / 1000), phases: { firstByteMs, downloadMs: ms - firstByteMs }, peakRssMiB: Math.round(peak / 1024 / 1024) };
  } finally {
    clearInterval(sampler);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/**
 * Child mode (`--stack`): runs gateway, entrance and engine manager in this process, the way
 * `npm start` does, and hands the parent its URL and a token. A process of its own, so its memory is
 * measured without the benchmark client's.
 */
async function serveStack(): Promise<void> {
  const stack = await startStack(loadConfig(process.env), { roles: ALL_ROLES });
  const token = (await stack.tokens.create({ user: 'bench', name: 'trino-bench' })).token;
  // What the memory is made of at the highest RSS seen since the parent last asked.
  const mib = (n: number) => Math.round(n / 1024 / 1024);
  let peak = process.memoryUsage();
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    if (now.rss > peak.rss) peak = now;
  }, 50);
  sampler.unref();
  process.send?.({ url: stack.url, token });
  process.on('message', (message) => {
    if (message === 'stop') void stack.stop().finally(() => process.exit(0));
    if (message === 'memory') {
      process.send?.({
        memory: {
          rss: mib(peak.rss),
          heapTotal: mib(peak.heapTotal),
          heapUsed: mib(peak.heapUsed),
          external: mib(peak.external),
          arrayBuffers: mib(peak.arrayBuffers),
        },
      });
      peak = process.memoryUsage();
    }
  });
  // The stack must not outlive the benchmark.
  process.on('disconnect', () => void stack.stop().finally(() => process.exit(0)));
}

async function main(): Promise<void> {
  const trino = await ensureTrino();
  ensureDatabase();
  const db = await freshDatabase('trinobench');
  const home = mkdtempSync(path.join(os.tmpdir(), 'sluice-trino-bench-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: db.url,
    SLUICE_QUEUE_BACKEND: 'postgres',
    SLUICE_BUS_BACKEND: 'postgres',
    SLUICE_HOME: home,
    SLUICE_HOST: '127.0.0.1',
    SLUICE_PORT: '0',
    SLUICE_LOG_LEVEL: 'silent',
    SLUICE_ENGINES: 'duckdb,trino',
    SLUICE_MASTER_KEYS: `bench1:${randomBytes(32).toString('base64')}`,
  };
  // Any other SLUICE_* setting of the benchmark's own environment reaches the Sluice process too.
  for (const [name, value] of Object.entries(process.env)) if (name.startsWith('SLUICE_') && !(name in env) && value !== undefined) env[name] = value;
  const nodeArgs = process.env.TRINO_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  if (FROM !== 'built' && FROM !== 'source') throw new Error(`TRINO_BENCH_SLUICE must be built or source, not ${FROM}`);
  let child: ChildProcess;
  if (FROM === 'built') {
    // Production as production runs: the built entry under plain node, all roles in one process.
    const { main: builtMain } = (await buildSluice({ quiet: true })) as { main: string };
    child = spawn(process.execPath, [...nodeArgs, builtMain], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  } else {
    child = fork(fileURLToPath(import.meta.url), ['--stack'], {
      env,
      // TRINO_BENCH_NODE_ARGS: extra Node options of the Sluice process (e.g. --cpu-prof to profile it).
      execArgv: [...process.execArgv, ...nodeArgs],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }
  const stopChild = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (FROM === 'built') child.kill('SIGTERM');
    else child.send('stop');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    child.kill('SIGKILL');
  };
  try {
    const { url: base, token } = await new Promise<{ url: string; token: string }>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the Sluice process exited with ${code} during start-up`)));
      if (FROM === 'source') {
        child.once('message', (m) => resolve(m as { url: string; token: string }));
        return;
      }
      // The built main prints its URL and a fresh admin token on stderr, as `npm start` does.
      let printed = '';
      child.stderr?.on('data', (d: Buffer) => {
        if (printed.length < 1 << 16) printed += d.toString();
        const url = /export SLUICE_URL=(\S+)/.exec(printed)?.[1];
        const t = /export SLUICE_TOKEN=(\S+)/.exec(printed)?.[1];
        if (url && t) resolve({ url, token: t });
      });
    });
    const stackPid = child.pid ?? 0;
    // The source child reports process.memoryUsage() at its peak; the built main has no such channel.
    const memoryAtPeak = () =>
      new Promise<Record<string, number> | undefined>((resolve) => {
        if (FROM === 'built') {
          resolve(undefined);
          return;
        }
        const onMessage = (m: unknown) => {
          const memory = (m as { memory?: Record<string, number> }).memory;
          if (!memory) return;
          child.off('message', onMessage);
          resolve(memory);
        };
        child.on('message', onMessage);
        child.send('memory');
      });
    const call = api(base, token);
    const created = await call('POST', '/api/v1/datasources', {
      name: 'bench_trino',
      type: 'trino',
      params: { host: trino.host, port: trino.port, catalog: 'tpch', schema: 'sf1' },
    });
    if (created.status !== 201) throw new Error(`create data source: ${created.status} ${JSON.stringify(created.body)}`);
    const published = await call('POST', '/api/v1/datasources/bench_trino/versions/1/publish');
    if (published.status !== 200) throw new Error(`publish: ${published.status} ${JSON.stringify(published.body)}`);

    // Warm-up: the engine launch, JIT of every path, Trino's plan caches.
    for (const format of ['jsonl', 'csv'] as const) await throughSluice(base, token, 'bench_trino', 'SELECT * FROM tpch.tiny.orders', format, stackPid);
    await directTrinoClient(trino.url, 'SELECT * FROM tpch.tiny.orders');
    await direct(trino.url, 'SELECT * FROM tpch.tiny.orders');
    const warmRss = Math.round(rssOf(stackPid) / 1024 / 1024);
    const warmMemory = await memoryAtPeak();

    const sluice: Record<'jsonl' | 'csv', Measurement[]> = { jsonl: [], csv: [] };
    const baseline: Measurement[] = [];
    const minimal: Measurement[] = [];
    for (let run = 1; run <= RUNS; run++) {
      // Interleaved, so every path sees the same machine state (page cache, Trino's JIT, which keeps warming up).
      const d = await directTrinoClient(trino.url, QUERY);
      baseline.push(d);
      const m = await direct(trino.url, QUERY);
      minimal.push(m);
      const line = [
        `run ${run}: trino-client ${Math.round(d.rowsPerSecond)} rows/s (${Math.round(d.ms)} ms); minimal client ${Math.round(m.rowsPerSecond)} rows/s`,
      ];
      for (const format of ['jsonl', 'csv'] as const) {
        const s = await throughSluice(base, token, 'bench_trino', QUERY, format, stackPid);
        if (s.rows !== d.rows) throw new Error(`row counts differ: Sluice ${format} ${s.rows}, direct ${d.rows}`);
        s.memoryAtPeakMiB = await memoryAtPeak();
        sluice[format].push(s);
        line.push(
          `Sluice ${format} ${Math.round(s.rowsPerSecond)} rows/s = ${((s.rowsPerSecond / d.rowsPerSecond) * 100).toFixed(1)} % of this run's trino-client (${Math.round(s.ms)} ms, first byte ${Math.round(s.phases?.firstByteMs ?? 0)} ms, peak RSS ${s.peakRssMiB} MiB)`,
        );
      }
      console.error(line.join('; '));
    }
    const med = (ms: Measurement[], f: (m: Measurement) => number) => Math.round(median(ms.map(f)));
    const rate = (ms: Measurement[]) => median(ms.map((m) => m.rowsPerSecond));
    const directRate = rate(baseline);
    const minimalRate = rate(minimal);
    const jsonlRate = rate(sluice.jsonl);
    const csvRate = rate(sluice.csv);
    const peakRss = Math.max(...[...sluice.jsonl, ...sluice.csv].map((m) => m.peakRssMiB ?? 0));
    const highWater = Math.round(rssOf(stackPid, 'VmHWM') / 1024 / 1024);
    const ratio = Math.max(jsonlRate, csvRate) / directRate;
    const pct = (r: number) => `${((r / directRate) * 100).toFixed(1)} %`;
    const report = {
      when: new Date().toISOString(),
      query: QUERY,
      sluiceFrom: FROM === 'built' ? 'production build: node apps/standalone/dist/main.js' : 'TypeScript source through tsx',
      rows: baseline[0]?.rows,
      runs: RUNS,
      machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, shared: true },
      trino: { version: '476', url: trino.url },
      direct: { client: 'trino-client', medianRowsPerSecond: Math.round(directRate), runs: baseline },
      minimalClient: { medianRowsPerSecond: Math.round(minimalRate), runs: minimal },
      sluice: {
        overlapped: true,
        jsonlMedianRowsPerSecond: Math.round(jsonlRate),
        csvMedianRowsPerSecond: Math.round(csvRate),
        runs: sluice,
        warmRssMiB: warmRss,
        warmMemoryAtPeakMiB: warmMemory,
        peakRssMiB: peakRss,
        highWaterRssMiB: highWater,
      },
      ratio: Number(ratio.toFixed(3)),
      // 300 MB = 286 MiB.
      targets: { ratio: 0.8, rssMiB: 286, ratioMet: ratio >= 0.8, rssMet: highWater < 286 },
    };
    const table = [
      '| path | rows | median rows/s | median ms | of direct |',
      '| --- | --- | --- | --- | --- |',
      `| direct: \`trino-client\` | ${report.rows} | ${Math.round(directRate)} | ${med(baseline, (m) => m.ms)} | 100 % |`,
      `| direct: minimal protocol client (node:http + JSON.parse) | ${report.rows} | ${Math.round(minimalRate)} | ${med(minimal, (m) => m.ms)} | ${pct(minimalRate)} |`,
      `| Sluice job + REST download overlapped (\`?follow=true\`), JSON lines | ${report.rows} | ${Math.round(jsonlRate)} | ${med(sluice.jsonl, (m) => m.ms)} (first byte ${med(sluice.jsonl, (m) => m.phases?.firstByteMs ?? 0)}) | ${pct(jsonlRate)} |`,
      `| Sluice job + REST download overlapped (\`?follow=true\`), CSV | ${report.rows} | ${Math.round(csvRate)} | ${med(sluice.csv, (m) => m.ms)} (first byte ${med(sluice.csv, (m) => m.phases?.firstByteMs ?? 0)}) | ${pct(csvRate)} |`,
      '',
      `Sluice ran from ${report.sluiceFrom}. Best Sluice / trino-client = ${(ratio * 100).toFixed(1)} % (target ≥ 80 %). RSS of the Sluice process (gateway + entrance + engine manager): ${warmRss} MiB after the warm-up jobs, peak sampled while jobs ran and were downloaded ${peakRss} MiB, high-water mark over its life ${highWater} MiB (target < 300 MB = 286 MiB).`,
    ].join('\n');
    console.log(table);
    mkdirSync(path.join(root, 'bench-results'), { recursive: true });
    const file = path.join(root, 'bench-results', `trino-${report.when.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.error(`wrote ${path.relative(root, file)}`);
  } finally {
    await stopChild();
    await db.drop().catch(() => {});
    rmSync(home, { recursive: true, force: true });
  }
}

const run = process.argv[2] === '--stack' ? serveStack : main;
run().then(
  () => {
    // The child keeps serving until the parent says stop.
    if (run === main) process.exit(0);
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
