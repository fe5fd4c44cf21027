import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RowBatcher } from './row-batcher.ts';

describe('RowBatcher', () => {
  it('cuts batches by rows and by bytes; an oversized row travels alone', () => {
    const batcher = new RowBatcher({ rows: 2, bytes: 100 });
    assert.equal(batcher.add([1]), undefined);
    assert.equal(batcher.add([2]), undefined);
    assert.deepEqual(batcher.add([3]), [[1], [2]]);
    assert.deepEqual(batcher.add(['x'.repeat(200)]), [[3]]);
    assert.equal(batcher.isFull, true);
    assert.deepEqual(batcher.take(), [['x'.repeat(200)]]);
    assert.equal(batcher.take(), undefined);
  });
});
