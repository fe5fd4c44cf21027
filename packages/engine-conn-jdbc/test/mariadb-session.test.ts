import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Engine, SluiceError } from '@sluice/core';
import { createJdbcConnector } from '../src/index.ts';
import { freshMysql, mysqlAdmin, type TestSource } from './jdbc-servers.ts';
import { queryRows, rejectionOf, runTask } from './task-runner.ts';

describe('mariadb session state', () => {
  const connector = createJdbcConnector();
  let source: TestSource;
  let a: Engine;
  let b: Engine;
  before(async () => {
    source = await freshMysql();
    const launch = (engineId: string) => connector.launch({ engineId, user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: source.dataSource });
    [a, b] = await Promise.all([launch('my-a'), launch('my-b')]);
  });
  after(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await source?.drop();
  });

  it('keeps SET, user variables and temporary tables across tasks on one engine, and not on another', async () => {
    await runTask(a, "SET @answer = 42; SET SESSION sql_mode = 'ANSI_QUOTES'; CREATE TEMPORARY TABLE scratch AS SELECT 7 AS v");
    // An integer user variable is a BIGINT: it travels as a decimal string.
    assert.deepEqual(await queryRows(a, 'SELECT @answer, @@SESSION.sql_mode'), [['42', 'ANSI_QUOTES']]);
    assert.deepEqual(await queryRows(a, 'SELECT v FROM scratch'), [[7]]);
    assert.deepEqual(await queryRows(b, 'SELECT @answer'), [[null]]);
    assert.notEqual((await queryRows(b, 'SELECT @@SESSION.sql_mode'))[0]![0], 'ANSI_QUOTES');
    const err = await rejectionOf(runTask(b, 'SELECT v FROM scratch'));
    assert.ok(err instanceof SluiceError && err.code === 'SLUICE_ENGINE_QUERY_FAILED' && err.details.sqlState === '42S02', String(err));
  });

  it('applies the sessionTimeZone parameter to every session', async () => {
    const ds = { ...source.dataSource, params: { ...source.dataSource.params, sessionTimeZone: '+09:00' } };
    const c = await connector.launch({ engineId: 'my-c', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: ds });
    try {
      assert.deepEqual(await queryRows(c, 'SELECT @@SESSION.time_zone'), [['+09:00']]);
    } finally {
      await c.close();
    }
  });

  it('notices a session killed on the server: onExit fires once and tasks fail as retryable crashes', async () => {
    const c = await connector.launch({ engineId: 'my-d', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: source.dataSource });
    const exits: string[] = [];
    c.onExit((reason) => exits.push(reason));
    const [[id]] = (await queryRows(c, 'SELECT CONNECTION_ID()')) as [[number]];
    await mysqlAdmin(`KILL CONNECTION ${id}`);
    for (let i = 0; i < 50 && exits.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(exits.length, 1, 'onExit fired');
    assert.equal((await c.health()).ok, false);
    const err = await rejectionOf(runTask(c, 'SELECT 1'));
    assert.ok(err instanceof SluiceError && err.code === 'SLUICE_ENGINE_CRASHED' && err.retryable, String(err));
    await c.close();
    assert.equal(exits.length, 1);
  });
});
