import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EventBus } from '@sluice/core';
import { freshDatabase, requireEnv, type TestDatabase, uniqueSuffix, waitFor } from '@sluice/testkit';
import { createEventBus } from './event-bus.ts';
import type { PublishHoldOptions } from './publish-hold.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens buses of one backend for a test file and closes them (and its database) afterwards. */
export interface BusFixture {
  /** The fresh database of the file (PostgreSQL only). */
  db(): TestDatabase | undefined;
  open(prefix?: string, onError?: (err: Error) => void, hold?: PublishHoldOptions): Promise<EventBus>;
}

/** Sets up {@link BusFixture} in the current file. */
export function busFixture(backend: 'redis' | 'postgres'): BusFixture {
  let db: TestDatabase | undefined;
  const buses: EventBus[] = [];
  before(async () => {
    if (backend === 'postgres') db = await freshDatabase('bus');
  });
  after(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    if (db) await db.drop();
  });
  return {
    db: () => db,
    async open(prefix = `t_${uniqueSuffix()}`, onError = () => {}, hold?: PublishHoldOptions) {
      const bus = await createEventBus({
        backend,
        prefix,
        redisUrl: backend === 'redis' ? requireEnv('REDIS_URL') : undefined,
        databaseUrl: db?.url,
        onError,
        hold,
      });
      buses.push(bus);
      return bus;
    },
  };
}

