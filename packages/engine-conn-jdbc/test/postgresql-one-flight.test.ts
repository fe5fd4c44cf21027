import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Engine } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { createJdbcConnector } from '../src/index.ts';
import { dataSource, freshPostgres, paramsFromUrl, type TestSource } from './jdbc-servers.ts';
import { pullRows } from './streaming-checks.ts';
import { queryRows, rejectionOf, runTask, startTask } from './task-runner.ts';

/**
 * A TCP relay in front of the real PostgreSQL that counts the engine's writes: each read of the
 * engine's side is one flight of messages, since a flight the engine corks is one small write and
 * the next one waits for the server's answer.
 */
async function countingRelay(host: string, port: number): Promise<{ port: number; flights: () => number; close: () => void }> {
  let flights = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host, port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => undefined);
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk) => {
      flights += 1;
      upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    flights: () => flights,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('postgresql statements in one flight', () => {
  let source: TestSource & { url: string };
  let relay: Awaited<ReturnType<typeof countingRelay>>;
  let engine: Engine;
  before(async () => {
    source = await freshPostgres('jdbc_flight');
    const u = new URL(source.url);
    relay = await countingRelay(u.hostname, Number(u.port || 5432));
    const params = { ...paramsFromUrl(source.url), host: '127.0.0.1', port: relay.port };
    engine = await createJdbcConnector().launch({
      engineId: 'pg-flight',
      user: 'u',
      version: '4',
      workDir: '/tmp',
      params: {},
      dataSource: dataSource('postgresql', params),
    });
  });
  after(async () => {
    await engine?.close();
    relay?.close();
    await source?.drop();
  });

  /** The engine's flights to the server for `n` runs of `sql` (after one run that describes it). */
  async function flightsOf(sql: string, n: number): Promise<number> {
    await queryRows(engine, sql);
    const before = relay.flights();
    for (let i = 0; i < n; i++) await queryRows(engine, sql);
    return relay.flights() - before;
  }

  it('sends a statement it described before in one flight outside a transaction block, and in two inside one', async () => {
    assert.equal(await flightsOf('SELECT 1 AS one', 20), 20, 'Parse/Bind/Describe/Execute and Sync go together');
    await runTask(engine, 'BEGIN');
    // In a transaction block the portal is suspended between fetches: Sync follows CommandComplete.
    assert.equal(await flightsOf('SELECT 2 AS two', 20), 40);
    await runTask(engine, 'COMMIT');
    assert.equal(await flightsOf('SELECT 1 AS one', 5), 5, 'one flight again once the block ended');
  });

  it('cuts a large result into the same bounded batches, in order', async () => {
    const it = startTask(engine, 'SELECT g FROM generate_series(1, 25000) g', new AbortController().signal);
    let last = 0;
    let batches = 0;
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      if (next.value.type !== 'rows') continue;
      batches += 1;
      assert.ok(next.value.rows.length <= 1000, `a batch holds at most 1000 rows, got ${next.value.rows.length}`);
      for (const row of next.value.rows) {
        assert.equal(Number(row[0]), last + 1);
        last += 1;
      }
    }
    assert.equal(last, 25000);
    assert.ok(batches >= 25, `${batches} batches`);
  });

  it('inside a transaction block, a statement abandoned midway leaves the transaction usable', async () => {
    await runTask(engine, 'BEGIN; CREATE TABLE kept (a int)');
    const it = startTask(engine, 'SELECT generate_series(1, 1000000) AS g', new AbortController().signal);
    await pullRows(it, 2000);
    await it.return?.();
    // Closing the suspended portal does not fail the statement, so the block goes on.
    await runTask(engine, 'INSERT INTO kept VALUES (1)');
    await runTask(engine, 'COMMIT');
    assert.deepEqual(await queryRows(engine, 'SELECT count(*)::int AS n FROM kept'), [[1]]);
  });

  it('refuses COPY FROM STDIN clearly in one flight and in a transaction block, and the session goes on', async () => {
    await runTask(engine, 'CREATE TABLE copied (a int)');
    for (const inBlock of [false, true]) {
      if (inBlock) await runTask(engine, 'BEGIN');
      const err = await rejectionOf(runTask(engine, 'COPY copied FROM STDIN'));
      assert.ok(err instanceof SluiceError, String(err));
      assert.match(err.message, /COPY FROM STDIN is not supported/);
      if (inBlock) await runTask(engine, 'ROLLBACK');
      assert.deepEqual(await queryRows(engine, 'SELECT 7 AS seven'), [[7]]);
    }
  });
});
