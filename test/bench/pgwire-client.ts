/**
 * The client side of the pgwire benchmark, run in its own process as a BI tool or a JDBC program
 * would be: the same node-postgres client measures PostgreSQL directly and through Sluice. It reads
 * its settings as JSON from argv[2] and prints its figures as one JSON line.
 */
import pg from 'pg';

interface Settings {
  direct: pg.ClientConfig;
  sluice: pg.ClientConfig;
  /** Sluice with the relay off (SLUICE_PG_RELAY=false): each statement run on its own on a shared engine. */
  statements: pg.ClientConfig;
  /** The same PostgreSQL through a bare TCP proxy: the floor of any hop between client and server. */
  proxy: pg.ClientConfig;
  /** Runs one half of the benchmark only (to profile it); both by default. */
  only?: 'latency' | 'throughput';
  rounds: number;
  warmup: number;
  rows: number;
  /** Large-result runs per path, taken in turns; the median counts. */
  repeat: number;
}

export interface LatencyFigures {
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export interface ThroughputFigures {
  rows: number;
  /** Seconds of the median run. */
  seconds: number;
  rowsPerSecond: number;
  /** Rows per second of every run, in order. */
  runs: number[];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Tells the bench process where a measured phase starts and ends (it reads its CPU time there). */
function mark(name: string): void {
  process.stdout.write(`mark:${name}\n`);
}

async function latency(c: pg.Client, s: Settings, phase?: string): Promise<LatencyFigures> {
  for (let i = 0; i < s.warmup; i++) await c.query('SELECT 1');
  if (phase) mark(`${phase}:start`);
  const ms: number[] = [];
  for (let i = 0; i < s.rounds; i++) {
    const t = process.hrtime.bigint();
    const r = await c.query('SELECT 1 AS one');
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.rows[0].one !== 1) throw new Error('wrong answer');
  }
  if (phase) mark(`${phase}:end`);
  ms.sort((a, b) => a - b);
  return { meanMs: ms.reduce((a, b) => a + b, 0) / ms.length, p50Ms: percentile(ms, 50), p95Ms: percentile(ms, 95), p99Ms: percentile(ms, 99) };
}

/** One read of the large result; its seconds. */
async function largeResult(c: pg.Client, s: Settings): Promise<number> {
  const t = process.hrtime.bigint();
  const r = await c.query({ text: 'SELECT id, label, amount FROM bench_big ORDER BY id', rowMode: 'array' });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.rows.length !== s.rows) throw new Error(`expected ${s.rows} rows, got ${r.rows.length}`);
  return seconds;
}

/** Reads the large result `repeat` times on each client in turn, after one warm-up read each; the median run of each counts. */
export type PathName = 'direct' | 'proxy' | 'sluice' | 'statements';
const PATHS: readonly PathName[] = ['direct', 'proxy', 'sluice', 'statements'];

async function throughput(clients: Record<PathName, pg.Client>, s: Settings): Promise<Record<PathName, ThroughputFigures>> {
  const names = PATHS;
  const seconds: Record<PathName, number[]> = { direct: [], proxy: [], sluice: [], statements: [] };
  // One unmeasured read per path first: each process's first pass through its code runs unoptimised.
  for (const n of names) await largeResult(clients[n], s);
  for (let i = 0; i < Math.max(1, s.repeat); i++) for (const n of names) seconds[n].push(await largeResult(clients[n], s));
  const figures = (runs: number[]): ThroughputFigures => {
    const median = [...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)] as number;
    return { rows: s.rows, seconds: median, rowsPerSecond: s.rows / median, runs: runs.map((r) => Math.round(s.rows / r)) };
  };
  return { direct: figures(seconds.direct), proxy: figures(seconds.proxy), sluice: figures(seconds.sluice), statements: figures(seconds.statements) };
}

async function main(): Promise<void> {
  const s = JSON.parse(process.argv[2] ?? '{}') as Settings;
  const direct = new pg.Client(s.direct);
  const proxy = new pg.Client(s.proxy);
  const sluice = new pg.Client(s.sluice);
  const statements = new pg.Client(s.statements);
  await direct.connect();
  await proxy.connect();
  await sluice.connect();
  await statements.connect();
  try {
    // The first statement launches the JDBC engine; everything measured runs on the warm engine.
    await sluice.query('SELECT 1');
    await statements.query('SELECT 1');
    // The paths take turns within each half, so a neighbour's burst of load falls on all of them.
    const out = {
      latency:
        s.only === 'throughput'
          ? undefined
          : {
              direct: await latency(direct, s),
              proxy: await latency(proxy, s),
              sluice: await latency(sluice, s, 'sluice-latency'),
              statements: await latency(statements, s, 'statements-latency'),
            },
      throughput: s.only === 'latency' ? undefined : await throughput({ direct, proxy, sluice, statements }, s),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await direct.end();
    await proxy.end();
    await sluice.end();
    await statements.end();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
