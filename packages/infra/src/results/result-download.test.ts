import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { Column, ResultStore, Row } from '@sluice/core';
import { createLocalResultStore } from './local-result-store.ts';
import { csvField, streamResultAs } from './result-download.ts';

async function text(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(parts).toString('utf8');
}

const COLUMNS: Column[] = [
  { name: 'id', type: 'INTEGER' },
  { name: 'text', type: 'VARCHAR' },
  { name: 'ok', type: 'BOOLEAN' },
  { name: 'extra, "quoted"', type: 'JSON' },
];

const ROWS: Row[] = [
  [1, 'plain', true, null],
  [2, 'comma, inside', false, { a: [1, 2] }],
  [3, 'say "hi"', null, 'x'],
  [4, 'line\nbreak and\r\nCRLF', true, ''],
  [5, 'ünïcødé ✓', false, 3.25],
  [6, '  spaces  ', true, '12345678901234567890'],
];

describe('result download', () => {
  let root: string;
  let store: ResultStore;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'sluice-download-'));
    store = createLocalResultStore(root);
    const w = await store.create('DLJOB', 0, COLUMNS);
    await w.write(ROWS);
    await w.finish();
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('CSV has a header row and RFC 4180 quoting with CRLF records', async () => {
    const csv = await text(streamResultAs(store, 'DLJOB', 0, COLUMNS, 'csv'));
    assert.equal(
      csv,
      [
        'id,text,ok,"extra, ""quoted"""',
        '1,plain,true,',
        '2,"comma, inside",false,"{""a"":[1,2]}"',
        '3,"say ""hi""",,x',
        '4,"line\nbreak and\r\nCRLF",true,',
        '5,ünïcødé ✓,false,3.25',
        '6,  spaces  ,true,12345678901234567890',
        '',
      ].join('\r\n'),
    );
  });

  test('csvField quotes only what needs it', () => {
    assert.equal(csvField(null), '');
    assert.equal(csvField(undefined), '');
    assert.equal(csvField('a'), 'a');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('a"b'), '"a""b"');
    assert.equal(csvField('a\rb'), '"a\rb"');
    assert.equal(csvField(0), '0');
    assert.equal(csvField(10n), '10');
    assert.equal(csvField([1, 'x']), '"[1,""x""]"');
  });

  test('JSONL is one object per row keyed by column name', async () => {
    const jsonl = await text(streamResultAs(store, 'DLJOB', 0, COLUMNS, 'jsonl'));
    assert.ok(jsonl.endsWith('\n'));
    const lines = jsonl.split('\n').slice(0, -1);
    assert.equal(lines.length, ROWS.length);
    assert.deepEqual(JSON.parse(lines[0] as string), { id: 1, text: 'plain', ok: true, 'extra, "quoted"': null });
    assert.deepEqual(
      lines.map((l) => JSON.parse(l) as Record<string, unknown>),
      ROWS.map((r) => Object.fromEntries(COLUMNS.map((c, i) => [c.name, r[i]]))),
    );
  });

  test('JSONL keeps repeated column names apart, treats __proto__ as a plain key and fills missing values with null', async () => {
    const cols: Column[] = [
      { name: 'a', type: 'INTEGER' },
      { name: 'a', type: 'INTEGER' },
      { name: '__proto__', type: 'VARCHAR' },
      { name: 'gone', type: 'VARCHAR' },
    ];
    const w = await store.create('DUPJOB', 0, cols);
    await w.write([[1, 2, 'p']]);
    await w.finish();
    const jsonl = await text(streamResultAs(store, 'DUPJOB', 0, cols, 'jsonl'));
    assert.equal(jsonl, '{"a":1,"a_2":2,"__proto__":"p","gone":null}\n');
  });

  test('the download pulls rows only as fast as it is read', async () => {
    const cols: Column[] = [{ name: 'n', type: 'INTEGER' }];
    const w = await store.create('PRESSJOB', 0, cols);
    for (let i = 0; i < 100_000; i += 10_000) await w.write(Array.from({ length: 10_000 }, (_, k) => [i + k]));
    await w.finish();
    let pulled = 0;
    const counting: ResultStore = {
      ...store,
      async *readBatches(jobId, index, opts) {
        for await (const rows of store.readBatches(jobId, index, opts)) {
          pulled += rows.length;
          yield rows;
        }
      },
    };
    const stream = streamResultAs(counting, 'PRESSJOB', 0, cols, 'csv');
    stream.pause();
    stream.once('readable', () => {});
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(pulled > 0, 'it started reading');
    assert.ok(pulled < 50_000, `an unread stream stopped pulling after ${pulled} of 100000 rows`);
    const csv = await text(stream);
    assert.equal(pulled, 100_000);
    const lines = csv.split('\r\n');
    assert.equal(lines.length, 100_002);
    assert.equal(lines[0], 'n');
    assert.equal(lines[100_000], '99999');
  });

  test('a missing result set errors the stream; an unknown format throws', async () => {
    await assert.rejects(text(streamResultAs(store, 'NOJOB', 0, COLUMNS, 'csv')), /has no result set 0/);
    assert.throws(() => streamResultAs(store, 'DLJOB', 0, COLUMNS, 'xml' as 'csv'), /unknown download format/);
  });
});
