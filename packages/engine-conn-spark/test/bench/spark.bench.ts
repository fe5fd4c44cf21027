/**
 * Spark benchmark, on the real Spark of scripts/engines/spark.sh:
 *
 * 1. Job latency through Sluice (REST submit → Succeed): a cold job (executeOnce, so the engine
 *    manager launches a fresh Spark driver and stops it afterwards) against warm jobs on the user's
 *    reused engine. Target: warm median ≤ 2 % of the cold median.
 * 2. Arrow result throughput of a large query: the raw Arrow IPC stream over Spark Connect (bytes and
 *    rows per second, no decoding), decoding alone, the connector's rows events, and the whole job
 *    through Sluice into the result store.
 *
 *   node --conditions=sluice-source --import tsx packages/engine-conn-spark/test/bench/spark.bench.ts
 *
 * Settings: SPARK_BENCH_COLD_RUNS (3), SPARK_BENCH_WARM_RUNS (20), SPARK_BENCH_ROWS (2000000).
 * PostgreSQL and Redis come from scripts/services.sh when DATABASE_URL / REDIS_URL are unset. Prints
 * a table and writes bench-results/spark-<timestamp>.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type EngineConnector, SluiceError } from '@sluice/core';
import { testEnv } from '../../../../test/support/test-stack.ts';
import { ConnectClient, createSparkConnector, decodeArrowBatches, loadConnectProtocol, type SparkEngine } from '../../src/index.ts';
import { ensureSpark, testConnectorOptions } from '../spark-home.ts';
import { startSparkStack } from '../support/spark-stack.ts';

const COLD_RUNS = Number(process.env.SPARK_BENCH_COLD_RUNS ?? 3);
const WARM_RUNS = Number(process.env.SPARK_BENCH_WARM_RUNS ?? 20);
const ROWS = Number(process.env.SPARK_BENCH_ROWS ?? 2_000_000);
const LARGE_QUERY = `SELECT id, id * 2 AS twice, CAST(id AS STRING) AS label, CAST(id AS DOUBLE) / 3 AS third FROM range(0, ${ROWS}, 1, 2)`;
const root = path.resolve(import.meta.dirname, '../../../..');

function ensureServices(): void {
  if (process.env.DATABASE_URL && process.env.REDIS_URL) return;
  const out = execFileSync('bash', ['scripts/services.sh', 'start'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const line of out.split('\n')) {
    const m = /^export (\w+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined && !process.env[m[1]]) process.env[m[1]] = m[2];
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** Latency of jobs through Sluice: cold (fresh engine per job) against warm (reused engine). */
async function latency(): Promise<{ coldMs: number[]; warmMs: number[] }> {
  const env = await testEnv('postgres');
  const stack = await startSparkStack(env, await testConnectorOptions(), { SLUICE_ENGINE_IDLE_SECONDS: '600', SLUICE_QUEUE_TIMEOUT_SECONDS: '600' });
  const api = stack.api('alice');
  const job = async (body: Record<string, unknown>) => {
    const sub = await api.submit({ engineType: 'spark', code: 'SELECT 1 AS one', creator: 'bench', ...body });
    const done = await api.waitFor(sub.body.id, undefined, 300_000);
    if (done.state !== 'Succeed') throw new Error(`job ${done.id}: ${done.state} ${JSON.stringify(done.error)}`);
  };
  try {
    const coldMs: number[] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      const { ms } = await timed(() => job({ executeOnce: true }));
      coldMs.push(ms);
      console.error(`cold job ${i + 1}/${COLD_RUNS}: ${Math.round(ms)} ms`);
    }
    await job({}); // launches the reusable engine
    await job({}); // and warms its planner
    const warmMs: number[] = [];
    for (let i = 0; i < WARM_RUNS; i++) warmMs.push((await timed(() => job({}))).ms);
    console.error(`warm jobs: median ${Math.round(median(warmMs))} ms`);
    return { coldMs, warmMs };
  } finally {
    await stack.stop();
    await env.cleanup();
  }
}

