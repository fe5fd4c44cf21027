import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type BrowseItem, type BrowsePath, type DataSourceConnection, type MetadataBrowser, SluiceError } from '@sluice/core';
import { createTrinoConnector, PROTOCOL_VERSION } from '../src/index.ts';
import { rejectionOf, runTask } from './task-runner.ts';
import { ensureTrino, trinoDataSource } from './trino-server.ts';

let ds: DataSourceConnection;
const connector = createTrinoConnector();
const metadata = connector.metadata as MetadataBrowser;
const schema = `browse_${randomBytes(4).toString('hex')}`;

/** Walks every page of a listing, checking page sizes and cursors on the way. */
async function walk(path: BrowsePath, limit: number): Promise<{ items: BrowseItem[]; pages: number }> {
  const items: BrowseItem[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await metadata.browse(ds, path, { limit, ...(cursor ? { cursor } : {}) });
    pages += 1;
    assert.ok(page.items.length <= limit, `page ${pages} holds ${page.items.length} items, more than ${limit}`);
    items.push(...page.items);
    if (page.nextCursor === null) return { items, pages };
    assert.equal(page.items.length, limit, 'only the last page is short');
    cursor = page.nextCursor;
    assert.ok(pages < 1000);
  }
}

before(async () => {
  ds = trinoDataSource(await ensureTrino());
  // A schema with a table and a view in the memory catalog, so browse sees both kinds.
  const engine = await connector.launch({
    engineId: 'browse-setup',
    user: 'browse',
    version: PROTOCOL_VERSION,
    workDir: '/nonexistent',
    params: {},
    dataSource: ds,
  });
  try {
    await runTask(
      engine,
      `CREATE SCHEMA memory.${schema};
       CREATE TABLE memory.${schema}.orders_copy AS SELECT orderkey, totalprice, orderdate FROM tpch.tiny.orders LIMIT 3;
       CREATE VIEW memory.${schema}.big_orders AS SELECT * FROM memory.${schema}.orders_copy WHERE totalprice > 1000`,
    );
  } finally {
    await engine.close();
  }
});

after(async () => {
  const engine = await connector.launch({
    engineId: 'browse-teardown',
    user: 'browse',
    version: PROTOCOL_VERSION,
    workDir: '/nonexistent',
    params: {},
    dataSource: ds,
  });
  await runTask(engine, `DROP VIEW memory.${schema}.big_orders; DROP TABLE memory.${schema}.orders_copy; DROP SCHEMA memory.${schema}`).catch(() => {});
  await engine.close();
});

describe('trino: metadata browse', () => {
  it('lists the catalogs in name order', async () => {
    const { items } = await walk({ level: 'catalogs' }, 100);
    assert.deepEqual(items, [
      { name: 'memory', kind: 'catalog' },
      { name: 'system', kind: 'catalog' },
      { name: 'tpch', kind: 'catalog' },
    ]);
  });

  it('pages through the schemas of tpch by keyset, losing and repeating nothing', async () => {
    const all = await walk({ level: 'schemas', catalog: 'tpch' }, 1000);
    const paged = await walk({ level: 'schemas', catalog: 'tpch' }, 2);
    assert.ok(paged.pages > 2, `${paged.pages} pages`);
    assert.deepEqual(paged.items, all.items);
    const names = all.items.map((i) => i.name);
    assert.ok(names.includes('tiny') && names.includes('sf1') && names.includes('information_schema'), names.join(','));
    assert.deepEqual(names, [...names].sort());
  });

  it('lists tables and views with their kind', async () => {
    const tiny = await walk({ level: 'tables', catalog: 'tpch', schema: 'tiny' }, 3);
    assert.deepEqual(
      tiny.items.map((i) => `${i.name}:${i.kind}`),
      ['customer', 'lineitem', 'nation', 'orders', 'part', 'partsupp', 'region', 'supplier'].map((n) => `${n}:table`),
    );
    const mine = await walk({ level: 'tables', catalog: 'memory', schema }, 10);
    assert.deepEqual(mine.items, [
      { name: 'big_orders', kind: 'view' },
      { name: 'orders_copy', kind: 'table' },
    ]);
  });

  it('lists columns in table order with SQL types and nullability, paged', async () => {
    const { items, pages } = await walk({ level: 'columns', catalog: 'tpch', schema: 'tiny', table: 'nation' }, 3);
    assert.equal(pages, 2);
    assert.deepEqual(items, [
      { name: 'nationkey', kind: 'column', type: 'BIGINT', nullable: false },
      { name: 'name', kind: 'column', type: 'VARCHAR(25)', nullable: false },
      { name: 'regionkey', kind: 'column', type: 'BIGINT', nullable: false },
      { name: 'comment', kind: 'column', type: 'VARCHAR(152)', nullable: false },
    ]);
    // A table created here has nullable columns.
    const copy = await walk({ level: 'columns', catalog: 'memory', schema, table: 'orders_copy' }, 10);
    assert.deepEqual(copy.items, [
      { name: 'orderkey', kind: 'column', type: 'BIGINT', nullable: true },
      { name: 'totalprice', kind: 'column', type: 'DOUBLE', nullable: true },
      { name: 'orderdate', kind: 'column', type: 'DATE', nullable: true },
    ]);
  });

  it('reports a missing catalog as a query failure and a forged cursor as an invalid request', async () => {
    const missing = await rejectionOf(metadata.browse(ds, { level: 'schemas', catalog: 'no_such_catalog' }, { limit: 10 }));
    assert.ok(missing instanceof SluiceError);
    assert.equal(missing.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(missing.details.errorName, 'CATALOG_NOT_FOUND');
    const forged = await rejectionOf(metadata.browse(ds, { level: 'catalogs' }, { limit: 10, cursor: 'not-a-cursor' }));
    assert.ok(forged instanceof SluiceError);
    assert.equal(forged.code, 'SLUICE_REQUEST_INVALID');
  });

  it('quotes names, so a catalog name cannot inject SQL', async () => {
    const err = await rejectionOf(metadata.browse(ds, { level: 'schemas', catalog: 'tpch".information_schema.schemata --' }, { limit: 10 }));
    assert.ok(err instanceof SluiceError);
    assert.equal(err.details.errorName, 'CATALOG_NOT_FOUND');
  });
});
