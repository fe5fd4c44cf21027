import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Engine } from '@sluice/core';
import { createJdbcConnector } from '../src/index.ts';
import { clickhouseAdmin, freshClickhouse, type TestSource } from './jdbc-servers.ts';
import { assertStreamsMillionRows, pullRows } from './streaming-checks.ts';
import { startTask } from './task-runner.ts';

describe('clickhouse streams a large result in bounded memory', () => {
  let source: TestSource;
  let engine: Engine;
  before(async () => {
    source = await freshClickhouse();
    engine = await createJdbcConnector().launch({ engineId: 'ch-stream', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: source.dataSource });
  });
  after(async () => {
    await engine?.close();
    await source?.drop();
  });

  it('delivers 1,000,000 rows in batches while the live heap stays small', async () => {
    const code = 'SELECT number + 1 AS n, hex(MD5(toString(number))) AS pad, toDecimal64(number, 4) / 7 AS frac FROM system.numbers LIMIT 1000000';
    await assertStreamsMillionRows(engine, code);
  });

  it('reads no further than the consumer: while it pauses, the query waits on the server', async (t) => {
    const controller = new AbortController();
    const it = startTask(engine, 'SELECT number AS pause_marker FROM system.numbers LIMIT 50000000', controller.signal);
    await pullRows(it, 3000);
    const readRows = async () =>
      Number(
        (await clickhouseAdmin("SELECT sum(read_rows) FROM system.processes WHERE query LIKE '%pause_marker%' AND query NOT LIKE '%system.processes%'")).trim(),
      );
    const first = await readRows();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const second = await readRows();
    t.diagnostic(`server read ${first} rows before the pause, ${second - first} during it`);
    // Blocked on a full socket, the server reads at most a few more blocks; unthrottled it would read millions.
    assert.ok(second - first < 2_000_000, `the server read ${second - first} rows while the consumer paused`);
    assert.ok(second < 10_000_000, `the server read ${second} rows in all`);
    controller.abort();
    await it.next().catch(() => undefined);
  });
});
