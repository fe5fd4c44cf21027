import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Engine, type MetadataBrowser, SluiceError } from '@sluice/core';
import { createFlinkConnector, FLINK_ENGINE_VERSION } from '../src/index.ts';
import { ensureFlink, type FlinkServer, flinkDataSource } from './flink-server.ts';
import { runTask } from './task-runner.ts';

let server: FlinkServer;
let browser: MetadataBrowser;
const engines: Engine[] = [];

// Every session of the gateway has its own in-memory default_catalog, so shared definitions come
// from the data source's init statements, which each new session (engines' and browse's) runs.
const INIT = [
  'CREATE DATABASE IF NOT EXISTS sales',
  "CREATE TABLE sales.orders (id BIGINT NOT NULL COMMENT 'order id', amount DECIMAL(12, 2), placed TIMESTAMP(3), PRIMARY KEY (id) NOT ENFORCED) WITH ('connector' = 'datagen', 'number-of-rows' = '10')",
  "CREATE TABLE sales.customers (id BIGINT, name STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '3')",
  'CREATE VIEW sales.big_orders AS SELECT id, amount FROM sales.orders WHERE amount > 100',
];

before(async () => {
  server = await ensureFlink();
  const metadata = createFlinkConnector().metadata;
  assert.ok(metadata);
  browser = metadata;
});

after(async () => {
  await Promise.allSettled(engines.map((e) => e.close()));
});

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('flink: connection test', () => {
  it('reports the gateway’s Flink version and the latency', async () => {
    const r = await browser.testConnection(flinkDataSource(server), 10_000);
    assert.equal(r.ok, true);
    assert.match(r.serverVersion ?? '', /^2\./);
    assert.ok(r.latencyMs >= 0);
  });

  it('accepts host and port instead of gatewayUrl (the registry’s older form)', async () => {
    const url = new URL(server.gatewayUrl);
    const ds = { ...flinkDataSource(server), params: { host: url.hostname, port: Number(url.port), restUrl: server.restUrl } };
    assert.equal((await browser.testConnection(ds, 10_000)).ok, true);
  });

  it('says unreachable for a closed gateway port, and for a closed cluster REST port', async () => {
    const port = await closedPort();
    for (const params of [{ gatewayUrl: `http://127.0.0.1:${port}` }, { restUrl: `http://127.0.0.1:${port}` }]) {
      const err = await browser.testConnection(flinkDataSource(server, params), 10_000).catch((e: unknown) => e);
      assert.ok(err instanceof SluiceError);
      assert.equal(err.code, 'SLUICE_DATASOURCE_TEST_FAILED');
      assert.equal(err.details.reason, 'unreachable', JSON.stringify(err.details));
    }
  });
});

describe('flink: browse', () => {
  it('lists catalogs and databases', async () => {
    const ds = flinkDataSource(server, { initStatements: INIT });
    const catalogs = await browser.browse(ds, { level: 'catalogs' }, { limit: 10 });
    assert.deepEqual(catalogs, { items: [{ name: 'default_catalog', kind: 'catalog' }], nextCursor: null });
    const schemas = await browser.browse(ds, { level: 'schemas', catalog: 'default_catalog' }, { limit: 10 });
    assert.deepEqual(
      schemas.items.map((i) => `${i.kind}:${i.name}`),
      ['schema:default_database', 'schema:sales'],
    );
  });

  it('lists tables and views in name order, page by page', async () => {
    const ds = flinkDataSource(server, { initStatements: INIT });
    const path = { level: 'tables', catalog: 'default_catalog', schema: 'sales' } as const;
    const first = await browser.browse(ds, path, { limit: 2 });
    assert.deepEqual(first.items, [
      { name: 'big_orders', kind: 'view' },
      { name: 'customers', kind: 'table' },
    ]);
    assert.ok(first.nextCursor);
    const second = await browser.browse(ds, path, { limit: 2, cursor: first.nextCursor });
    assert.deepEqual(second, { items: [{ name: 'orders', kind: 'table' }], nextCursor: null });
  });

  it('lists columns with Flink types, nullability and comments', async () => {
    const ds = flinkDataSource(server, { initStatements: INIT });
    const columns = await browser.browse(ds, { level: 'columns', catalog: 'default_catalog', schema: 'sales', table: 'orders' }, { limit: 10 });
    assert.deepEqual(columns.items, [
      { name: 'id', kind: 'column', type: 'BIGINT', nullable: false, comment: 'order id' },
      { name: 'amount', kind: 'column', type: 'DECIMAL(12, 2)', nullable: true, comment: null },
      { name: 'placed', kind: 'column', type: 'TIMESTAMP(3)', nullable: true, comment: null },
    ]);
  });

  it('fails a table that does not exist with Flink’s message', async () => {
    const ds = flinkDataSource(server, { initStatements: INIT });
    const err = await browser
      .browse(ds, { level: 'columns', catalog: 'default_catalog', schema: 'sales', table: 'missing' }, { limit: 5 })
      .catch((e: unknown) => e);
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.match(err.message, /missing/);
  });

  it('gives engines the same definitions: a job reads the init statements’ table', async () => {
    const engine = await createFlinkConnector().launch({
      engineId: 'browse-engine',
      user: 'alice',
      version: FLINK_ENGINE_VERSION,
      workDir: '/nonexistent',
      params: { catalog: 'default_catalog', database: 'sales' },
      dataSource: flinkDataSource(server, { initStatements: INIT, sessionProperties: { 'execution.runtime-mode': 'batch' } }),
    });
    engines.push(engine);
    const out = await runTask(engine, 'SELECT COUNT(*) AS n FROM customers');
    assert.deepEqual(out.resultSets[0]?.rows, [['3']]);
  });
});
