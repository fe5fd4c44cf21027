/**
 * Statement journal benchmark: what recording one short interactive statement costs, in the gateway's
 * CPU and in PostgreSQL's, with lineage events for every statement (`SLUICE_LINEAGE_INTERACTIVE=all`)
 * and only for statements that touch a dataset (`datasets`, the default; ADR 18).
 *
 *   node --conditions=sluice-source --import tsx test/bench/journal.bench.ts [--statements 5000] [--rounds 4]
 *
 * The statement is `SELECT 1 AS one` on a PostgreSQL data source, as the pgwire benchmark sends it.
 * The two policies take turns round by round on the same database, and the `all` figures are the
 * baseline of the ratios. PostgreSQL's CPU is read from /proc for the one server process that writes
 * the batches (the bench refuses a non-local server).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type JobStore, LineageRecorder, newJobId, StatementJournal } from '@sluice/entrance';
import { MIGRATIONS, migrate } from '@sluice/infra';
import { EXTRA_MIGRATIONS } from '@sluice/standalone';
import { freshDatabase } from '@sluice/testkit';
import pg from 'pg';
import { processCpuSeconds } from './cpu-accounting.ts';
import { ensureServices } from './services-env.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const STATEMENTS = arg('statements', 5000);
const ROUNDS = arg('rounds', 4);
const POLICIES = ['all', 'datasets'] as const;
type Policy = (typeof POLICIES)[number];

/** CPU of a local process so far, in microseconds. */
function processCpuUs(pid: number): number {
  const seconds = processCpuSeconds(pid);
  if (seconds === undefined) throw new Error(`cannot read the CPU time of process ${pid} (the bench needs Linux /proc)`);
  return seconds * 1e6;
}

async function main(): Promise<void> {
  ensureServices();
  const db = await freshDatabase('bench_journal');
  // One connection that stays: the batches are written by one server process, whose CPU is read.
  const pool = new pg.Pool({ connectionString: db.url, max: 1, idleTimeoutMillis: 0 });
  try {
    await migrate(pool, [...MIGRATIONS, ...EXTRA_MIGRATIONS]);
    const backend = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid as number;
    const recorder = new LineageRecorder({ namespace: 'sluice-bench' });
    const ds = { name: 'bench_pg', type: 'postgresql', version: 1, params: { host: '127.0.0.1', port: 5432, database: 'bench' }, secretFields: [] };
    const run = { managerId: 'bench', engineId: 'bench-engine', leaseMs: 30_000 };
    const lines = ['Job runs on jdbc engine bench-engine for alice (interactive, relayed)', 'SELECT 1', '1 row(s) streamed to the client'];
    // The journal's batches use the store's pool only (statements that end within 150 ms are never
    // written as Running), so the store is the pool and nothing else.
    const store = { pool } as unknown as JobStore;
    const journals: Record<Policy, StatementJournal> = {
      all: new StatementJournal({ store, log: console, lineage: recorder, lineageOf: 'all', flushMs: 60_000, maxBatch: 100 }),
      datasets: new StatementJournal({ store, log: console, lineage: recorder, lineageOf: 'datasets', flushMs: 60_000, maxBatch: 100 }),
    };
    const job = () => ({
      id: newJobId(),
      user: 'alice',
      creator: 'pgwire',
      engineType: 'jdbc',
      codeType: 'sql',
      code: 'SELECT 1 AS one',
      submittedCode: 'SELECT 1 AS one',
      variables: {},
      runtimeParams: {},
      startupParams: {},
      labels: { 'sluice.interactive': 'true' },
      priority: 0,
      executeOnce: true,
      dataSource: ds.name,
      queueTimeoutS: 600,
      runTimeoutS: 3600,
      idempotencyKey: null,
      requestHash: null,
      clientLeaseS: null,
    });
    const record = async (policy: Policy, n: number) => {
      const journal = journals[policy];
      for (let i = 0; i < n; i++) journal.begin(job(), run, ds).end({ state: 'Succeed', logLines: lines });
      await journal.flush();
    };
    // Warm-up: the parser's grammar, the prepared statement, the JIT.
    for (const p of POLICIES) await record(p, 1000);
    const spent: Record<Policy, { gatewayUs: number; postgresUs: number; wallUs: number }> = {
      all: { gatewayUs: 0, postgresUs: 0, wallUs: 0 },
      datasets: { gatewayUs: 0, postgresUs: 0, wallUs: 0 },
    };
    for (let r = 0; r < ROUNDS; r++) {
      for (const p of r % 2 === 0 ? POLICIES : [...POLICIES].reverse()) {
        const cpu = process.cpuUsage();
        const pgBefore = processCpuUs(backend);
        const t = process.hrtime.bigint();
        await record(p, STATEMENTS);
        spent[p].wallUs += Number(process.hrtime.bigint() - t) / 1000;
        const used = process.cpuUsage(cpu);
        spent[p].gatewayUs += used.user + used.system;
        spent[p].postgresUs += processCpuUs(backend) - pgBefore;
      }
    }
    const per = (p: Policy) => {
      const n = STATEMENTS * ROUNDS;
      return { gatewayCpuUs: spent[p].gatewayUs / n, postgresCpuUs: spent[p].postgresUs / n, wallUs: spent[p].wallUs / n };
    };
    const all = per('all');
    const datasets = per('datasets');
    const outbox = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM sluice_lineage_outbox')).rows[0]?.n;
    const jobs = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM sluice_jobs')).rows[0]?.n;
    const result = {
      bench: 'journal',
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
      settings: { statements: STATEMENTS, rounds: ROUNDS, batch: 100, statement: 'SELECT 1 AS one on a postgresql data source' },
      perStatement: { all, datasets },
      ratios: {
        gatewayCpu: datasets.gatewayCpuUs / all.gatewayCpuUs,
        postgresCpu: datasets.postgresCpuUs / all.postgresCpuUs,
        wall: datasets.wallUs / all.wallUs,
      },
      written: { jobs, lineageEvents: outbox },
    };
    const f = (n: number) => n.toFixed(1).padStart(10);
    const pct = (n: number) => `${(n * 100).toFixed(0)}%`.padStart(10);
    console.log(`\nstatement journal: recording one short SELECT 1 (${STATEMENTS} statements x ${ROUNDS} rounds per policy, batches of 100)\n`);
    console.log('| per statement (µs)     |  lineage all | datasets (default) | datasets/all |');
    console.log('| ---------------------- | ------------ | ------------------ | ------------ |');
    console.log(`| gateway CPU            | ${f(all.gatewayCpuUs)}   | ${f(datasets.gatewayCpuUs)}         | ${pct(result.ratios.gatewayCpu)}   |`);
    console.log(`| PostgreSQL CPU         | ${f(all.postgresCpuUs)}   | ${f(datasets.postgresCpuUs)}         | ${pct(result.ratios.postgresCpu)}   |`);
    console.log(`| wall time of the write | ${f(all.wallUs)}   | ${f(datasets.wallUs)}         | ${pct(result.ratios.wall)}   |`);
    console.log(`\nwritten: ${jobs} job records, ${outbox} lineage events`);
    const dir = path.resolve(import.meta.dirname, '../../bench-results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `journal-${result.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${file}`);
  } finally {
    await pool.end();
    await db.drop();
  }
}

await main();
process.exit(0);
