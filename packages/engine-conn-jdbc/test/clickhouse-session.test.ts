import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Engine, SluiceError } from '@sluice/core';
import { createJdbcConnector } from '../src/index.ts';
import { freshClickhouse, type TestSource } from './jdbc-servers.ts';
import { queryRows, rejectionOf, runTask } from './task-runner.ts';

describe('clickhouse session state', () => {
  const connector = createJdbcConnector();
  let source: TestSource;
  let a: Engine;
  let b: Engine;
  before(async () => {
    source = await freshClickhouse();
    const launch = (engineId: string) => connector.launch({ engineId, user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: source.dataSource });
    [a, b] = await Promise.all([launch('ch-a'), launch('ch-b')]);
  });
  after(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await source?.drop();
  });

  const maxThreads = "SELECT value FROM system.settings WHERE name = 'max_threads'";

  it('keeps SET and temporary tables across tasks on one engine, and not on another', async () => {
    const [[before]] = (await queryRows(b, maxThreads)) as [[string]];
    await runTask(a, 'SET max_threads = 3; CREATE TEMPORARY TABLE scratch (v UInt8) ENGINE = Memory; INSERT INTO scratch VALUES (42)');
    assert.deepEqual(await queryRows(a, maxThreads), [['3']]);
    assert.deepEqual(await queryRows(a, 'SELECT v FROM scratch'), [[42]]);
    assert.deepEqual(await queryRows(b, maxThreads), [[before]]);
    assert.notEqual(before, '3');
    const err = await rejectionOf(runTask(b, 'SELECT v FROM scratch'));
    assert.ok(err instanceof SluiceError && err.code === 'SLUICE_ENGINE_QUERY_FAILED', String(err));
  });

  it('sends the data source settings with every query and runs in its database', async () => {
    const ds = { ...source.dataSource, params: { ...source.dataSource.params, settings: { max_threads: 2, max_block_size: 1234 } } };
    const c = await connector.launch({ engineId: 'ch-c', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: ds });
    try {
      assert.deepEqual(await queryRows(c, "SELECT name, value FROM system.settings WHERE name IN ('max_threads', 'max_block_size') ORDER BY name"), [
        ['max_block_size', '1234'],
        ['max_threads', '2'],
      ]);
      assert.deepEqual(await queryRows(c, 'SELECT currentDatabase()'), [[source.database]]);
    } finally {
      await c.close();
    }
  });

  it('runs queries after idling past the server keep-alive time-out (3 s), on the same session', async () => {
    await runTask(a, 'SET max_threads = 5');
    for (let i = 0; i < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 3200));
      assert.deepEqual(await queryRows(a, maxThreads), [['5']]);
    }
  });

  it('notices an expired session: onExit fires once and tasks fail as retryable crashes', async () => {
    const ds = { ...source.dataSource, params: { ...source.dataSource.params, sessionTimeoutSeconds: 1 } };
    const c = await connector.launch({ engineId: 'ch-d', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: ds });
    const exits: string[] = [];
    c.onExit((reason) => exits.push(reason));
    await runTask(c, 'CREATE TEMPORARY TABLE t (v UInt8) ENGINE = Memory');
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const err = await rejectionOf(runTask(c, 'SELECT 1'));
    assert.ok(err instanceof SluiceError && err.code === 'SLUICE_ENGINE_CRASHED' && err.retryable, String(err));
    assert.equal(exits.length, 1);
    assert.match(exits[0]!, /session/);
    assert.equal((await c.health()).ok, false);
    await c.close();
    assert.equal(exits.length, 1);
  });
});
