import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newJobId } from './ids.ts';

describe('job ids', () => {
  it('are 26 Crockford base32 characters that sort by their time', () => {
    const a = newJobId(Date.UTC(2026, 0, 1));
    const b = newJobId(Date.UTC(2026, 0, 1, 0, 0, 0, 1));
    assert.match(a, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.ok(a.slice(0, 10) < b.slice(0, 10), `${a} sorts before ${b}`);
    assert.equal(newJobId(0).slice(0, 10), '0000000000');
  });

  it('never repeat, across many refills of the random pool', () => {
    const seen = new Set<string>();
    const now = Date.now();
    // The same millisecond for all: only the random part tells them apart.
    for (let i = 0; i < 20_000; i++) seen.add(newJobId(now).slice(10));
    assert.equal(seen.size, 20_000);
  });
});
