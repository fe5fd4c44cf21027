import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Engine } from '@sluice/core';
import { createJdbcConnector } from '../src/index.ts';
import { freshMysql, mysqlAdmin, type TestSource } from './jdbc-servers.ts';
import { assertStreamsMillionRows, pullRows } from './streaming-checks.ts';
import { startTask } from './task-runner.ts';

describe('mariadb streams a large result in bounded memory', () => {
  let source: TestSource;
  let engine: Engine;
  before(async () => {
    source = await freshMysql();
    engine = await createJdbcConnector().launch({ engineId: 'my-stream', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: source.dataSource });
  });
  after(async () => {
    await engine?.close();
    await source?.drop();
  });

  it('delivers 1,000,000 rows in batches while the live heap stays small', async () => {
    const code = 'SELECT seq AS n, REPEAT(MD5(seq), 5) AS pad, seq / 7 AS frac FROM seq_1_to_1000000';
    await assertStreamsMillionRows(engine, code);
  });

  it('reads no further than the consumer: while it pauses, the server stops sending', async (t) => {
    const controller = new AbortController();
    const it = startTask(engine, 'SELECT seq AS pause_marker FROM seq_1_to_50000000', controller.signal);
    await pullRows(it, 3000);
    // The seq engine reports no examined rows, so watch what the server writes to its clients.
    const bytesSent = async () => Number((await mysqlAdmin("SHOW GLOBAL STATUS LIKE 'Bytes_sent'"))[0]![1]);
    // Socket buffers take what the server wrote before the pause; after that, it must stop.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const first = await bytesSent();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const second = await bytesSent();
    t.diagnostic(`the server sent ${second - first} bytes (to all clients) during a 1 s pause`);
    assert.ok(second - first < 4 * 1024 * 1024, `the server sent ${second - first} bytes while the consumer paused`);
    controller.abort();
    await it.next().catch(() => undefined);
  });
});
