import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Engine, SluiceError } from '@sluice/core';
import { createJdbcConnector } from '../src/index.ts';
import { freshPostgres, type TestSource } from './jdbc-servers.ts';
import { queryRows, rejectionOf, runTask } from './task-runner.ts';

describe('postgresql session state', () => {
  const connector = createJdbcConnector();
  let source: TestSource;
  let a: Engine;
  let b: Engine;
  before(async () => {
    source = await freshPostgres('jdbc_session');
    const launch = (engineId: string) => connector.launch({ engineId, user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: source.dataSource });
    [a, b] = await Promise.all([launch('pg-a'), launch('pg-b')]);
  });
  after(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await source?.drop();
  });

  it('keeps SET and temporary tables across tasks on one engine, and not on another', async () => {
    await runTask(a, "SET application_name = 'engine_a'; CREATE TEMP TABLE scratch AS SELECT 41 + 1 AS v");
    assert.deepEqual(await queryRows(a, 'SHOW application_name'), [['engine_a']]);
    assert.deepEqual(await queryRows(a, 'SELECT v FROM scratch'), [[42]]);
    assert.deepEqual(await queryRows(b, 'SHOW application_name'), [['sluice']]);
    const err = await rejectionOf(runTask(b, 'SELECT v FROM scratch'));
    assert.ok(err instanceof SluiceError && err.code === 'SLUICE_ENGINE_QUERY_FAILED' && err.details.sqlState === '42P01', String(err));
  });

  it('keeps an open transaction across tasks until the user ends it', async () => {
    await runTask(a, 'BEGIN; CREATE TABLE pending (x int); INSERT INTO pending VALUES (1)');
    const other = await rejectionOf(runTask(b, 'SELECT x FROM pending'));
    assert.ok(other instanceof SluiceError && other.details.sqlState === '42P01', 'uncommitted work is invisible elsewhere');
    await runTask(a, 'COMMIT');
    assert.deepEqual(await queryRows(b, 'SELECT x FROM pending'), [[1]]);
  });

  it('applies the searchPath parameter to every session', async () => {
    await runTask(a, 'CREATE SCHEMA sales; CREATE TABLE sales.orders AS SELECT 5 AS n');
    const ds = { ...source.dataSource, params: { ...source.dataSource.params, searchPath: 'sales, public' } };
    const c = await connector.launch({ engineId: 'pg-c', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: ds });
    try {
      assert.deepEqual(await queryRows(c, 'SELECT n FROM orders'), [[5]]);
    } finally {
      await c.close();
    }
  });

  it('notices a session killed on the server: onExit fires once and tasks fail as retryable crashes', async () => {
    const c = await connector.launch({ engineId: 'pg-d', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: source.dataSource });
    const exits: string[] = [];
    c.onExit((reason) => exits.push(reason));
    const [[pid]] = (await queryRows(c, 'SELECT pg_backend_pid()')) as [[number]];
    await runTask(a, `SELECT pg_terminate_backend(${pid})`);
    for (let i = 0; i < 50 && exits.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(exits.length, 1, 'onExit fired');
    assert.equal((await c.health()).ok, false);
    const err = await rejectionOf(runTask(c, 'SELECT 1'));
    assert.ok(err instanceof SluiceError && err.code === 'SLUICE_ENGINE_CRASHED' && err.retryable, String(err));
    await c.close();
    assert.equal(exits.length, 1);
  });
});
