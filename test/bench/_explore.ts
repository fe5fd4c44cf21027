import { uniqueSuffix } from '@sluice/testkit';
import { BullmqConsumer, dropBaselineQueue } from './bullmq-target.ts';
import { LoadClientHost } from './load-client-host.ts';
import { ensureServices } from './services-env.ts';
import { startDeployment } from './sluice-deployment.ts';
import { summarize } from './stats.ts';

const { redisUrl } = ensureServices();
const mode = process.argv[2] ?? 'bullmq';
const host = LoadClientHost.start();
try {
  if (mode === 'bullmq') {
    const loc = { backend: 'redis' as const, redisUrl, prefix: `bb${uniqueSuffix()}` };
    for (const wc of [32, 64, 128]) {
      const consumer = await BullmqConsumer.start(loc, wc);
      await host.init({ kind: 'bullmq', location: loc });
      await host.closed(300, 16, 30_000);
      const q = await host.closed(300, 1, 30_000);
      console.log('seq', summarize(q.samples.map((s) => s.totalMs)));
      for (const lanes of [128, 256, 128, 256]) {
        const r = await host.closed(6000, lanes, 30_000);
        console.log(`worker c=${wc} lanes=${lanes}: ${Math.round(r.throughput)}/s err=${r.errorCount}`, summarize(r.samples.map((s) => s.totalMs)));
      }
      await consumer.close();
    }
    await dropBaselineQueue(loc);
  } else {
    const backend = mode as 'redis' | 'postgres';
    const clients = Number(process.argv[3] ?? 16);
    const users = 4;
    let t = performance.now();
    const dep = await startDeployment({
      backend,
      redisUrl,
      users,
      settings: {
        SLUICE_MAX_RUNNING_PER_GROUP: '64',
        SLUICE_MANAGER_CONCURRENCY: '64',
        SLUICE_ENGINE_CONCURRENCY: '1',
        SLUICE_MAX_ENGINES_PER_USER: String(Math.ceil(clients / users)),
      },
    });
    console.log('stack up', Math.round(performance.now() - t));
    try {
      await host.init({ kind: 'sluice', url: dep.url, tokens: dep.tokens, clients, code: 'select 1', expectedRows: [[1]], creator: 'bench' });
      t = performance.now();
      const w = await host.closed(clients * 8, clients, 60_000);
      console.log('warm', Math.round(performance.now() - t), 'engines', dep.engineCount(), 'err', w.errorCount, w.errors);
      for (const c of [clients]) {
        const r = await host.closed(1000, c, 60_000);
        const s = r.samples as { totalMs: number; ackMs: number; finalMs: number; finalInSubscribed: boolean }[];
        console.log(
          `clients=${c}: ${Math.round(r.throughput)}/s err=${r.errorCount}`,
          summarize(s.map((x) => x.totalMs)),
          'ack',
          summarize(s.map((x) => x.ackMs)).p50,
          'final',
          summarize(s.map((x) => x.finalMs)).p50,
          'inSub',
          s.filter((x) => x.finalInSubscribed).length,
          'engines',
          dep.engineCount(),
        );
      }
      const seq = await host.closed(100, 1, 60_000);
      const s = seq.samples as { totalMs: number; ackMs: number; finalMs: number; finalInSubscribed: boolean }[];
      console.log(
        'sequential',
        Math.round(seq.throughput),
        summarize(s.map((x) => x.totalMs)),
        'ack',
        summarize(s.map((x) => x.ackMs)),
        'final',
        summarize(s.map((x) => x.finalMs)),
        'inSub',
        s.filter((x) => x.finalInSubscribed).length,
      );
    } finally {
      await dep.stop();
    }
  }
} finally {
  await host.stop();
}
