import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressOf } from './query-progress.ts';

describe('progressOf', () => {
  it('uses the server’s percentage, else completed splits, else nothing', () => {
    assert.equal(progressOf({ state: 'RUNNING', progressPercentage: 42.5, totalSplits: 10, completedSplits: 1 }), 0.425);
    assert.equal(progressOf({ state: 'RUNNING', totalSplits: 8, completedSplits: 2 }), 0.25);
    assert.equal(progressOf({ state: 'QUEUED', totalSplits: 0 }), undefined);
    assert.equal(progressOf({ state: 'FINISHED' }), 1);
    assert.equal(progressOf({ state: 'RUNNING', progressPercentage: 120 }), 1);
  });
});
