import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { startWithoutMemoryReducer } from './no-memory-reducer.ts';

// Real workers; the flag setter records its calls instead of changing this process's V8 flags.
const idle = () => new Worker('setTimeout(() => {}, 200)', { eval: true });

describe('startWithoutMemoryReducer', () => {
  it('switches the memory reducer off while workers start, and on again once the last is online', async () => {
    const calls: string[] = [];
    const set = (f: string) => void calls.push(f);
    const a = startWithoutMemoryReducer(idle, set);
    const b = startWithoutMemoryReducer(idle, set);
    assert.deepEqual(calls, ['--no-memory-reducer'], 'off once, for both starts');
    await Promise.all([once(a, 'online'), once(b, 'online')]);
    assert.deepEqual(calls, ['--no-memory-reducer', '--memory-reducer'], 'on again once, after both are online');
    await Promise.all([once(a, 'exit'), once(b, 'exit')]);
    assert.equal(calls.length, 2, 'an exit after online changes nothing');
  });

  it('switches it on again when the worker cannot be constructed', () => {
    const calls: string[] = [];
    assert.throws(
      () =>
        startWithoutMemoryReducer(
          () => {
            throw new Error('no worker');
          },
          (f) => void calls.push(f),
        ),
      /no worker/,
    );
    assert.deepEqual(calls, ['--no-memory-reducer', '--memory-reducer']);
  });

  it('switches it on again when a worker exits at once', async () => {
    const calls: string[] = [];
    const w = startWithoutMemoryReducer(
      () => new Worker('process.exit(3)', { eval: true }),
      (f) => void calls.push(f),
    );
    await once(w, 'exit');
    assert.deepEqual(calls, ['--no-memory-reducer', '--memory-reducer']);
  });
});
