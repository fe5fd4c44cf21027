import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Column, type ResultStore, type Row, SluiceError } from '@sluice/core';
import { createLocalResultStore, OFFSET_STRIDE, type ResultIndexFile, SMALL_RESULT_BYTES } from './local-result-store.ts';

const COLUMNS: Column[] = [
  { name: 'id', type: 'INTEGER' },
  { name: 'name', type: 'VARCHAR' },
  { name: 'amount', type: 'DECIMAL(18,2)', nullable: true },
  { name: 'big', type: 'HUGEINT' },
  { name: 'meta', type: 'JSON' },
];

/** Row `i` of the big result: every kind of value, multi-byte text and JSON escapes included. */
function rowOf(i: number): Row {
  return [
    i,
    i % 7 === 0 ? `ünïcødé ✓ "quoted", line\nbreak ${i}` : `name-${i}`,
    i % 3 === 0 ? null : `${i}.${String(i % 100).padStart(2, '0')}`,
    `170141183460469231731687303715884${String(i).padStart(6, '0')}`,
    i % 5 === 0 ? { k: i, tags: ['a', 'b'] } : [i, true],
  ];
}

async function collect(it: AsyncIterable<Row>): Promise<Row[]> {
  const out: Row[] = [];
  for await (const r of it) out.push(r);
  return out;
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, k) => rowOf(from + k));

