import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '@sluice/core';
import { checkLimit, decodeCursor, encodeCursor, toPage } from './browse-cursor.ts';

describe('browse cursors', () => {
  const tables = { level: 'tables' as const, catalog: 'c', schema: 's' };

  it('round-trips a key for the same path and refuses it for another', () => {
    assert.equal(decodeCursor(tables, encodeCursor(tables, 't_0042')), 't_0042');
    assert.equal(decodeCursor(tables, undefined), undefined);
    assert.throws(() => decodeCursor({ ...tables, schema: 'other' }, encodeCursor(tables, 'x')), SluiceError);
    assert.throws(() => decodeCursor(tables, 'garbage'), SluiceError);
  });

  it('cuts a page from limit + 1 rows', () => {
    const page = toPage(
      tables,
      ['a', 'b', 'c'],
      2,
      (name) => ({ name, kind: 'table' as const }),
      (name) => name,
    );
    assert.deepEqual(page.items, [
      { name: 'a', kind: 'table' },
      { name: 'b', kind: 'table' },
    ]);
    assert.equal(decodeCursor(tables, page.nextCursor!), 'b');
    assert.equal(
      toPage(
        tables,
        ['a'],
        2,
        (name) => ({ name, kind: 'table' as const }),
        (name) => name,
      ).nextCursor,
      null,
    );
  });

  it('bounds the page size', () => {
    assert.equal(checkLimit(1000), 1000);
    for (const bad of [0, 1001, 2.5, Number.NaN]) assert.throws(() => checkLimit(bad), SluiceError);
  });
});
