/**
 * Trino benchmark: rows per second of a large TPC-H result through Sluice (a job on a `trino` data
 * source, then the REST download of its result) against the same query read directly from the
 * coordinator in the same run, and the memory of the Sluice process meanwhile.
 *
 *   node --conditions=sluice-source --import tsx test/bench/trino.bench.ts
 *
 * Settings: TRINO_BENCH_QUERY (default: all 1.5 M rows of tpch.sf1.orders), TRINO_BENCH_RUNS (3).
 * Needs the real Trino of scripts/engines/trino.sh (started when TRINO_URL is unset) and the
 * PostgreSQL of scripts/services.sh (started when DATABASE_URL is unset).
 *
 * The direct baseline is a minimal protocol client (node:http keep-alive, POST, follow nextUri,
 * JSON.parse, count rows), what the `trino-client` npm package does per page (axios + JSON.parse).
 * That package is not installed in this tree, so it is not measured itself.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@sluice/core';
import { ALL_ROLES, startStack } from '@sluice/standalone';
import { freshDatabase } from '@sluice/testkit';
import { ensureTrino } from '../../packages/engine-conn-presto/test/trino-server.ts';

const QUERY = process.env.TRINO_BENCH_QUERY ?? 'SELECT * FROM tpch.sf1.orders';
const RUNS = Number(process.env.TRINO_BENCH_RUNS ?? 3);
const root = fileURLToPath(new URL('../../', import.meta.url));

/** One measured read of the query's whole result. */
interface Measurement {
  rows: number;
  ms: number;
  rowsPerSecond: number;
  /** Sluice only: submit → Succeed, and the download after it. */
  phases?: { runMs: number; downloadMs: number };
  /** Sluice only: highest RSS of the Sluice process sampled every 50 ms during the run. */
  peakRssMiB?: number;
  /** Sluice only: the same, split by phase: while the job ran, and while its result was downloaded. */
  peakRssByPhaseMiB?: { job: number; download: number };
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

/** The direct baseline: POST, follow nextUri, JSON.parse every page, count rows. */
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

/** Downloads a result set in `format` and counts its rows; CSV has a header line. */
async function download(base: string, token: string, id: string, format: 'csv' | 'jsonl'): Promise<{ rows: number; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${base}/api/v1/jobs/${id}/results/0/download?format=${format}`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200 || !res.body) throw new Error(`download ${format}: ${res.status}`);
  const lines = await countLines(res.body as unknown as AsyncIterable<Uint8Array>);
  return { rows: format === 'csv' ? lines - 1 : lines, ms: performance.now() - started };
}

/**
 * Through Sluice: submit a job on the data source, wait for it, download its result. The result is
 * downloaded as JSON lines and as CSV; each adds to the same job run, so there is one measurement
 * per format.
 */
async function throughSluice(base: string, token: string, dataSource: string, sql: string, stackPid: number): Promise<Record<'jsonl' | 'csv', Measurement>> {
  const call = api(base, token);
  const peaks = { job: rssOf(stackPid), download: 0 };
  let phase: keyof typeof peaks = 'job';
  const sampler = setInterval(() => {
    peaks[phase] = Math.max(peaks[phase], rssOf(stackPid));
  }, 50);
  try {
    const started = performance.now();
    const submitted = await call<{ id: string; code?: string; message?: string }>('POST', '/api/v1/jobs', { code: sql, engineType: 'trino', dataSource });
    if (submitted.status >= 300) throw new Error(`submit: ${submitted.status} ${JSON.stringify(submitted.body)}`);
    const id = submitted.body.id;
    for (;;) {
      const job = await call<{ state: string; error: unknown }>('GET', `/api/v1/jobs/${id}`);
      if (job.body.state === 'Succeed') break;
      if (['Failed', 'Cancelled', 'Timeout'].includes(job.body.state)) throw new Error(`job ${id} ${job.body.state}: ${JSON.stringify(job.body.error)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const runMs = performance.now() - started;
    phase = 'download';
    const out = {} as Record<'jsonl' | 'csv', Measurement>;
    for (const format of ['jsonl', 'csv'] as const) {
      const d = await download(base, token, id, format);
      const ms = runMs + d.ms;
      out[format] = { rows: d.rows, ms, rowsPerSecond: d.rows / (ms / 1000), phases: { runMs, downloadMs: d.ms }, peakRssMiB: 0 };
    }
    const mib = (n: number) => Math.round(n / 1024 / 1024);
    for (const m of [out.jsonl, out.csv]) {
      m.peakRssMiB = mib(Math.max(peaks.job, peaks.download));
      m.peakRssByPhaseMiB = { job: mib(peaks.job), download: mib(peaks.download) };
    }
    return out;
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
  process.send?.({ url: stack.url, token });
  process.on('message', (message) => {
    if (message === 'stop') void stack.stop().finally(() => process.exit(0));
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
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--stack'], {
    env,
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stopChild = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.send('stop');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    child.kill('SIGKILL');
  };
  try {
    const { url: base, token } = await new Promise<{ url: string; token: string }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as { url: string; token: string }));
      child.once('exit', (code) => reject(new Error(`the Sluice process exited with ${code} during start-up`)));
    });
    const stackPid = child.pid ?? 0;
    const call = api(base, token);
    const created = await call('POST', '/api/v1/datasources', {
      name: 'bench_trino',
      type: 'trino',
      params: { host: trino.host, port: trino.port, catalog: 'tpch', schema: 'sf1' },
    });
    if (created.status !== 201) throw new Error(`create data source: ${created.status} ${JSON.stringify(created.body)}`);
    const published = await call('POST', '/api/v1/datasources/bench_trino/versions/1/publish');
    if (published.status !== 200) throw new Error(`publish: ${published.status} ${JSON.stringify(published.body)}`);

