/**
 * The client side of the pgwire benchmark, run in its own process as a BI tool or a JDBC program
 * would be: the same node-postgres client measures PostgreSQL directly and through Sluice. It reads
 * its settings as JSON from argv[2] and prints its figures as one JSON line.
 */
import pg from 'pg';

interface Settings {
  direct: pg.ClientConfig;
  sluice: pg.ClientConfig;
  rounds: number;
  warmup: number;
  rows: number;
}

export interface LatencyFigures {
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export interface ThroughputFigures {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function latency(c: pg.Client, s: Settings): Promise<LatencyFigures> {
  for (let i = 0; i < s.warmup; i++) await c.query('SELECT 1');
  const ms: number[] = [];
  for (let i = 0; i < s.rounds; i++) {
    const t = process.hrtime.bigint();
    const r = await c.query('SELECT 1 AS one');
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.rows[0].one !== 1) throw new Error('wrong answer');
  }
  ms.sort((a, b) => a - b);
  return { meanMs: ms.reduce((a, b) => a + b, 0) / ms.length, p50Ms: percentile(ms, 50), p95Ms: percentile(ms, 95), p99Ms: percentile(ms, 99) };
}

async function throughput(c: pg.Client, s: Settings): Promise<ThroughputFigures> {
  const t = process.hrtime.bigint();
  const r = await c.query({ text: 'SELECT id, label, amount FROM bench_big ORDER BY id', rowMode: 'array' });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.rows.length !== s.rows) throw new Error(`expected ${s.rows} rows, got ${r.rows.length}`);
  return { rows: r.rows.length, seconds, rowsPerSecond: r.rows.length / seconds };
}

async function main(): Promise<void> {
  const s = JSON.parse(process.argv[2] ?? '{}') as Settings;
  const direct = new pg.Client(s.direct);
  const sluice = new pg.Client(s.sluice);
  await direct.connect();
  await sluice.connect();
  try {
    // The first statement launches the JDBC engine; everything measured runs on the warm engine.
    await sluice.query('SELECT 1');
    const out = {
      latency: { direct: await latency(direct, s), sluice: await latency(sluice, s) },
      throughput: { direct: await throughput(direct, s), sluice: await throughput(sluice, s) },
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await direct.end();
    await sluice.end();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
