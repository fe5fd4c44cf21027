/**
 * Measures add→process throughput of the job queue on each backend (a script, not a test):
 *   node --conditions=sluice-source --import tsx packages/infra/src/queue/measure-throughput.ts [entries] [concurrency]
 * Needs DATABASE_URL and REDIS_URL (e.g. `eval "$(bash scripts/services.sh env)"`). PostgreSQL runs in
 * a throw-away database; Redis keys of the run's prefix are deleted afterwards.
 */
import { freshDatabase, requireEnv, uniqueSuffix } from '@sluice/testkit';
import { Redis } from 'ioredis';
import { createJobQueue } from './job-queue.ts';

const N = Number(process.argv[2] ?? 2000);
const CONCURRENCY = Number(process.argv[3] ?? 16);

/** Runs one measurement; returns entries per second for the three phases. */
async function measure(backend: 'redis' | 'postgres', url: string): Promise<{ add: number; drain: number; live: number }> {
  const prefix = `bench_${uniqueSuffix()}`;
  const queue = createJobQueue({ backend, prefix, redisUrl: backend === 'redis' ? url : undefined, databaseUrl: backend === 'postgres' ? url : undefined });
  try {
    // 1. Add N entries one by one (the entrance enqueues one job at a time).
    let t = performance.now();
    for (let i = 0; i < N; i++) await queue.enqueue({ jobId: `B${i}x`, attempt: 0, priority: i % 11 });
    const add = N / ((performance.now() - t) / 1000);

    // 2. Drain the backlog with CONCURRENCY handlers.
    let done = 0;
    let finish!: () => void;
    let all = new Promise<void>((r) => {
      finish = r;
    });
    const consumer = await queue.consume(
      async () => {
        if (++done === N) finish();
      },
      { concurrency: CONCURRENCY },
    );
    t = performance.now();
    await all;
    const drain = N / ((performance.now() - t) / 1000);

    // 3. Live: consumer already waiting, measure from first add to last processed.
    done = 0;
    all = new Promise<void>((r) => {
      finish = r;
    });
    t = performance.now();
    for (let i = 0; i < N; i++) await queue.enqueue({ jobId: `L${i}x`, attempt: 0, priority: 5 });
    await all;
    const live = N / ((performance.now() - t) / 1000);
    await consumer.close();
    return { add, drain, live };
  } finally {
    await queue.close();
    if (backend === 'redis') {
      const r = new Redis(url);
      const keys = await r.keys(`${prefix}:*`);
      if (keys.length) await r.del(...keys);
      await r.quit();
    }
  }
}

const fmt = (x: number) => `${Math.round(x)}/s`;
console.log(`entries ${N}, concurrency ${CONCURRENCY}, node ${process.version}`);
const redis = await measure('redis', requireEnv('REDIS_URL'));
console.log(`redis     add ${fmt(redis.add)}  drain ${fmt(redis.drain)}  add→process live ${fmt(redis.live)}`);
const db = await freshDatabase('bench');
try {
  const pg = await measure('postgres', db.url);
  console.log(`postgres  add ${fmt(pg.add)}  drain ${fmt(pg.drain)}  add→process live ${fmt(pg.live)}`);
} finally {
  await db.drop();
}
