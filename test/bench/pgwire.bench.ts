/**
 * pgwire benchmark: the same PostgreSQL reached directly and through Sluice's pgwire listener, on a
 * JDBC data source whose engine is warm, with the same client (node-postgres) on both paths.
 *
 *   node --conditions=sluice-source --import tsx test/bench/pgwire.bench.ts [--rounds 200] [--rows 1000000] [--repeat 3]
 *     [--only latency|throughput]
 *
 * Measures `SELECT 1` round-trip latency (target: Sluice ≤ 2× direct) and large-result throughput
 * (target: Sluice ≥ 70 % of direct) in one run; prints a table and writes bench-results/pgwire-*.json.
 * A third path, a bare TCP proxy in front of the same PostgreSQL, shows the floor of any hop: what a
 * proxy that does nothing but copy bytes costs on this machine; a fourth is Sluice with the relay off.
 * The paths take turns, in blocks of `SELECT 1` rounds (see pgwire-client.ts). `--only` runs one half
 * (to profile it).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import { uniqueSuffix } from '@sluice/testkit';
import pg from 'pg';
import { startPgwireStack } from '../pgwire/pgwire-stack.ts';
import { postgresRoundTrips } from './machine-facts.ts';
import type { LatencyFigures, PathName, ThroughputFigures } from './pgwire-client.ts';
import { ensureServices } from './services-env.ts';
import { untilIdle } from './until-idle.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const ROUNDS = arg('rounds', 200);
const ROWS = arg('rows', 1_000_000);
const REPEAT = arg('repeat', 3);
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const WARMUP = 20;

/**
 * A TCP proxy that only copies bytes both ways (Nagle off, as Sluice's listener and PostgreSQL have
 * it): the least any process between a client and PostgreSQL can cost.
 */