/** Throughput of a large result: raw Arrow over gRPC, decoding, connector events, whole job through Sluice. */
async function throughput(): Promise<Record<string, { rows: number; ms: number; rowsPerSecond: number; mbPerSecond?: number }>> {
  const out: Record<string, { rows: number; ms: number; rowsPerSecond: number; mbPerSecond?: number }> = {};
  const connector: EngineConnector = createSparkConnector(await testConnectorOptions({ defaultDriverMemory: '1g' }));
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'sluice-spark-bench-'));
  const engine = (await connector.launch({ engineId: 'bench', user: 'bench', version: '4', workDir, params: {} })) as SparkEngine;
  try {
    const run = async () => {
      let rows = 0;
      for await (const e of engine.execute({
        taskId: `bench-${Date.now()}`,
        code: LARGE_QUERY,
        codeType: 'sql',
        runtimeParams: {},
        signal: new AbortController().signal,
      })) {
        if (e.type === 'rows') rows += e.rows.length;
      }
      return rows;
    };
    await run(); // warm-up: JIT on both sides
    const events = await timed(run);
    out.connectorRowsEvents = { rows: events.value, ms: events.ms, rowsPerSecond: events.value / (events.ms / 1000) };

    // The same query on the same server through a bare Connect client: Arrow bytes only.
    const protocol = loadConnectProtocol();
    const client = new ConnectClient(protocol, { target: engine.endpoint ?? '', userId: 'bench-raw' });
    const batches: Buffer[] = [];
    const raw = await timed(async () => {
      let rows = 0;
      for await (const r of client.executeSql(LARGE_QUERY, []).responses) {
        if (r.arrow_batch?.data) {
          batches.push(r.arrow_batch.data);
          rows += Number(r.arrow_batch.row_count ?? 0);
        }
      }
      return rows;
    });
    client.close();
    const bytes = batches.reduce((n, b) => n + b.length, 0);
    out.rawArrowStream = { rows: raw.value, ms: raw.ms, rowsPerSecond: raw.value / (raw.ms / 1000), mbPerSecond: bytes / 1048576 / (raw.ms / 1000) };
    const decode = await timed(async () => batches.reduce((n, b) => n + decodeArrowBatches(b).rows.length, 0));
    out.arrowDecodeOnly = {
      rows: decode.value,
      ms: decode.ms,
      rowsPerSecond: decode.value / (decode.ms / 1000),
      mbPerSecond: bytes / 1048576 / (decode.ms / 1000),
    };
  } finally {
    await engine.close();
    rmSync(workDir, { recursive: true, force: true });
  }

  // The whole job through Sluice: engine, result store (NDJSON files), PostgreSQL index.
  const env = await testEnv('postgres');
  const stack = await startSparkStack(env, await testConnectorOptions({ defaultDriverMemory: '1g' }), { SLUICE_ENGINE_IDLE_SECONDS: '600' });
  try {
    const api = stack.api('alice');
    const job = async () => {
      const sub = await api.submit({ engineType: 'spark', code: LARGE_QUERY, creator: 'bench' });
      const done = await api.waitFor(sub.body.id, undefined, 600_000);
      if (done.state !== 'Succeed') throw new SluiceError('SLUICE_INTERNAL', { reason: JSON.stringify(done.error) });
      return done;
    };
    await job(); // launch and warm-up
    const timedJob = await timed(job);
    out.sluiceJobToResultStore = { rows: ROWS, ms: timedJob.ms, rowsPerSecond: ROWS / (timedJob.ms / 1000) };
  } finally {
    await stack.stop();
    await env.cleanup();
  }
  return out;
}

ensureServices();
const spark = await ensureSpark();
const lat = await latency();
const tput = await throughput();
const coldMedian = median(lat.coldMs);
const warmMedian = median(lat.warmMs);
const ratio = warmMedian / coldMedian;
const report = {
  at: new Date().toISOString(),
  spark: spark.version,
  machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), load1: os.loadavg()[0] },
  latency: {
    coldMs: lat.coldMs,
    warmMs: lat.warmMs,
    coldMedianMs: coldMedian,
    warmMedianMs: warmMedian,
    warmP95Ms: percentile(lat.warmMs, 95),
    warmOverCold: ratio,
    target: 0.02,
    met: ratio <= 0.02,
  },
  throughput: { query: LARGE_QUERY, ...tput },
};
const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(`\nSpark ${spark.version} benchmark (${report.machine.cpus} cores, load ${f(report.machine.load1 ?? 0, 1)})\n`);
const line = (a: string, b: string) => console.log(`| ${a.padEnd(44)} | ${b.padEnd(42)} |`);
line('measure', 'value');
line('-'.repeat(44), '-'.repeat(42));
line(`cold job (fresh driver), median of ${COLD_RUNS}`, `${f(coldMedian)} ms`);
line(`warm job (reused engine), median of ${WARM_RUNS}`, `${f(warmMedian)} ms (p95 ${f(report.latency.warmP95Ms)} ms)`);
line('warm / cold (target <= 2 %)', `${f(ratio * 100, 2)} % ${report.latency.met ? 'met' : 'NOT met'}`);
for (const [name, m] of Object.entries(tput)) {
  line(`${name} (${f(m.rows)} rows)`, `${f(m.rowsPerSecond)} rows/s${m.mbPerSecond ? `, ${f(m.mbPerSecond, 1)} MB/s` : ''}`);
}
const dir = path.join(root, 'bench-results');
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `spark-${report.at.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nwrote ${path.relative(root, file)}`);
process.exit(0);