describe('local result store', () => {
  let root: string;
  let store: ResultStore;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'sluice-results-'));
    store = createLocalResultStore(root);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe('200 000 rows', () => {
    const TOTAL = 200_000;
    const JOB = 'BIG01JOB';
    let sealed: { rows: number; bytes: number; uri: string };

    before(async () => {
      const w = await store.create(JOB, 0, COLUMNS);
      for (let i = 0; i < TOTAL; i += 1000) await w.write(range(i, i + 1000));
      assert.equal(w.rows, TOTAL);
      sealed = await w.finish();
    });

    test('finish reports the rows and the bytes written, and a file uri', async () => {
      assert.equal(sealed.rows, TOTAL);
      const file = path.join(root, JOB, '0.ndjson');
      assert.equal(sealed.uri, `file://${file}`);
      assert.equal(fileURLToPath(sealed.uri), file);
      assert.equal((await stat(file)).size, sealed.bytes);
      assert.ok(!existsSync(`${file}.partial`));
      const meta = JSON.parse(await readFile(path.join(root, JOB, '0.index.json'), 'utf8')) as ResultIndexFile;
      assert.deepEqual(meta.columns, COLUMNS);
      assert.equal(meta.rows, TOTAL);
      assert.equal(meta.bytes, sealed.bytes);
      assert.equal(meta.offsets.length, Math.ceil(TOTAL / OFFSET_STRIDE));
    });

    test('reads back exact values at several offsets', async () => {
      const cases: [number, number | undefined, number][] = [
        [0, 5, 5],
        [1023, 3, 3],
        [1024, 2, 2],
        [70_001, 1, 1],
        [100_000, 10, 10],
        [199_990, 100, 10],
        [199_995, undefined, 5],
        [TOTAL, undefined, 0],
        [TOTAL + 50, 5, 0],
        [5, 0, 0],
      ];
      for (const [offset, limit, expected] of cases) {
        const rows = await collect(store.read(JOB, 0, { offset, limit }));
        assert.equal(rows.length, expected, `offset ${offset} limit ${limit}`);
        assert.deepEqual(rows, range(offset, offset + expected), `offset ${offset} limit ${limit}`);
      }
    });

    test('a full read returns every row in order', async () => {
      let i = 0;
      for await (const row of store.read(JOB, 0)) {
        if (i % 997 === 0 || i === TOTAL - 1) assert.deepEqual(row, rowOf(i));
        else assert.equal(row[0], i);
        i++;
      }
      assert.equal(i, TOTAL);
    });

    test('reads seek through the offsets index instead of scanning from the start', async () => {
      const JOB2 = 'SEEKJOB';
      const w = await store.create(JOB2, 3, COLUMNS);
      await w.write(range(0, 3000));
      await w.finish();
      const file = path.join(root, JOB2, '3.ndjson');
      // Turn the first newline into a space (same size, so the index stays valid): a scan from byte 0
      // would now be one row off; a seek to the block of row 1500 is not affected.
      const fh = await open(file, 'r+');
      try {
        const head = Buffer.alloc(4096);
        await fh.read(head, 0, head.length, 0);
        await fh.write(Buffer.from(' '), 0, 1, head.indexOf(10));
      } finally {
        await fh.close();
      }
      assert.deepEqual(await collect(store.read(JOB2, 3, { offset: 1500, limit: 3 })), range(1500, 1503));
      await assert.rejects(collect(store.read(JOB2, 3, { offset: 0, limit: 1 })), SyntaxError);

      // Without its sidecar a result set is still readable, by scanning.
      await rm(path.join(root, JOB2, '3.index.json'));
      assert.deepEqual(await collect(store.read(JOB2, 3, { offset: 1500, limit: 2 })), [rowOf(1501), rowOf(1502)]);
    });
  });

  test('a stray bigint is written as its decimal string', async () => {
    const w = await store.create('BIGINTJOB', 0, [{ name: 'x', type: 'HUGEINT' }]);
    await w.write([[1n, 2n ** 70n, { nested: -3n }]]);
    await w.finish();
    assert.deepEqual(await collect(store.read('BIGINTJOB', 0)), [['1', '1180591620717411303424', { nested: '-3' }]]);
  });

  test('a row that is not an array is refused and leaves the writer as it was', async () => {
    const w = await store.create('BADROWJOB', 0, COLUMNS);
    await w.write([rowOf(0)]);
    const bytes = w.bytes;
    await assert.rejects(w.write([rowOf(1), { not: 'a row' } as unknown as Row]), TypeError);
    assert.equal(w.rows, 1);
    assert.equal(w.bytes, bytes);
    const done = await w.finish();
    assert.equal(done.rows, 1);
    assert.deepEqual(await collect(store.read('BADROWJOB', 0)), [rowOf(0)]);
    await assert.rejects(w.write([rowOf(2)]), /finished/);
  });

  test('abort removes the partial file; an unsealed or missing set is not found', async () => {
    const w = await store.create('ABORTJOB', 1, COLUMNS);
    await w.write(range(0, 5000));
    assert.ok(existsSync(path.join(root, 'ABORTJOB', '1.ndjson.partial')));
    await assert.rejects(collect(store.read('ABORTJOB', 1)), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_RESULT_NOT_FOUND');
    await w.abort();
    await w.abort();
    assert.deepEqual(await readdir(path.join(root, 'ABORTJOB')), []);
    await assert.rejects(w.write([rowOf(1)]), /aborted/);
    await assert.rejects(collect(store.read('ABORTJOB', 1)), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_RESULT_NOT_FOUND');
  });

  test('writing a set again replaces it; deleteJob removes every set of the job', async () => {
    const w1 = await store.create('REDOJOB', 0, COLUMNS);
    await w1.write(range(0, 2000));
    await w1.finish();
    const w2 = await store.create('REDOJOB', 0, COLUMNS);
    await w2.write(range(10, 15));
    const sealed = await w2.finish();
    assert.equal(sealed.rows, 5);
    assert.deepEqual(await collect(store.read('REDOJOB', 0, { offset: 1 })), range(11, 15));
    const w3 = await store.create('REDOJOB', 1, COLUMNS);
    await w3.write([rowOf(1)]);
    await w3.finish();
    await store.deleteJob('REDOJOB');
    assert.equal(existsSync(path.join(root, 'REDOJOB')), false);
    await store.deleteJob('REDOJOB'); // already gone: fine
    await assert.rejects(collect(store.read('REDOJOB', 1)), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_RESULT_NOT_FOUND');
  });

  test('a small set stays in memory until sealed, is written whole, and reads whole through the size hint', async () => {
    const w = await store.create('SMALLJOB', 0, COLUMNS);
    await w.write(range(0, 30));
    await w.write(range(30, 40));
    // Nothing on disk before the seal: an unsealed set is not found, and aborting leaves no file.
    assert.equal(existsSync(path.join(root, 'SMALLJOB')), false);
    await assert.rejects(collect(store.read('SMALLJOB', 0)), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_RESULT_NOT_FOUND');
    const sealed = await w.finish();
    assert.equal(sealed.rows, 40);
    assert.equal((await stat(path.join(root, 'SMALLJOB', '0.ndjson'))).size, sealed.bytes);
    assert.deepEqual(await readdir(path.join(root, 'SMALLJOB')), ['0.ndjson']);
    const hint = { sizeHint: sealed.bytes };
    assert.deepEqual(await collect(store.read('SMALLJOB', 0, hint)), range(0, 40));
    assert.deepEqual(await collect(store.read('SMALLJOB', 0, { ...hint, offset: 7, limit: 5 })), range(7, 12));
    assert.deepEqual(await collect(store.read('SMALLJOB', 0, { ...hint, offset: 38 })), range(38, 40));
    assert.deepEqual(await collect(store.read('SMALLJOB', 0, { ...hint, offset: 40 })), []);
    // Without the hint the same rows come from the streamed path.
    assert.deepEqual(await collect(store.read('SMALLJOB', 0, { offset: 7, limit: 5 })), range(7, 12));
    await assert.rejects(collect(store.read('NOSUCHJOB', 0, hint)), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_RESULT_NOT_FOUND');
    const aborted = await store.create('SMALLJOB', 1, COLUMNS);
    await aborted.write(range(0, 3));
    await aborted.abort();
    assert.deepEqual(await readdir(path.join(root, 'SMALLJOB')), ['0.ndjson']);
  });

  test('a set that outgrows the small size moves to a streamed file with a sidecar', async () => {
    const w = await store.create('GROWJOB', 0, COLUMNS);
    let n = 0;
    while (w.bytes <= SMALL_RESULT_BYTES) {
      await w.write(range(n, n + 100));
      n += 100;
    }
    assert.ok(existsSync(path.join(root, 'GROWJOB', '0.ndjson.partial')));
    const sealed = await w.finish();
    assert.equal(sealed.rows, n);
    assert.ok(existsSync(path.join(root, 'GROWJOB', '0.index.json')));
    assert.deepEqual(await collect(store.read('GROWJOB', 0, { offset: n - 3 })), range(n - 3, n));
  });

  test('ids and indexes that could leave the root are rejected', async () => {
    const outside = path.join(path.dirname(root), `escape-${path.basename(root)}`);
    await writeFile(path.join(root, 'keep.txt'), 'x');
    for (const jobId of ['..', '.', '../x', `../${path.basename(outside)}`, 'a/b', 'a\\b', '/etc', '', '.hidden', 'x'.repeat(129), 'nul\0byte']) {
      await assert.rejects(store.create(jobId, 0, COLUMNS), /invalid job id/, JSON.stringify(jobId));
      await assert.rejects(collect(store.read(jobId, 0)), /invalid job id/, JSON.stringify(jobId));
      await assert.rejects(store.deleteJob(jobId), /invalid job id/, JSON.stringify(jobId));
    }
    for (const index of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e9]) {
      await assert.rejects(store.create('OKJOB', index, COLUMNS), /invalid result set index/, String(index));
    }
    await assert.rejects(collect(store.read('OKJOB', 0, { offset: -1 })), RangeError);
    await assert.rejects(collect(store.read('OKJOB', 0, { limit: 2.5 })), RangeError);
    assert.equal(existsSync(outside), false);
    assert.equal(existsSync(path.join(root, 'keep.txt')), true);
  });
});
