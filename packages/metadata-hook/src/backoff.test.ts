import assert from 'node:assert/strict';
import { it } from 'node:test';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';

it('grows exponentially and is capped, with bounded jitter', () => {
  const mid = () => 0.5;
  assert.deepEqual(
    [1, 2, 3, 4].map((a) => backoffDelay(a, DEFAULT_BACKOFF, mid)),
    [1000, 2000, 4000, 8000],
  );
  assert.equal(backoffDelay(40, DEFAULT_BACKOFF, mid), DEFAULT_BACKOFF.maxMs);
  assert.equal(
    backoffDelay(40, DEFAULT_BACKOFF, () => 1),
    DEFAULT_BACKOFF.maxMs,
  );
  assert.equal(
    backoffDelay(1, DEFAULT_BACKOFF, () => 0),
    800,
  );
});