/** The behaviour every event bus backend must show, against the real server. */
export function eventBusContract(backend: 'redis' | 'postgres', fx: BusFixture): void {
  describe(`event bus on ${backend} (contract)`, () => {
    test('a message round-trips as JSON between two buses of one prefix', async () => {
      const prefix = `t_${uniqueSuffix()}`;
      const a = await fx.open(prefix);
      const b = await fx.open(prefix);
      const got: unknown[] = [];
      await a.subscribe('job.status', (m) => got.push(m));
      const message = { jobId: 'J1', state: 'Running', progress: 0.5, note: 'ünïcødé ✓', nested: [1, null, { x: true }] };
      await b.publish('job.status', message);
      await waitFor(() => got.length === 1, { what: 'the message' });
      assert.deepEqual(got, [message]);
    });

    test('many topics share the bus and each handler gets only its own topic, in order', async () => {
      const prefix = `t_${uniqueSuffix()}`;
      const sub = await fx.open(prefix);
      const pub = await fx.open(prefix);
      const topics = ['alpha', 'beta', 'gamma', 'delta', 'job.01J:log'];
      const got = new Map<string, unknown[]>(topics.map((t) => [t, []]));
      for (const t of topics) await sub.subscribe(t, (m) => got.get(t)?.push(m));
      await pub.publish('nobody-listens', { lost: true });
      for (let i = 0; i < 20; i++) for (const t of topics) await pub.publish(t, { t, i });
      await waitFor(() => [...got.values()].every((l) => l.length === 20), { what: '20 messages per topic' });
      await sleep(100);
      for (const t of topics) {
        assert.deepEqual(
          got.get(t),
          Array.from({ length: 20 }, (_, i) => ({ t, i })),
        );
      }
    });

    test('messages one publisher issues without waiting arrive in publish order, identical ones included', async () => {
      const prefix = `t_${uniqueSuffix()}`;
      const sub = await fx.open(prefix);
      const pub = await fx.open(prefix);
      const got: unknown[] = [];
      await sub.subscribe('job.X', (m) => got.push(m));
      const sent = Array.from({ length: 60 }, (_, i) => (i % 10 === 9 ? { same: true } : { i }));
      await Promise.all(sent.map((m) => pub.publish('job.X', m)));
      await waitFor(() => got.length >= sent.length, { what: `${sent.length} messages` });
      await sleep(100);
      assert.deepEqual(got, sent);
    });

    test('unsubscribe removes only that handler, even for the same function subscribed twice', async () => {
      const bus = await fx.open();
      const a: unknown[] = [];
      const b: unknown[] = [];
      const handlerA = (m: unknown) => a.push(m);
      const offA1 = await bus.subscribe('t', handlerA);
      await bus.subscribe('t', handlerA);
      const offB = await bus.subscribe('t', (m) => b.push(m));
      await offA1();
      await offA1(); // twice is harmless
      await bus.publish('t', 1);
      await waitFor(() => b.length === 1, { what: 'first message' });
      await offB();
      await bus.publish('t', 2);
      await waitFor(() => a.length === 2, { what: 'second message' });
      await sleep(100);
      assert.deepEqual(a, [1, 2], 'the remaining subscription of handlerA got both');
      assert.deepEqual(b, [1], 'B stopped after unsubscribing');
    });

    test('a message published right after subscribe() resolves is delivered', async () => {
      const prefix = `t_${uniqueSuffix()}`;
      const sub = await fx.open(prefix);
      const pub = await fx.open(prefix);
      const got: string[] = [];
      for (let i = 0; i < 25; i++) {
        const topic = `fresh-${i}`;
        await sub.subscribe(topic, (m) => got.push(m as string));
        await pub.publish(topic, topic);
      }
      await waitFor(() => got.length === 25, { what: '25 messages', timeoutMs: 5000 });
      assert.deepEqual([...got].sort(), Array.from({ length: 25 }, (_, i) => `fresh-${i}`).sort());
    });

    test('a throwing or rejecting handler never stops delivery to the others', async () => {
      const errors: string[] = [];
      const bus = await fx.open(undefined, (e) => errors.push(e.message));
      const good: unknown[] = [];
      await bus.subscribe('x', () => {
        throw new Error('sync boom');
      });
      await bus.subscribe('x', (async () => {
        throw new Error('async boom');
      }) as () => void);
      await bus.subscribe('x', (m) => good.push(m));
      await bus.publish('x', 'one');
      await bus.publish('x', 'two');
      await waitFor(() => good.length === 2 && errors.length === 4, { what: 'two deliveries and four errors' });
      assert.deepEqual(good, ['one', 'two']);
      assert.deepEqual([...errors].sort(), ['async boom', 'async boom', 'sync boom', 'sync boom']);
    });

    test('buses of different prefixes do not hear each other', async () => {
      const a = await fx.open();
      const b = await fx.open();
      const gotA: unknown[] = [];
      const gotB: unknown[] = [];
      await a.subscribe('shared', (m) => gotA.push(m));
      await b.subscribe('shared', (m) => gotB.push(m));
      await a.publish('shared', 'for a');
      await waitFor(() => gotA.length === 1, { what: 'a to hear itself' });
      await sleep(150);
      assert.deepEqual(gotA, ['for a']);
      assert.deepEqual(gotB, []);
    });

    test('held topics wait at most holdMs, keep their order against other topics, and are sent on close', async () => {
      const prefix = `t_${uniqueSuffix()}`;
      const sub = await fx.open(prefix);
      const pub = await fx.open(prefix, undefined, { holdMs: 300, held: (t) => t.startsWith('job.') });
      const got: string[] = [];
      for (const t of ['job.A', 'job.B', 'states']) await sub.subscribe(t, (m) => got.push(`${t}:${String(m)}`));

      // Held alone: nothing arrives at once, everything within the hold.
      const t0 = performance.now();
      await pub.publish('job.A', 'running');
      await sleep(100);
      assert.deepEqual(got, [], 'a held message waits');
      await waitFor(() => got.length === 1, { what: 'the held message', timeoutMs: 5000 });
      const waited = performance.now() - t0;
      assert.ok(waited >= 250, `released after the hold, not before (${waited.toFixed(0)} ms)`);
      assert.deepEqual(got, ['job.A:running']);

      // A message on a topic that is not held sends what is held first, in publish order.
      got.length = 0;
      await pub.publish('job.A', 'rows');
      await pub.publish('job.B', 'log');
      await pub.publish('job.A', 'end');
      await pub.publish('states', 'A ended');
      await waitFor(() => got.length === 4, { what: 'four messages', timeoutMs: 250 });
      assert.deepEqual(got, ['job.A:rows', 'job.B:log', 'job.A:end', 'states:A ended']);

      // Close sends what is still held.
      got.length = 0;
      await pub.publish('job.B', 'last words');
      await pub.close();
      await waitFor(() => got.length === 1, { what: 'the message held at close', timeoutMs: 5000 });
      assert.deepEqual(got, ['job.B:last words']);
    });

    test('unserializable messages and a closed bus are rejected clearly', async () => {
      const bus = await fx.open();
      await assert.rejects(bus.publish('t', { n: 10n }), /not JSON-serializable/);
      await assert.rejects(bus.publish('t', undefined), /not JSON-serializable/);
      await assert.rejects(bus.publish('', 1), /topic/);
      assert.ok(bus.maxMessageBytes > 0);
      await bus.close();
      await bus.close();
      await assert.rejects(bus.publish('t', 1), /closed/);
      await assert.rejects(
        bus.subscribe('t', () => {}),
        /closed/,
      );
    });
  });
}
