import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { DataRowTap } from './pg-datarow-tap.ts';

/** One backend message: type letter, length word, body. */
function message(type: string, body: string): Buffer {
  const b = Buffer.from(body);
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeUInt32BE(b.length + 4, 1);
  return Buffer.concat([head, b]);
}

// What a fetch looks like on the wire, then the next statement's answer after ReadyForQuery.
const before = [message('1', ''), message('2', ''), message('T', 'fields')];
const rowsA = [message('D', 'row-1'), message('D', 'row-2...'), message('D', 'r3')];
const middle = [message('N', 'a notice')];
const rowsB = [message('D', 'row-4'), message('D', 'a longer row, five')];
const end = [message('s', ''), message('C', 'SELECT 5'), message('Z', 'I')];
const after = [message('T', 'next'), message('D', 'not taken'), message('Z', 'I')];
const stream = Buffer.concat([...before, ...rowsA, ...middle, ...rowsB, ...end, ...after]);

describe('DataRowTap', () => {
  it('takes DataRow messages off the stream in order and hands every other message on, at any read boundary', () => {
    for (const size of [1, 2, 3, 5, 7, 11, 64, stream.length]) {
      const socket = new EventEmitter();
      const forwarded: Buffer[] = [];
      const original = (chunk: Buffer) => {
        forwarded.push(Buffer.from(chunk));
        // node-postgres sees ReadyForQuery: the statement is over, the connection is its own again.
        if (Buffer.concat(forwarded).includes(message('Z', 'I'))) tap.uninstall();
      };
      socket.on('data', original);
      const taken: Buffer[] = [];
      let rows = 0;
      const tap = new DataRowTap(socket, (chunk, n) => {
        taken.push(Buffer.from(chunk));
        rows += n;
      });
      tap.install();
      for (let at = 0; at < stream.length; at += size) socket.emit('data', stream.subarray(at, at + size));
      assert.deepEqual(Buffer.concat(taken), Buffer.concat([...rowsA, ...rowsB]), `reads of ${size} bytes: the rows`);
      assert.equal(rows, 5, `reads of ${size} bytes: the row count`);
      assert.deepEqual(Buffer.concat(forwarded), Buffer.concat([...before, ...middle, ...end, ...after]), `reads of ${size} bytes: the rest, in order`);
      assert.deepEqual(socket.listeners('data'), [original], 'node-postgres listens alone again');
    }
  });
});
