import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { uniqueSuffix, waitFor } from '@sluice/testkit';
import pg from 'pg';
import { busFixture, eventBusContract } from './event-bus-contract.ts';
import { notifyChannel } from './notify-channel.ts';
import { POSTGRES_BUS_MAX_MESSAGE_BYTES } from './postgres-event-bus.ts';

const fx = busFixture('postgres');
eventBusContract('postgres', fx);

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const db = fx.db();
  assert.ok(db);
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Pids of the listening connections of `prefix` in the test database. */
function listenerPids(prefix: string): Promise<number[]> {
  return withAdmin(async (c) => {
    const r = await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [
      notifyChannel(prefix),
    ]);
    return r.rows.map((x) => x.pid);
  });
}

describe('event bus on postgres', () => {
  test('messages up to maxMessageBytes pass; larger ones, or an envelope over 8000 bytes, reject clearly', async () => {
    const bus = await fx.open();
    assert.equal(bus.maxMessageBytes, POSTGRES_BUS_MAX_MESSAGE_BYTES);
    assert.ok(bus.maxMessageBytes >= 7800 && bus.maxMessageBytes < 8000);
    const got: unknown[] = [];
    await bus.subscribe('big', (m) => got.push(m));
    // A JSON string of n characters serializes to n + 2 bytes.
    const largest = 'é'.repeat((bus.maxMessageBytes - 2) / 2);
    await bus.publish('big', largest);
    await waitFor(() => got.length === 1, { what: 'the largest message' });
    assert.equal(got[0], largest);
    await assert.rejects(bus.publish('big', `${largest}x`), /7901 bytes, more than the 7900 bytes PostgreSQL NOTIFY carries/);
    await assert.rejects(bus.publish('t'.repeat(150), largest), /NOTIFY carries less than 8000/);
  });

  test('all topics of a prefix share one listening connection', async () => {
    const prefix = `t_${uniqueSuffix()}`;
    const bus = await fx.open(prefix);
    for (let i = 0; i < 8; i++) await bus.subscribe(`topic-${i}`, () => {});
    assert.equal((await listenerPids(prefix)).length, 1);
  });

  test('after pg_terminate_backend of the listener it reconnects, LISTENs again and delivers', async () => {
    const prefix = `t_${uniqueSuffix()}`;
    const errors: string[] = [];
    const sub = await fx.open(prefix, (e) => errors.push(e.message));
    const pub = await fx.open(prefix);
    const got: unknown[] = [];
    await sub.subscribe('status', (m) => got.push(m));
    await pub.publish('status', 'before');
    await waitFor(() => got.length === 1, { what: 'the first message' });

    // Both buses listen (each bus has its own listener); cut them all.
    const old = await listenerPids(prefix);
    assert.equal(old.length, 2);
    const killed = await withAdmin((c) => c.query<{ ok: boolean }>('SELECT pg_terminate_backend(pid) AS ok FROM unnest($1::int[]) AS pid', [old]));
    assert.deepEqual(
      killed.rows.map((r) => r.ok),
      [true, true],
    );
    await waitFor(() => errors.some((m) => /lost its connection/.test(m)), { what: 'the drop to be noticed' });

    // Messages sent while the listener is away are lost (at-most-once); keep publishing until one lands.
    let n = 0;
    await waitFor(
      async () => {
        await pub.publish('status', `after-${n++}`);
        return got.some((m) => String(m).startsWith('after-'));
      },
      { what: 'a message after the reconnect', timeoutMs: 10_000, intervalMs: 100 },
    );
    const now = await waitFor(async () => {
      const pids = await listenerPids(prefix);
      return pids.length === 2 ? pids : undefined;
    });
    assert.equal(now?.length, 2);
    assert.ok(
      now?.every((p) => !old.includes(p)),
      'new backends listen',
    );

    // Subscriptions made after the reconnect are live at once too.
    const late: unknown[] = [];
    await sub.subscribe('late', (m) => late.push(m));
    await pub.publish('late', 'hello');
    await waitFor(() => late.length === 1, { what: 'the late subscription' });
    assert.deepEqual(late, ['hello']);
  });
});
