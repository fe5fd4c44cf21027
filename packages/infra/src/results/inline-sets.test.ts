import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Column, ResultStore, Row } from '@sluice/core';
import { INLINE_URI, MAX_INLINE_BYTES, withInlineSets } from './inline-sets.ts';
import { createLocalResultStore } from './local-result-store.ts';

const COLUMNS: Column[] = [
  { name: 'id', type: 'INTEGER' },
  { name: 'name', type: 'VARCHAR' },
];

/** Row `i`: multi-byte text and JSON escapes, so bytes are not characters. */
const rowOf = (i: number): Row => [i, i % 3 === 0 ? `ünï "q", line\nbreak ${i}` : `name-${i}`];
const rows = (from: number, to: number): Row[] => Array.from({ length: to - from }, (_, k) => rowOf(from + k));
/** The JSON-lines size of rows, as the local store counts it. */
const linesBytes = (rs: Row[]): number => Buffer.byteLength(rs.map((r) => `${JSON.stringify(r)}\n`).join(''));

async function readAll(store: ResultStore, jobId: string, opts: Parameters<ResultStore['readBatches']>[2] = {}): Promise<Row[]> {
  const out: Row[] = [];
  for await (const batch of store.readBatches(jobId, 0, opts)) out.push(...batch);
  return out;
}

describe('inline result sets', () => {
  let root: string;
  let local: ResultStore;
  let store: ResultStore;
  const MAX = 4096;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'sluice-inline-'));
    local = createLocalResultStore(root);
    store = withInlineSets(local, MAX);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('a small set is sealed with its lines and never touches the store', async () => {
    const w = await store.create('SMALL01', 0, COLUMNS);
    await w.write(rows(0, 10));
    await w.write(rows(10, 20));
    assert.equal(w.rows, 20);
    assert.equal(w.bytes, linesBytes(rows(0, 20)));
    const sealed = await w.finish();
    assert.equal(sealed.uri, INLINE_URI);
    assert.equal(sealed.rows, 20);
    assert.equal(sealed.bytes, linesBytes(rows(0, 20)));
    assert.equal(Buffer.byteLength(sealed.lines ?? ''), sealed.bytes);
    assert.equal(existsSync(path.join(root, 'SMALL01')), false, 'no directory or file for the job');

    assert.deepEqual(await readAll(store, 'SMALL01', { lines: sealed.lines }), rows(0, 20));
    assert.deepEqual(await readAll(store, 'SMALL01', { lines: sealed.lines, offset: 5, limit: 3 }), rows(5, 8));
    assert.deepEqual(await readAll(store, 'SMALL01', { lines: sealed.lines, offset: 19, limit: 100 }), rows(19, 20));
    assert.deepEqual(await readAll(store, 'SMALL01', { lines: sealed.lines, offset: 20 }), []);
    assert.deepEqual(await readAll(store, 'SMALL01', { lines: sealed.lines, limit: 0 }), []);
    const streamed: Row[] = [];
    for await (const r of store.read('SMALL01', 0, { lines: sealed.lines, offset: 18 })) streamed.push(r);
    assert.deepEqual(streamed, rows(18, 20));
    await assert.rejects(readAll(store, 'SMALL01', { lines: sealed.lines, offset: -1 }), RangeError);
    // Without its lines the set is looked for in the store, where it is not.
    await assert.rejects(readAll(store, 'SMALL01', { sizeHint: sealed.bytes }), { code: 'SLUICE_RESULT_NOT_FOUND' });
  });

  test('an empty set is inline and reads as no rows', async () => {
    const w = await store.create('EMPTY01', 0, COLUMNS);
    const sealed = await w.finish();
    assert.deepEqual(sealed, { rows: 0, bytes: 0, uri: INLINE_URI, lines: '' });
    assert.deepEqual(await readAll(store, 'EMPTY01', { lines: '' }), []);
  });

  test('a set that outgrows the size goes to the store whole, held rows first, with the same byte count', async () => {
    const w = await store.create('BIG01', 0, COLUMNS);
    let written = 0;
    while (linesBytes(rows(0, written)) <= MAX * 3) {
      await w.write(rows(written, written + 7));
      written += 7;
      assert.equal(w.rows, written);
      assert.equal(w.bytes, linesBytes(rows(0, written)));
    }
    const sealed = await w.finish();
    assert.equal(sealed.lines, undefined);
    assert.notEqual(sealed.uri, INLINE_URI);
    assert.equal(sealed.rows, written);
    assert.equal(sealed.bytes, linesBytes(rows(0, written)));
    // The file the store wrote is the lines, byte for byte.
    const file = await readFile(fileURLToPath(sealed.uri), 'utf8');
    assert.equal(
      file,
      rows(0, written)
        .map((r) => `${JSON.stringify(r)}\n`)
        .join(''),
    );
    assert.deepEqual(await readAll(store, 'BIG01', { sizeHint: sealed.bytes }), rows(0, written));
    assert.deepEqual(await readAll(store, 'BIG01', { offset: 40, limit: 2 }), rows(40, 42));
    await store.deleteJob('BIG01');
    assert.equal(existsSync(path.join(root, 'BIG01')), false);
  });

  test('one batch larger than the size goes straight to the store', async () => {
    const w = await store.create('BIG02', 0, COLUMNS);
    const batch = rows(0, 200);
    assert.ok(linesBytes(batch) > MAX);
    await w.write(batch);
    const sealed = await w.finish();
    assert.equal(sealed.lines, undefined);
    assert.deepEqual(await readAll(store, 'BIG02'), batch);
  });

  test('a stray bigint is kept as its decimal string, as the store writes it', async () => {
    const w = await store.create('BIGINT01', 0, COLUMNS);
    await w.write([[1, 12345678901234567890n] as unknown as Row]);
    const sealed = await w.finish();
    assert.deepEqual(await readAll(store, 'BIGINT01', { lines: sealed.lines }), [[1, '12345678901234567890']]);
  });

  test('abort drops a held set, and one already in the store', async () => {
    const small = await store.create('ABORT01', 0, COLUMNS);
    await small.write(rows(0, 3));
    await small.abort();
    await assert.rejects(small.write(rows(3, 4)), /aborted/);
    await assert.rejects(small.finish(), /aborted/);
    const big = await store.create('ABORT02', 0, COLUMNS);
    await big.write(rows(0, 200));
    await big.abort();
    assert.deepEqual(existsSync(path.join(root, 'ABORT02', '0.ndjson')), false);
    assert.equal(existsSync(path.join(root, 'ABORT01')), false);
  });

  test('a sealed set takes no more rows', async () => {
    const w = await store.create('SEALED01', 0, COLUMNS);
    await w.write(rows(0, 1));
    await w.finish();
    await assert.rejects(w.write(rows(1, 2)), /finished/);
  });

  test('size 0 leaves the store as it is; a size out of range is refused', () => {
    assert.equal(withInlineSets(local, 0), local);
    assert.throws(() => withInlineSets(local, -1), RangeError);
    assert.throws(() => withInlineSets(local, MAX_INLINE_BYTES + 1), RangeError);
    assert.throws(() => withInlineSets(local, 1.5), RangeError);
  });
});
