import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TaskLock } from './task-lock.ts';

describe('TaskLock', () => {
  it('hands the lock over in arrival order', async () => {
    const lock = new TaskLock();
    const order: number[] = [];
    const never = new AbortController().signal;
    const first = await lock.acquire(never, () => new Error('x'));
    const second = lock
      .acquire(never, () => new Error('x'))
      .then((release) => {
        order.push(2);
        release();
      });
    const third = lock
      .acquire(never, () => new Error('x'))
      .then((release) => {
        order.push(3);
        release();
      });
    assert.equal(lock.busy, true);
    order.push(1);
    first();
    await Promise.all([second, third]);
    assert.deepEqual(order, [1, 2, 3]);
    assert.equal(lock.busy, false);
  });

  it('lets a waiter give up without blocking the ones behind it', async () => {
    const lock = new TaskLock();
    const never = new AbortController().signal;
    const first = await lock.acquire(never, () => new Error('x'));
    const controller = new AbortController();
    const quitter = lock.acquire(controller.signal, () => new Error('gave up'));
    const patient = lock.acquire(never, () => new Error('x'));
    controller.abort();
    await assert.rejects(quitter, /gave up/);
    first();
    (await patient)();
    assert.equal(lock.busy, false);
  });
});
