/**
 * pgwire benchmark: the same PostgreSQL reached directly and through Sluice's pgwire listener, on a
 * JDBC data source whose engine is warm, with the same client (node-postgres) on both paths.
 *
 *   node --conditions=sluice-source --import tsx test/bench/pgwire.bench.ts [--rounds 200] [--rows 1000000]
 *
 * Measures `SELECT 1` round-trip latency (target: Sluice ≤ 2× direct) and large-result throughput
 * (target: Sluice ≥ 70 % of direct) in one run; prints a table and writes bench-results/pgwire-*.json.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { uniqueSuffix } from '@sluice/testkit';
import pg from 'pg';
import { startPgwireStack } from '../pgwire/pgwire-stack.ts';
import type { LatencyFigures, ThroughputFigures } from './pgwire-client.ts';
import { ensureServices } from './services-env.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const ROUNDS = arg('rounds', 200);
const ROWS = arg('rows', 1_000_000);
const WARMUP = 20;

async function main(): Promise<void> {
  ensureServices();
  const role = `pgwb_${uniqueSuffix()}`;
  const secret = `pw-${randomBytes(8).toString('hex')}`;
  const s = await startPgwireStack({ overrides: { SLUICE_LOG_LEVEL: 'silent' } });
  try {
    const su = new pg.Client({ connectionString: s.env.db.url });
    await su.connect();
    await su.query(`CREATE ROLE ${role} LOGIN PASSWORD '${secret}'`);
    await su.query(`CREATE TABLE public.bench_big AS SELECT g AS id, 'label-' || g AS label, (g % 10000) / 100.0 AS amount FROM generate_series(1, ${ROWS}) g`);
    await su.query(`GRANT SELECT ON public.bench_big TO ${role}`);
    await su.end();
    const server = new URL(s.env.db.url);
    const api = s.ts.api(s.ts.tokens.alice);
    const created = await api.request('POST', '/api/v1/datasources', {
      name: 'bench_pg',
      type: 'postgresql',
      params: { host: server.hostname, port: Number(server.port || 5432), database: s.env.db.name, user: role, password: secret },
    });
    if (created.status !== 201) throw new Error(`data source: ${JSON.stringify(created.body)}`);
    await api.request('POST', '/api/v1/datasources/bench_pg/versions/1/publish');

    // The client runs in its own process, as a BI tool does: the gateway's work then overlaps the
    // client's on the second core instead of sharing one event loop with it.
    const settings = {
      direct: { host: server.hostname, port: Number(server.port || 5432), user: role, password: secret, database: s.env.db.name },
      sluice: { host: '127.0.0.1', port: s.port, user: 'alice', password: s.ts.tokens.alice, database: 'bench_pg' },
      rounds: ROUNDS,
      warmup: WARMUP,
      rows: ROWS,
    };
    const child = spawn(
      process.execPath,
      ['--conditions=sluice-source', '--import', 'tsx', path.join(import.meta.dirname, 'pgwire-client.ts'), JSON.stringify(settings)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(`the benchmark client exited with ${code}`);
    const figures = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
      latency: { direct: LatencyFigures; sluice: LatencyFigures };
      throughput: { direct: ThroughputFigures; sluice: ThroughputFigures };
    };
    const latDirect = figures.latency.direct;
    const latSluice = figures.latency.sluice;
    const tpDirect = figures.throughput.direct;
    const tpSluice = figures.throughput.sluice;

    const latencyRatio = latSluice.p50Ms / latDirect.p50Ms;
    const throughputShare = tpSluice.rowsPerSecond / tpDirect.rowsPerSecond;
    const result = {
      bench: 'pgwire',
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
      settings: { rounds: ROUNDS, warmup: WARMUP, rows: ROWS, client: 'node-postgres in its own process', dataSource: 'postgresql via the jdbc engine' },
      latency: { direct: latDirect, sluice: latSluice, ratioP50: latencyRatio, target: '<= 2x', met: latencyRatio <= 2 },
      throughput: { direct: tpDirect, sluice: tpSluice, share: throughputShare, target: '>= 70%', met: throughputShare >= 0.7 },
    };
    const f = (n: number) => n.toFixed(2);
    console.log('\npgwire benchmark (node-postgres; same PostgreSQL direct vs through Sluice on a warm JDBC engine)\n');
    console.log('| measure                     | direct        | Sluice pgwire | Sluice/direct | target | met |');
    console.log('| --------------------------- | ------------- | ------------- | ------------- | ------ | --- |');
    console.log(
      `| SELECT 1 p50 latency (ms)   | ${f(latDirect.p50Ms).padStart(13)} | ${f(latSluice.p50Ms).padStart(13)} | ${`${f(latencyRatio)}x`.padStart(13)} | <= 2x  | ${latencyRatio <= 2 ? 'yes' : 'no '} |`,
    );
    console.log(`| SELECT 1 p95 latency (ms)   | ${f(latDirect.p95Ms).padStart(13)} | ${f(latSluice.p95Ms).padStart(13)} |               |        |     |`);
    console.log(
      `| ${`${ROWS} rows (rows/s)`.padEnd(27)} | ${Math.round(tpDirect.rowsPerSecond).toString().padStart(13)} | ${Math.round(tpSluice.rowsPerSecond).toString().padStart(13)} | ${`${(throughputShare * 100).toFixed(1)}%`.padStart(13)} | >= 70% | ${throughputShare >= 0.7 ? 'yes' : 'no '} |`,
    );
    const dir = path.resolve(import.meta.dirname, '../../bench-results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `pgwire-${result.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nwrote ${file}`);
  } finally {
    await s.stop();
    const su = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await su.connect();
    await su.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
    await su.end();
  }
}

await main();
process.exit(0);
