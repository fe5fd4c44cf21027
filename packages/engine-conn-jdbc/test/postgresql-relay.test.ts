import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Engine, offersWireRelay, type WireRelay } from '@sluice/core';
import { createJdbcConnector } from '../src/index.ts';
import { dataSource, freshPostgres, paramsFromUrl, type TestSource } from './jdbc-servers.ts';
import { queryRows, rejectionOf, startTask } from './task-runner.ts';

/** A simple-protocol Query message. */
function query(sql: string): Buffer {
  const text = Buffer.from(`${sql}\0`, 'utf8');
  const head = Buffer.alloc(5);
  head[0] = 0x51;
  head.writeUInt32BE(4 + text.length, 1);
  return Buffer.concat([head, text]);
}

/** Sends `sql` over the relay and gathers the server's messages up to ReadyForQuery: their types, and the bytes. */
function roundTrip(relay: WireRelay, sql: string, seen: { bytes: Buffer[]; waiter?: () => void }): Promise<{ types: string; bytes: Buffer }> {
  seen.bytes = [];
  const done = new Promise<void>((resolve) => {
    seen.waiter = resolve;
  });
  relay.write(query(sql));
  return done.then(() => {
    const bytes = Buffer.concat(seen.bytes);
    let types = '';
    for (let at = 0; at + 5 <= bytes.length; at += 1 + bytes.readUInt32BE(at + 1)) types += String.fromCharCode(bytes[at] as number);
    return { types, bytes };
  });
}

describe('postgresql session handed over as a relay', () => {
  let source: TestSource & { url: string };
  let engine: Engine;
  before(async () => {
    source = await freshPostgres('jdbc_relay');
    engine = await createJdbcConnector().launch({
      engineId: 'pg-relay',
      user: 'u',
      version: '4',
      workDir: '/tmp',
      params: {},
      dataSource: dataSource('postgresql', paramsFromUrl(source.url)),
    });
  });
  after(async () => {
    await engine?.close();
    await source?.drop();
  });

  it('passes protocol bytes both ways, keeps the session (a transaction across messages), and closes the engine at the end', async () => {
    assert.ok(offersWireRelay(engine));
    // The session was used by a task first: the relay takes it over once that is done.
    assert.deepEqual(await queryRows(engine, 'SELECT 41 + 1 AS n'), [[42]]);
    const relay = (await engine.openRelay(new AbortController().signal)) as WireRelay;
    assert.ok(relay, 'a PostgreSQL session can be relayed');
    const seen: { bytes: Buffer[]; waiter?: () => void } = { bytes: [] };
    relay.onData((chunk) => {
      seen.bytes.push(chunk);
      const all = Buffer.concat(seen.bytes);
      // ReadyForQuery is the last message of an answer: 'Z', length 5, status.
      if (all.length >= 6 && all[all.length - 6] === 0x5a) seen.waiter?.();
    });
    const one = await roundTrip(relay, 'SELECT 1 AS one', seen);
    assert.equal(one.types, 'TDCZ', 'RowDescription, DataRow, CommandComplete, ReadyForQuery: the server answered as it does');
    assert.match(one.bytes.toString('latin1'), /SELECT 1/);
    const begun = await roundTrip(relay, 'BEGIN; CREATE TEMP TABLE t (n int); INSERT INTO t VALUES (7)', seen);
    assert.equal(begun.bytes.at(-1), 0x54, 'ReadyForQuery says: in a transaction block (T)');
    const inTx = await roundTrip(relay, 'SELECT n FROM t', seen);
    // A DataRow of one column: the value's length (1) and its text, 7.
    assert.ok(inTx.bytes.includes(Buffer.from([0, 0, 0, 1, 0x37])), 'the same session still holds the transaction');
    await roundTrip(relay, 'ROLLBACK', seen);

    // While relayed, the engine runs no task: a task waits, and fails once the engine is closed.
    const task = startTask(engine, 'SELECT 1', new AbortController().signal);
    const waiting = task.next();
    const raced = await Promise.race([waiting.then(() => 'ran'), new Promise((r) => setTimeout(() => r('waits'), 300))]);
    assert.equal(raced, 'waits');
    await relay.close();
    const err = (await rejectionOf(waiting)) as { code?: string };
    assert.equal(err.code, 'SLUICE_ENGINE_CRASHED', 'the engine is closed with the relay: its session may hold any state');
    assert.equal((await engine.health()).ok, false);
  });
});
