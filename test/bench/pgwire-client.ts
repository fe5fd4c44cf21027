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

export type PathName = 'direct' | 'proxy' | 'sluice' | 'statements';
const PATHS: readonly PathName[] = ['direct', 'proxy', 'sluice', 'statements'];

/** Rounds each path runs in a row before the next path takes its turn. */
const LATENCY_BLOCK = 500;
/**
 * The pause after each block: longer than Sluice's statement journal waits before it writes (20 ms),
 * so the records of a block are written before the next path's block starts rather than during it
 * (where they would slow a path that is not Sluice's). A Sluice block's mark ends after the pause, so
 * the CPU time read there includes that last write.
 */
const LATENCY_GAP_MS = 50;

/**
 * `SELECT 1` round trips on every path, in blocks that take turns (the first path of each round of
 * blocks rotates), so that a burst of load from a neighbour, or the host's steal, falls on every path
 * alike rather than on whichever ran at that moment. Sluice's blocks are marked for the bench
 * process, which reads its CPU time there.
 */
async function latency(clients: Record<PathName, pg.Client>, s: Settings): Promise<Record<PathName, LatencyFigures>> {
  const ms: Record<PathName, number[]> = { direct: [], proxy: [], sluice: [], statements: [] };
  for (const n of PATHS) for (let i = 0; i < s.warmup; i++) await clients[n].query('SELECT 1');
  const blocks = Math.max(1, Math.ceil(s.rounds / LATENCY_BLOCK));
  for (let b = 0; b < blocks; b++) {
    const rounds = Math.min(LATENCY_BLOCK, s.rounds - b * LATENCY_BLOCK);
    for (let k = 0; k < PATHS.length; k++) {
      const n = PATHS[(b + k) % PATHS.length] as PathName;
      const c = clients[n];
      const phase = n === 'sluice' ? 'sluice-latency' : n === 'statements' ? 'statements-latency' : undefined;
      if (phase) mark(`${phase}:start`);
      for (let i = 0; i < rounds; i++) {
        const t = process.hrtime.bigint();
        const r = await c.query('SELECT 1 AS one');
        ms[n].push(Number(process.hrtime.bigint() - t) / 1e6);
        if (r.rows[0].one !== 1) throw new Error('wrong answer');
      }
      await new Promise((resolve) => setTimeout(resolve, LATENCY_GAP_MS));
      if (phase) mark(`${phase}:end`);
    }
  }
  const figures = (all: number[]): LatencyFigures => {
    all.sort((a, b) => a - b);
    return { meanMs: all.reduce((a, b) => a + b, 0) / all.length, p50Ms: percentile(all, 50), p95Ms: percentile(all, 95), p99Ms: percentile(all, 99) };
  };
  return { direct: figures(ms.direct), proxy: figures(ms.proxy), sluice: figures(ms.sluice), statements: figures(ms.statements) };
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
    const clients = { direct, proxy, sluice, statements };
    const out = {
      latency: s.only === 'throughput' ? undefined : await latency(clients, s),
      throughput: s.only === 'latency' ? undefined : await throughput(clients, s),
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
