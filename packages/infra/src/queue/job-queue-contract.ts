import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JobQueue, QueuedJob } from '@sluice/core';
import { freshDatabase, requireEnv, type TestDatabase, uniqueSuffix, waitFor } from '@sluice/testkit';
import { Redis } from 'ioredis';
import { createJobQueue, type JobQueueOptions } from './job-queue.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A promise with its resolve function, to hold handlers open. */
function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

/**
 * The behaviour every {@link createJobQueue} backend must show, run against the real server.
 * Each test uses its own prefix; PostgreSQL runs in a fresh database per file.
 */
export function jobQueueContract(backend: 'redis' | 'postgres'): void {
  describe(`job queue on ${backend}`, () => {
    let db: TestDatabase | undefined;
    const prefixes: string[] = [];
    const open: JobQueue[] = [];

    before(async () => {
      if (backend === 'postgres') db = await freshDatabase('queue');
    });

    after(async () => {
      await Promise.allSettled(open.map((q) => q.close()));
      if (db) await db.drop();
      if (backend === 'redis') {
        const r = new Redis(requireEnv('REDIS_URL'));
        for (const p of prefixes) {
          const keys = await r.keys(`${p}:*`);
          if (keys.length) await r.del(...keys);
        }
        await r.quit();
      }
    });

    function makeQueue(extra: Partial<JobQueueOptions> = {}): JobQueue {
      const prefix = extra.prefix ?? `t_${uniqueSuffix()}`;
      prefixes.push(prefix);
      const q = createJobQueue({
        backend,
        redisUrl: backend === 'redis' ? requireEnv('REDIS_URL') : undefined,
        databaseUrl: db?.url,
        onError: () => {},
        ...extra,
        prefix,
      });
      open.push(q);
      return q;
    }

    /** Consumes with concurrency 1 until `n` entries arrived; returns them in order. */
    async function drain(q: JobQueue, n: number): Promise<QueuedJob[]> {
      const seen: QueuedJob[] = [];
      const consumer = await q.consume(
        async (job) => {
          seen.push(job);
        },
        { concurrency: 1 },
      );
      await waitFor(() => seen.length >= n, { what: `${n} entries` });
      await consumer.close();
      return seen;
    }

    test('enqueued entries reach the handler with their data and leave the queue', async () => {
      const q = makeQueue();
      await q.enqueue({ jobId: 'J1', attempt: 0, priority: 5 });
      await q.enqueue({ jobId: 'J2', attempt: 2, priority: 1 });
      assert.deepEqual(await q.counts(), { waiting: 2, active: 0 });
      const seen = await drain(q, 2);
      assert.deepEqual(seen, [
        { jobId: 'J1', attempt: 0, priority: 5 },
        { jobId: 'J2', attempt: 2, priority: 1 },
      ]);
      await waitFor(async () => (await q.counts()).active === 0, { what: 'no active entries' });
      assert.deepEqual(await q.counts(), { waiting: 0, active: 0 });
      assert.equal(await q.has('J1', 0), false);
    });

    test('enqueueing the same (jobId, attempt) twice is a no-op; another attempt is a new entry', async () => {
      const q = makeQueue();
      await q.enqueue({ jobId: 'D1', attempt: 0, priority: 5 });
      await q.enqueue({ jobId: 'D1', attempt: 0, priority: 9 });
      assert.deepEqual(await q.counts(), { waiting: 1, active: 0 });
      await q.enqueue({ jobId: 'D1', attempt: 1, priority: 5 });
      assert.deepEqual(await q.counts(), { waiting: 2, active: 0 });
      const seen = await drain(q, 2);
      await sleep(200);
      // The duplicate kept the first entry's data.
      assert.deepEqual(seen, [
        { jobId: 'D1', attempt: 0, priority: 5 },
        { jobId: 'D1', attempt: 1, priority: 5 },
      ]);
    });

    test('higher Sluice priority runs first, equal priority in FIFO order', async () => {
      const q = makeQueue();
      const plan: [string, number][] = [
        ['P-a', 0],
        ['P-b', 5],
        ['P-c', 10],
        ['P-d', 3],
        ['P-e', 10],
        ['P-f', 5],
        ['P-g', 0],
      ];
      for (const [jobId, priority] of plan) await q.enqueue({ jobId, attempt: 0, priority });
      const seen = await drain(q, plan.length);
      assert.deepEqual(
        seen.map((j) => j.jobId),
        ['P-c', 'P-e', 'P-b', 'P-f', 'P-d', 'P-a', 'P-g'],
      );
    });

    test('entries of one priority come out in the order they went in', async () => {
      const q = makeQueue();
      const ids = Array.from({ length: 25 }, (_, i) => `F-${String(i).padStart(2, '0')}-${uniqueSuffix()}`);
      for (const jobId of ids) await q.enqueue({ jobId, attempt: 0, priority: 7 });
      const seen = await drain(q, ids.length);
      assert.deepEqual(
        seen.map((j) => j.jobId),
        ids,
      );
    });

    test('priorities outside 0–10 and unusable ids are rejected', async () => {
      const q = makeQueue();
      await assert.rejects(q.enqueue({ jobId: 'X', attempt: 0, priority: 11 }), RangeError);
      await assert.rejects(q.enqueue({ jobId: 'X', attempt: 0, priority: 1.5 }), RangeError);
      await assert.rejects(q.enqueue({ jobId: '12345', attempt: 0, priority: 1 }), /cannot be a queue id/);
      await assert.rejects(q.enqueue({ jobId: 'a:b', attempt: 0, priority: 1 }), /cannot be a queue id/);
      assert.deepEqual(await q.counts(), { waiting: 0, active: 0 });
    });

    test('has and remove see waiting entries; remove leaves active entries alone', async () => {
      const q = makeQueue();
      await q.enqueue({ jobId: 'H1', attempt: 0, priority: 5 });
      await q.enqueue({ jobId: 'H2', attempt: 0, priority: 4 });
      assert.equal(await q.has('H1', 0), true);
      assert.equal(await q.has('H1', 1), false);
      await q.remove('H1', 0);
      assert.equal(await q.has('H1', 0), false);
      await q.remove('H1', 0); // gone already: no-op
      await q.remove('nope', 3); // never existed: no-op
      assert.deepEqual(await q.counts(), { waiting: 1, active: 0 });

      const hold = gate();
      const started: string[] = [];
      const consumer = await q.consume(
        async (job) => {
          started.push(job.jobId);
          await hold.promise;
        },
        { concurrency: 1 },
      );
      await waitFor(() => started.length === 1, { what: 'H2 to start' });
      assert.deepEqual(started, ['H2']);
      await q.remove('H2', 0);
      assert.equal(await q.has('H2', 0), true, 'an active entry is not removed');
      assert.deepEqual(await q.counts(), { waiting: 0, active: 1 });
      hold.open();
      await consumer.close();
      assert.equal(await q.has('H2', 0), false);
    });

    test('never runs more handlers at once than the concurrency', async () => {
      const q = makeQueue();
      for (let i = 0; i < 12; i++) await q.enqueue({ jobId: `C-${i}`, attempt: 0, priority: 5 });
      let running = 0;
      let peak = 0;
      let done = 0;
      const consumer = await q.consume(
        async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(60);
          running--;
          done++;
        },
        { concurrency: 3 },
      );
      let activePeak = 0;
      await waitFor(
        async () => {
          activePeak = Math.max(activePeak, (await q.counts()).active);
          return done === 12;
        },
        { what: '12 entries', intervalMs: 20 },
      );
      await consumer.close();
      assert.equal(peak, 3, 'three handlers ran at once, never more');
      assert.ok(activePeak <= 3, `active count ${activePeak} stayed within the concurrency`);
      await assert.rejects(
        q.consume(async () => {}, { concurrency: 0 }),
        RangeError,
      );
    });

    test('a throwing handler is reported through onError and consumption goes on', async () => {
      const errors: { message: string; job?: QueuedJob }[] = [];
      const q = makeQueue({ onError: (err, job) => errors.push({ message: err.message, job }) });
      await q.enqueue({ jobId: 'E1', attempt: 0, priority: 5 });
      await q.enqueue({ jobId: 'E2', attempt: 0, priority: 5 });
      const seen: string[] = [];
      const consumer = await q.consume(
        async (job) => {
          seen.push(job.jobId);
          if (job.jobId === 'E1') throw new Error('handler exploded');
        },
        { concurrency: 1 },
      );
      await waitFor(() => seen.length === 2 && errors.length === 1, { what: 'both entries and one error' });
      await consumer.close();
      assert.deepEqual(seen, ['E1', 'E2']);
      assert.deepEqual(errors, [{ message: 'handler exploded', job: { jobId: 'E1', attempt: 0, priority: 5 } }]);
      // A failed entry is removed too (removeOnFail): the database is the record.
      assert.equal(await q.has('E1', 0), false);
    });

    test('different prefixes never see each other’s entries', async () => {
      const a = makeQueue();
      const b = makeQueue();
      await a.enqueue({ jobId: 'I1', attempt: 0, priority: 5 });
      assert.deepEqual(await b.counts(), { waiting: 0, active: 0 });
      assert.equal(await b.has('I1', 0), false);
      const seenB: string[] = [];
      const consumerB = await b.consume(
        async (job) => {
          seenB.push(job.jobId);
        },
        { concurrency: 1 },
      );
      await sleep(300);
      await consumerB.close();
      assert.deepEqual(seenB, []);
      assert.deepEqual(await a.counts(), { waiting: 1, active: 0 });
    });

    test('a stalled entry is dropped, not re-run', async () => {
      const q = makeQueue({ lockDurationMs: 500 });
      await q.enqueue({ jobId: 'S1', attempt: 0, priority: 5 });
      const hold = gate();
      const first: string[] = [];
      const dying = await q.consume(
        async (job) => {
          first.push(job.jobId);
          await hold.promise;
        },
        { concurrency: 1 },
      );
      await waitFor(() => first.length === 1, { what: 'S1 to start' });
      // A forced close stops renewing the lock while the handler still "runs": the entry stalls.
      await dying.close(false);
      const second: string[] = [];
      const survivor = await q.consume(
        async (job) => {
          second.push(job.jobId);
        },
        { concurrency: 1 },
      );
      await waitFor(async () => !(await q.has('S1', 0)), { what: 'the stalled entry to be dropped', timeoutMs: 10_000 });
      await sleep(300);
      hold.open();
      await survivor.close();
      assert.deepEqual(second, [], 'nobody re-ran the stalled entry');
    });

    test('a closed consumer takes nothing more; close waits for running handlers; a closed queue rejects', async () => {
      const q = makeQueue();
      await q.enqueue({ jobId: 'Z1', attempt: 0, priority: 5 });
      let finished = false;
      const seen: string[] = [];
      const consumer = await q.consume(
        async (job) => {
          seen.push(job.jobId);
          await sleep(300);
          finished = true;
        },
        { concurrency: 1 },
      );
      await waitFor(() => seen.length === 1, { what: 'Z1 to start' });
      await consumer.close();
      assert.equal(finished, true, 'graceful close waited for the running handler');
      await q.enqueue({ jobId: 'Z2', attempt: 0, priority: 5 });
      await sleep(300);
      assert.deepEqual(seen, ['Z1']);
      assert.deepEqual(await q.counts(), { waiting: 1, active: 0 });
      await q.close();
      await q.close(); // idempotent
      await assert.rejects(q.enqueue({ jobId: 'Z3', attempt: 0, priority: 5 }), /closed/);
    });
  });
}
