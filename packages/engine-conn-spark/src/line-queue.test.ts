import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { LINE_HIGH_WATER, LineQueue } from './line-queue.ts';

describe('LineQueue', () => {
  it('delivers the lines of several streams, the last partial line included, then ends', async () => {
    const a = new PassThrough();
    const b = new PassThrough();
    const q = new LineQueue();
    q.add(a);
    q.add(b);
    a.write('one\ntw');
    b.write('err\r\n');
    a.end('o\nthree');
    b.end();
    const lines: string[] = [];
    for (let line = await q.next(); line !== undefined; line = await q.next()) lines.push(line);
    assert.deepEqual(lines.sort(), ['err', 'one', 'three', 'two']);
  });

  it('pauses a stream that runs ahead of the consumer', async () => {
    const s = new PassThrough();
    const q = new LineQueue();
    q.add(s);
    s.write(`${'x\n'.repeat(LINE_HIGH_WATER + 10)}`);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(s.isPaused(), true);
    assert.equal(await q.next(), 'x');
    s.end();
  });
});
