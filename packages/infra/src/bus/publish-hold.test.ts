import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PublishHold } from './publish-hold.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A transport that records what it was asked to send, and when (the real buses are tested in the contract suite). */
function recorder(fail?: (topic: string) => boolean) {
  const sent: string[] = [];
  const send = async (topic: string, payload: string) => {
    if (fail?.(topic)) throw new Error('connection lost');
    sent.push(`${topic}:${payload}`);
  };
  return { sent, send };
}

const jobTopics = (t: string) => t.startsWith('job.');

describe('PublishHold', () => {
  test('holds messages of held topics until holdMs has passed, then sends them in order', async () => {
    const r = recorder();
    const hold = new PublishHold({ holdMs: 40, held: jobTopics }, r.send, assert.fail);
    await hold.publish('job.1', 'a');
    await hold.publish('job.2', 'b');
    assert.equal(hold.heldCount, 2);
    assert.deepEqual(r.sent, []);
    await sleep(80);
    assert.deepEqual(r.sent, ['job.1:a', 'job.2:b']);
    assert.equal(hold.heldCount, 0);
  });

  test('a message on another topic sends the held ones first, in the same turn', async () => {
    const r = recorder();
    const hold = new PublishHold({ holdMs: 10_000, held: jobTopics }, r.send, assert.fail);
    void hold.publish('job.1', 'running');
    void hold.publish('job.1', 'rows');
    const last = hold.publish('jobs.states', 'ended');
    assert.deepEqual(r.sent, ['job.1:running', 'job.1:rows', 'jobs.states:ended'], 'all handed over synchronously');
    await last;
    assert.equal(hold.heldCount, 0);
  });

  test('a hold of 0 sends everything at once', () => {
    const r = recorder();
    const hold = new PublishHold({ holdMs: 0, held: jobTopics }, r.send, assert.fail);
    void hold.publish('job.1', 'a');
    assert.deepEqual(r.sent, ['job.1:a']);
  });

  test('maxHeld bounds what waits', () => {
    const r = recorder();
    const hold = new PublishHold({ holdMs: 10_000, held: jobTopics, maxHeld: 3 }, r.send, assert.fail);
    void hold.publish('job.1', 'a');
    void hold.publish('job.1', 'b');
    assert.deepEqual(r.sent, []);
    void hold.publish('job.1', 'c');
    assert.deepEqual(r.sent, ['job.1:a', 'job.1:b', 'job.1:c']);
  });

  test('maxHeldChars bounds the payload that waits', () => {
    const r = recorder();
    const hold = new PublishHold({ holdMs: 10_000, held: jobTopics, maxHeldChars: 10 }, r.send, assert.fail);
    void hold.publish('job.1', 'abcd');
    void hold.publish('job.1', 'efgh');
    assert.deepEqual(r.sent, []);
    void hold.publish('job.1', 'ij');
    assert.deepEqual(r.sent, ['job.1:abcd', 'job.1:efgh', 'job.1:ij']);
    void hold.publish('job.1', 'k');
    assert.equal(hold.heldCount, 1, 'the count starts again after a flush');
  });

  test('drain sends what is held and waits for the sends; a failed held send goes to onError', async () => {
    const r = recorder((t) => t === 'job.bad');
    const errors: string[] = [];
    const hold = new PublishHold({ holdMs: 10_000, held: jobTopics }, r.send, (e) => errors.push(e.message));
    await hold.publish('job.bad', 'x');
    await hold.publish('job.ok', 'y');
    await hold.drain();
    assert.deepEqual(r.sent, ['job.ok:y']);
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /held message on job\.bad was not sent: connection lost/);
  });

  test('a send on a topic that is not held rejects to its caller', async () => {
    const r = recorder(() => true);
    const hold = new PublishHold({ holdMs: 5, held: jobTopics }, r.send, assert.fail);
    await assert.rejects(hold.publish('jobs.states', 'x'), /connection lost/);
  });

  test('a bad holdMs is refused', () => {
    assert.throws(() => new PublishHold({ holdMs: -1, held: jobTopics }, recorder().send, assert.fail), /holdMs/);
    assert.throws(() => new PublishHold({ holdMs: 1.5, held: jobTopics }, recorder().send, assert.fail), /holdMs/);
  });
});
