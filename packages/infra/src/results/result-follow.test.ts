import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Column, type FollowedResultSet, type ResultStore, type Row, SluiceError } from '@sluice/core';
import { createLocalResultStore, SMALL_RESULT_BYTES } from './local-result-store.ts';

const COLUMNS: Column[] = [
  { name: 'id', type: 'INTEGER' },
  { name: 'text', type: 'VARCHAR' },
];

/** Row `i`: multi-byte text, so a read that cut a character in two would show. */
const rowOf = (i: number): Row => [i, i % 5 === 0 ? `ünïcødé ✓ "q", ${i}\nnext` : `row-${i}`];
const range = (from: number, n: number): Row[] => Array.from({ length: n }, (_, k) => rowOf(from + k));

/** Reads every row of a followed set, checking each is the next one expected. */
async function drain(followed: FollowedResultSet): Promise<number> {
  let n = 0;
  for await (const rows of followed.batches) {
    for (const row of rows) {
      assert.deepEqual(row, rowOf(n), `row ${n}`);
      n++;
    }
  }
  return n;
}

const always = { stillWriting: async () => true };

describe('following a result set while it is written', () => {
  let root: string;
  /** The writer's store. */
  let store: ResultStore;
  /** A second store on the same directory: a follower in another process, which sees only the files. */
  let other: ResultStore;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'sluice-follow-'));
    store = createLocalResultStore(root);
    other = createLocalResultStore(root);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  for (const where of ['same process', 'other process'] as const) {
    test(`${where}: a follow started before the set begins gets every row once, in order, and ends when it is sealed`, async () => {
      const job = where === 'same process' ? 'FOLLOWSAME' : 'FOLLOWOTHER';
      const reader = where === 'same process' ? store : other;
      const followed = reader.follow(job, 0, always);
      await sleep(30);
      const TOTAL = 120_000;
      const writing = (async () => {
        const w = await store.create(job, 0, COLUMNS);
        for (let i = 0; i < TOTAL; i += 2000) {
          await w.write(range(i, 2000));
          // The follower catches up with the writer now and then, and must wait rather than end.
          if (i % 20_000 === 0) await sleep(20);
        }
        return w.finish();
      })();
      const f = await followed;
      assert.ok(f, 'the follow resolved once the set began');
      assert.deepEqual(f.columns, COLUMNS);
      const [read, sealed] = await Promise.all([drain(f), writing]);
      assert.equal(read, TOTAL);
      assert.equal(sealed.rows, TOTAL);
      assert.equal(existsSync(path.join(root, job, '0.live.json')), false, 'the live sidecar goes when the set is sealed');
    });

    test(`${where}: a set dropped mid-way ends the follow with SLUICE_RESULT_INCOMPLETE`, async () => {
      const job = where === 'same process' ? 'DROPSAME' : 'DROPOTHER';
      const reader = where === 'same process' ? store : other;
      const w = await store.create(job, 0, COLUMNS);
      await w.write(range(0, 5000));
      const f = await reader.follow(job, 0, always);
      assert.ok(f);
      let read = 0;
      const reading = (async () => {
        for await (const rows of f.batches) read += rows.length;
      })();
      await sleep(100);
      await w.abort();
      await assert.rejects(reading, (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_RESULT_INCOMPLETE');
      assert.equal(read, 5000, 'the rows written before the drop were delivered');
    });
  }

  test('a small set, buffered in memory until sealed, is followed in the same process', async () => {
    const f = store.follow('SMALLSET', 0, always);
    const w = await store.create('SMALLSET', 0, COLUMNS);
    await w.write(range(0, 10));
    const followed = await f;
    assert.ok(followed);
    const reading = drain(followed);
    await sleep(50);
    await w.write(range(10, 5));
    await w.finish();
    assert.equal(await reading, 15);
  });

  test('a set that grows past the in-memory size while followed is read whole', async () => {
    const w = await store.create('GROWSET', 0, COLUMNS);
    const f = await store.follow('GROWSET', 0, always);
    assert.ok(f);
    const reading = drain(f);
    let n = 0;
    // Row by row across the point where the writer moves its buffer to the file.
    while (w.bytes < SMALL_RESULT_BYTES * 2) {
      await w.write([rowOf(n)]);
      n++;
    }
    await w.finish();
    assert.equal(await reading, n);
  });

  test('the writer never waits for a follower that does not read; the follower still gets everything', async () => {
    const w = await store.create('SLOWREADER', 0, COLUMNS);
    await w.write(range(0, 5000));
    const f = await store.follow('SLOWREADER', 0, always);
    assert.ok(f);
    const it = f.batches[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(first.done, false);
    for (let i = 5000; i < 100_000; i += 5000) await w.write(range(i, 5000));
    await w.finish();
    let n = (first.value as Row[]).length;
    assert.ok(n > 0, 'the first batch held rows');
    for (let r = await it.next(); !r.done; r = await it.next()) n += r.value.length;
    assert.equal(n, 100_000);
  });

  test('in the same process, values that do not survive JSON as they are (dates, bigints) arrive as a later read gives them', async () => {
    const w = await store.create('ODDVALUES', 0, COLUMNS);
    const f = await store.follow('ODDVALUES', 0, always);
    assert.ok(f);
    const got: Row[] = [];
    const reading = (async () => {
      for await (const rows of f.batches) got.push(...rows);
    })();
    for (let i = 0; i < 3000; i += 100) {
      // Plain batches (taken as they are) and odd ones (read back from the file) in turn.
      const batch = range(i, 100);
      if ((i / 100) % 2 === 1) batch[0] = [new Date(Date.UTC(2024, 0, 1 + (i % 28))), BigInt(i) * 10n ** 20n];
      await w.write(batch);
      await sleep(1);
    }
    await w.finish();
    await reading;
    const after: Row[] = [];
    for await (const rows of store.readBatches('ODDVALUES', 0)) after.push(...rows);
    assert.equal(got.length, 3000);
    assert.deepEqual(got, after);
    assert.deepEqual(got[100], ['2024-01-17T00:00:00.000Z', '10000000000000000000000']);
  });

  test('a writer that stops without sealing or dropping (its process died) ends the follow once nobody writes', async () => {
    const w = await store.create('CRASHSET', 0, COLUMNS);
    await w.write(range(0, 10_000));
    let writing = true;
    const f = await other.follow('CRASHSET', 0, { stillWriting: async () => writing });
    assert.ok(f);
    let read = 0;
    const reading = (async () => {
      for await (const rows of f.batches) read += rows.length;
    })();
    await sleep(300);
    assert.equal(read, 10_000);
    writing = false;
    await assert.rejects(reading, (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_RESULT_INCOMPLETE');
    await w.abort();
  });

  test('a set that never begins: the follow resolves to undefined when nobody writes, or when its signal aborts', async () => {
    let asked = 0;
    const started = Date.now();
    const none = await store.follow('NEVERJOB', 3, {
      stillWriting: async () => {
        asked++;
        return asked < 3;
      },
    });
    assert.equal(none, undefined);
    assert.equal(asked, 3);
    assert.ok(Date.now() - started >= 900, 'it waited between the questions instead of spinning');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    assert.equal(await store.follow('NEVERJOB', 4, { stillWriting: async () => true, signal: ac.signal }), undefined);
  });

  test('a large set already sealed is read from its file; a small one is left to the index', async () => {
    const w = await store.create('SEALEDBIG', 0, COLUMNS);
    for (let i = 0; i < 20_000; i += 5000) await w.write(range(i, 5000));
    await w.finish();
    const f = await other.follow('SEALEDBIG', 0, always);
    assert.ok(f);
    assert.equal(await drain(f), 20_000);
    const s = await store.create('SEALEDSMALL', 0, COLUMNS);
    await s.write(range(0, 3));
    await s.finish();
    assert.equal(await other.follow('SEALEDSMALL', 0, { stillWriting: async () => false }), undefined);
  });
});
