import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateBytes, splitIntoBatches } from './row-batches.ts';

describe('row batches', () => {
  it('estimates sizes close to the JSON length', () => {
    for (const value of ['hello', 12345, true, null, [1, 'two', [3]], { a: 1, bb: ['x'] }]) {
      const json = JSON.stringify(value).length;
      const estimate = estimateBytes(value);
      assert.ok(estimate >= json * 0.5 && estimate <= json * 3, `${JSON.stringify(value)}: estimate ${estimate}, JSON ${json}`);
    }
  });

  it('splits by row count', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => [i]);
    const batches = splitIntoBatches(rows, 2048, 1 << 20);
    assert.deepEqual(
      batches.map((b) => b.length),
      [2048, 2048, 904],
    );
    assert.deepEqual(batches.flat(), rows);
  });

  it('splits by bytes, keeping order, and sends an oversized row alone', () => {
    const big = 'x'.repeat(3000);
    const rows = [['a'], [big], ['b'], ['c']];
    const batches = splitIntoBatches(rows, 100, 1000);
    assert.deepEqual(batches, [[['a']], [[big]], [['b'], ['c']]]);
  });

  it('gives no batch for no rows', () => {
    assert.deepEqual(splitIntoBatches([], 10, 10), []);
  });
});