    // Warm-up: the engine launch, JIT of both paths, Trino's plan caches.
    await throughSluice(base, token, 'bench_trino', 'SELECT * FROM tpch.tiny.orders', stackPid);
    await direct(trino.url, 'SELECT * FROM tpch.tiny.orders');
    const warmRss = Math.round(rssOf(stackPid) / 1024 / 1024);

    const sluice: Record<'jsonl' | 'csv', Measurement>[] = [];
    const baseline: Measurement[] = [];
    for (let run = 1; run <= RUNS; run++) {
      // Alternate, so both see the same machine state (page cache, Trino's JIT, which keeps warming up).
      const d = await direct(trino.url, QUERY);
      baseline.push(d);
      const s = await throughSluice(base, token, 'bench_trino', QUERY, stackPid);
      sluice.push(s);
      for (const m of [s.jsonl, s.csv]) if (m.rows !== d.rows) throw new Error(`row counts differ: Sluice ${m.rows}, direct ${d.rows}`);
      console.error(
        `run ${run}: direct ${Math.round(d.rowsPerSecond)} rows/s (${Math.round(d.ms)} ms); Sluice job ${Math.round(s.jsonl.phases?.runMs ?? 0)} ms + download jsonl ${Math.round(s.jsonl.phases?.downloadMs ?? 0)} ms / csv ${Math.round(s.csv.phases?.downloadMs ?? 0)} ms; peak RSS ${s.jsonl.peakRssByPhaseMiB?.job} MiB during the job, ${s.jsonl.peakRssByPhaseMiB?.download} MiB during the downloads`,
      );
    }
    const med = (ms: Measurement[], f: (m: Measurement) => number) => Math.round(median(ms.map(f)));
    const directRate = median(baseline.map((m) => m.rowsPerSecond));
    const jsonl = sluice.map((s) => s.jsonl);
    const csv = sluice.map((s) => s.csv);
    const jsonlRate = median(jsonl.map((m) => m.rowsPerSecond));
    const csvRate = median(csv.map((m) => m.rowsPerSecond));
    const jobRate = median(jsonl.map((m) => m.rows / ((m.phases?.runMs ?? 1) / 1000)));
    const peakRss = Math.max(...jsonl.map((m) => m.peakRssMiB ?? 0));
    const peakJob = Math.max(...jsonl.map((m) => m.peakRssByPhaseMiB?.job ?? 0));
    const peakDownload = Math.max(...jsonl.map((m) => m.peakRssByPhaseMiB?.download ?? 0));
    const highWater = Math.round(rssOf(stackPid, 'VmHWM') / 1024 / 1024);
    const ratio = Math.max(jsonlRate, csvRate) / directRate;
    const report = {
      when: new Date().toISOString(),
      query: QUERY,
      rows: baseline[0]?.rows,
      runs: RUNS,
      machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
      trino: { version: '476', url: trino.url },
      direct: { medianRowsPerSecond: Math.round(directRate), runs: baseline },
      sluice: {
        jsonlMedianRowsPerSecond: Math.round(jsonlRate),
        csvMedianRowsPerSecond: Math.round(csvRate),
        jobOnlyMedianRowsPerSecond: Math.round(jobRate),
        runs: sluice,
        warmRssMiB: warmRss,
        peakRssMiB: peakRss,
        peakRssByPhaseMiB: { job: peakJob, download: peakDownload },
        highWaterRssMiB: highWater,
      },
      ratio: Number(ratio.toFixed(3)),
      jobOnlyRatio: Number((jobRate / directRate).toFixed(3)),
      targets: { ratio: 0.8, rssMiB: 300, ratioMet: ratio >= 0.8, rssMet: highWater < 300 },
    };
    const table = [
      '| path | rows | median rows/s | median ms | of direct |',
      '| --- | --- | --- | --- | --- |',
      `| direct (minimal protocol client: node:http + JSON.parse) | ${report.rows} | ${Math.round(directRate)} | ${med(baseline, (m) => m.ms)} | 100 % |`,
      `| Sluice job only (submit → Succeed, rows in the result store) | ${report.rows} | ${Math.round(jobRate)} | ${med(jsonl, (m) => m.phases?.runMs ?? 0)} | ${((jobRate / directRate) * 100).toFixed(1)} % |`,
      `| Sluice job + REST download, JSON lines | ${report.rows} | ${Math.round(jsonlRate)} | ${med(jsonl, (m) => m.ms)} (download ${med(jsonl, (m) => m.phases?.downloadMs ?? 0)}) | ${((jsonlRate / directRate) * 100).toFixed(1)} % |`,
      `| Sluice job + REST download, CSV | ${report.rows} | ${Math.round(csvRate)} | ${med(csv, (m) => m.ms)} (download ${med(csv, (m) => m.phases?.downloadMs ?? 0)}) | ${((csvRate / directRate) * 100).toFixed(1)} % |`,
      '',
      `Best Sluice / direct = ${(ratio * 100).toFixed(1)} % (target ≥ 80 %). RSS of the Sluice process (gateway + entrance + engine manager): ${warmRss} MiB after the warm-up job, peak sampled while jobs ran ${peakJob} MiB, while results were downloaded ${peakDownload} MiB, high-water mark over its life ${highWater} MiB (target < 300 MiB).`,
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