async function startBareProxy(host: string, port: number): Promise<net.Server> {
  const server = net.createServer((client) => {
    const upstream = net.connect({ host, port });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function main(): Promise<void> {
  ensureServices();
  const role = `pgwb_${uniqueSuffix()}`;
  const secret = `pw-${randomBytes(8).toString('hex')}`;
  const s = await startPgwireStack({ overrides: { SLUICE_LOG_LEVEL: 'silent' } });
  let proxy: net.Server | undefined;
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

    // The stack's start-up work (lineage grammars warming in a worker) is not a statement's cost.
    console.error(`Sluice idle after start-up work: ${await untilIdle()} ms`);
    // What waking a process costs here: a relayed statement has twice the hops of a direct one.
    const direct = { host: server.hostname, port: Number(server.port || 5432), user: role, password: secret, database: s.env.db.name };
    const probe = new pg.Client(direct);
    await probe.connect();
    const roundTrips = await postgresRoundTrips(probe);
    await probe.end();

    // The proxy lives in this process, beside Sluice, as the pgwire listener does.
    proxy = await startBareProxy(server.hostname, Number(server.port || 5432));
    const proxyPort = (proxy.address() as net.AddressInfo).port;
    // The client runs in its own process, as a BI tool does: the gateway's work then overlaps the
    // client's on the second core instead of sharing one event loop with it.
    // The same stack's listener with the relay off: each statement run on its own (the path before ADR 17).
    const statementsPort = await s.listen({ relay: false });
    const sluiceClient = { host: '127.0.0.1', port: s.port, user: 'alice', password: s.ts.tokens.alice, database: 'bench_pg' };
    const settings = {
      direct,
      proxy: { ...direct, host: '127.0.0.1', port: proxyPort },
      sluice: sluiceClient,
      statements: { ...sluiceClient, port: statementsPort },
      only: ONLY,
      rounds: ROUNDS,
      warmup: WARMUP,
      rows: ROWS,
      repeat: REPEAT,
    };
    // CPU time of this process over the client's run, and over the measured SELECT 1 rounds through
    // Sluice (the client marks them): what Sluice spends per statement, a figure that a busy machine
    // does not inflate the way it inflates wall-clock latency.
    const cpuBefore = process.cpuUsage();
    const child = spawn(
      process.execPath,
      ['--conditions=sluice-source', '--import', 'tsx', path.join(import.meta.dirname, 'pgwire-client.ts'), JSON.stringify(settings)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let stdout = '';
    // The client marks the start and end of each block of a measured phase: the CPU time of this
    // process and its main thread's busy time, summed over the phase's blocks.
    const open = new Map<string, { cpu: NodeJS.CpuUsage; elu: EventLoopUtilization }>();
    const spent = new Map<string, { cpuMs: number; mainMs: number }>();
    child.stdout.on('data', (d) => {
      const before = stdout.length;
      stdout += d;
      for (const m of stdout.slice(Math.max(0, stdout.lastIndexOf('\n', before - 1))).matchAll(/^mark:(\S+):(start|end)$/gm)) {
        const [phase, edge] = [m[1] as string, m[2] as string];
        const now = { cpu: process.cpuUsage(), elu: performance.eventLoopUtilization() };
        const began = open.get(phase);
        if (edge === 'start') open.set(phase, now);
        else if (began) {
          open.delete(phase);
          const sum = spent.get(phase) ?? { cpuMs: 0, mainMs: 0 };
          sum.cpuMs += (now.cpu.user - began.cpu.user + now.cpu.system - began.cpu.system) / 1000;
          sum.mainMs += performance.eventLoopUtilization(now.elu, began.elu).active;
          spent.set(phase, sum);
        }
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(`the benchmark client exited with ${code}`);
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const latCpuMs = spent.get('sluice-latency')?.cpuMs;
    // The main thread's busy time (event-loop utilisation), where a statement's own work runs.
    const latMainMs = spent.get('sluice-latency')?.mainMs;
    const figures = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
      latency?: Record<PathName, LatencyFigures>;
      throughput?: Record<PathName, ThroughputFigures>;
    };
    const stCpuMs = spent.get('statements-latency')?.cpuMs;
    const lat = figures.latency;
    const tp = figures.throughput;
    const latencyRatio = lat ? lat.sluice.p50Ms / lat.direct.p50Ms : undefined;
    const throughputShare = tp ? tp.sluice.rowsPerSecond / tp.direct.rowsPerSecond : undefined;
    const result = {
      bench: 'pgwire',
      at: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        cpu: os.cpus()[0]?.model,
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
        postgresRoundTripUs: roundTrips,
      },
      settings: {
        rounds: ROUNDS,
        warmup: WARMUP,
        rows: ROWS,
        repeat: REPEAT,
        only: ONLY,
        client: 'node-postgres in its own process',
        dataSource: 'postgresql via the jdbc engine',
        sluice: 'relayed (ADR 17, the default)',
        statements: 'relay off (SLUICE_PG_RELAY=false): statement by statement on a shared engine',
      },
      latency: lat && {
        ...lat,
        proxyRatioP50: lat.proxy.p50Ms / lat.direct.p50Ms,
        ratioP50: latencyRatio,
        sluiceOverProxyP50: lat.sluice.p50Ms / lat.proxy.p50Ms,
        statementsRatioP50: lat.statements.p50Ms / lat.direct.p50Ms,
        target: '<= 2x',
        met: (latencyRatio as number) <= 2,
      },
      sluiceProcessCpuMs: cpuMs,
      sluiceCpuMsPerStatement: latCpuMs === undefined ? undefined : latCpuMs / ROUNDS,
      sluiceMainThreadMsPerStatement: latMainMs === undefined ? undefined : latMainMs / ROUNDS,
      statementsCpuMsPerStatement: stCpuMs === undefined ? undefined : stCpuMs / ROUNDS,
      throughput: tp && {
        ...tp,
        proxyShare: tp.proxy.rowsPerSecond / tp.direct.rowsPerSecond,
        share: throughputShare,
        target: '>= 70%',
        met: (throughputShare as number) >= 0.7,
      },
    };
    const f = (n: number) => n.toFixed(2);
    const cell = (v: string) => v.padStart(13);
    console.log('\npgwire benchmark (node-postgres; same PostgreSQL direct, through a bare TCP proxy, and through Sluice on a warm JDBC engine)\n');
    console.log('| measure                     | direct        | bare proxy    | Sluice pgwire | proxy/direct  | Sluice/direct | target | met |');
    console.log('| --------------------------- | ------------- | ------------- | ------------- | ------------- | ------------- | ------ | --- |');
    if (lat && latencyRatio !== undefined) {
      console.log(
        `| SELECT 1 p50 latency (ms)   | ${cell(f(lat.direct.p50Ms))} | ${cell(f(lat.proxy.p50Ms))} | ${cell(f(lat.sluice.p50Ms))} | ${cell(`${f(lat.proxy.p50Ms / lat.direct.p50Ms)}x`)} | ${cell(`${f(latencyRatio)}x`)} | <= 2x  | ${latencyRatio <= 2 ? 'yes' : 'no '} |`,
      );
      console.log(
        `| SELECT 1 p95 latency (ms)   | ${cell(f(lat.direct.p95Ms))} | ${cell(f(lat.proxy.p95Ms))} | ${cell(f(lat.sluice.p95Ms))} |               |               |        |     |`,
      );
      console.log(
        `| relay off: SELECT 1 p50 (ms) |              |               | ${cell(f(lat.statements.p50Ms))} |               | ${cell(`${f(lat.statements.p50Ms / lat.direct.p50Ms)}x`)} |        |     |`,
      );
    }
    console.log(
      `\nPostgreSQL SELECT 1 round trip (median, from the bench process while Sluice idles): ${roundTrips.backToBack} µs back to back, ${roundTrips.afterIdle} µs after 2 ms idle (each hop through a process that had gone idle pays the difference)`,
    );
    if (latCpuMs !== undefined) {
      console.log(
        `\nSluice during the measured SELECT 1 rounds, per statement: process CPU ${(latCpuMs / ROUNDS).toFixed(2)} ms (all threads), main thread busy ${((latMainMs ?? 0) / ROUNDS).toFixed(2)} ms; relay off: process CPU ${stCpuMs === undefined ? '?' : (stCpuMs / ROUNDS).toFixed(2)} ms`,
      );
    }
    if (tp && throughputShare !== undefined) {
      const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
      console.log(
        `| ${`${ROWS} rows (rows/s)`.padEnd(27)} | ${cell(Math.round(tp.direct.rowsPerSecond).toString())} | ${cell(Math.round(tp.proxy.rowsPerSecond).toString())} | ${cell(Math.round(tp.sluice.rowsPerSecond).toString())} | ${cell(pct(tp.proxy.rowsPerSecond / tp.direct.rowsPerSecond))} | ${cell(pct(throughputShare))} | >= 70% | ${throughputShare >= 0.7 ? 'yes' : 'no '} |`,
      );
      console.log(
        `\nlarge-result runs (rows/s, median of ${REPEAT}): direct ${tp.direct.runs.join(' ')}; proxy ${tp.proxy.runs.join(' ')}; Sluice ${tp.sluice.runs.join(' ')}; relay off ${tp.statements.runs.join(' ')}`,
      );
    }
    const dir = path.resolve(import.meta.dirname, '../../bench-results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `pgwire-${result.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nwrote ${file}`);
  } finally {
    proxy?.close();
    await s.stop();
    const su = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await su.connect();
    await su.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
    await su.end();
  }
}

await main();
process.exit(0);
