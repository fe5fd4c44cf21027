import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SluiceError } from '@sluice/core';
import pg from 'pg';
import { createJdbcConnector } from '../src/index.ts';
import { assertAscendingUnique, assertFastPages, median, walkPages } from './browse-walk.ts';
import { freshPostgres, type TestSource } from './jdbc-servers.ts';
import { rejectionOf } from './task-runner.ts';

const TABLES = 10_000;

describe('postgresql metadata browse', () => {
  const { metadata } = createJdbcConnector();
  let source: TestSource & { url: string };
  before(async () => {
    source = await freshPostgres('jdbc_browse');
    const admin = new pg.Client({ connectionString: source.url });
    await admin.connect();
    try {
      // 10,000 tables in ten transactions of a thousand (one lock per new table until commit).
      for (let from = 1; from <= TABLES; from += 1000) {
        await admin.query(`DO $$ BEGIN FOR i IN ${from}..${from + 999} LOOP
          EXECUTE format('CREATE TABLE public.t_%s (id int)', lpad(i::text, 5, '0')); END LOOP; END $$`);
      }
      await admin.query(`CREATE SCHEMA shop;
        COMMENT ON SCHEMA shop IS 'the shop';
        CREATE TABLE shop.orders (id bigint PRIMARY KEY, amount numeric(12,2) NOT NULL, note text, placed timestamptz);
        COMMENT ON TABLE shop.orders IS 'all orders';
        COMMENT ON COLUMN shop.orders.amount IS 'in EUR';
        ALTER TABLE shop.orders DROP COLUMN note;
        CREATE VIEW shop.big_orders AS SELECT * FROM shop.orders WHERE amount > 100;`);
    } finally {
      await admin.end();
    }
  });
  after(async () => {
    await source?.drop();
  });

  it(`walks ${TABLES} tables in bounded pages, each name once and in order`, async (t) => {
    const walk = await walkPages(metadata, source.dataSource, { level: 'tables', catalog: source.database, schema: 'public' }, 500);
    assert.equal(walk.items.length, TABLES);
    assert.equal(walk.pages, TABLES / 500);
    assertAscendingUnique(walk.items.map((i) => i.name));
    assert.equal(walk.items[0]!.name, 't_00001');
    assert.equal(walk.items[TABLES - 1]!.name, 't_10000');
    assert.ok(walk.items.every((i) => i.kind === 'table'));
    t.diagnostic(
      `pages: ${walk.pages}, median ${median(walk.pageMs).toFixed(1)} ms, first ${walk.pageMs[0]!.toFixed(1)} ms, last ${walk.pageMs.at(-1)!.toFixed(1)} ms`,
    );
    assertFastPages(walk);
  });

  it('serves a deep page from its cursor without walking the pages before it', async () => {
    const first = await metadata.browse(source.dataSource, { level: 'tables', catalog: source.database, schema: 'public' }, { limit: 1000 });
    assert.equal(first.items.length, 1000);
    let cursor = first.nextCursor!;
    for (let i = 0; i < 8; i++)
      cursor = (await metadata.browse(source.dataSource, { level: 'tables', catalog: source.database, schema: 'public' }, { limit: 1000, cursor })).nextCursor!;
    const last = await metadata.browse(source.dataSource, { level: 'tables', catalog: source.database, schema: 'public' }, { limit: 1000, cursor });
    assert.equal(last.items.length, 1000);
    assert.equal(last.items[0]!.name, 't_09001');
    assert.equal(last.nextCursor, null);
  });

  it('lists catalogs, schemas with comments, tables and views, and columns with type, nullability and comment', async () => {
    const catalogs = await walkPages(metadata, source.dataSource, { level: 'catalogs' }, 2);
    assert.ok(catalogs.items.some((i) => i.name === source.database && i.kind === 'catalog'));
    assert.ok(!catalogs.items.some((i) => i.name === 'template0'), 'templates are not catalogs');
    assertAscendingUnique(catalogs.items.map((i) => i.name));

    const schemas = await walkPages(metadata, source.dataSource, { level: 'schemas', catalog: source.database }, 1);
    const names = schemas.items.map((i) => i.name);
    assert.ok(names.includes('public') && names.includes('shop') && names.includes('pg_catalog'));
    assert.ok(!names.some((n) => n.startsWith('pg_toast')), 'toast schemas are hidden');
    assert.equal(schemas.items.find((i) => i.name === 'shop')?.comment, 'the shop');

    const tables = await walkPages(metadata, source.dataSource, { level: 'tables', catalog: source.database, schema: 'shop' }, 1);
    assert.deepEqual(tables.items, [
      { name: 'big_orders', kind: 'view', comment: null },
      { name: 'orders', kind: 'table', comment: 'all orders' },
    ]);

    const columns = await walkPages(metadata, source.dataSource, { level: 'columns', catalog: source.database, schema: 'shop', table: 'orders' }, 2);
    assert.deepEqual(columns.items, [
      { name: 'id', kind: 'column', type: 'BIGINT', nullable: false, comment: null },
      { name: 'amount', kind: 'column', type: 'NUMERIC(12,2)', nullable: false, comment: 'in EUR' },
      { name: 'placed', kind: 'column', type: 'TIMESTAMP WITH TIME ZONE', nullable: true, comment: null },
    ]);
    assert.equal(columns.pages, 2);
  });

  it('gives an empty page for a schema or table that does not exist', async () => {
    const page = await metadata.browse(source.dataSource, { level: 'tables', catalog: source.database, schema: 'nope' }, { limit: 10 });
    assert.deepEqual(page, { items: [], nextCursor: null });
    const cols = await metadata.browse(source.dataSource, { level: 'columns', catalog: source.database, schema: 'shop', table: 'nope' }, { limit: 10 });
    assert.deepEqual(cols, { items: [], nextCursor: null });
  });

  it('refuses a forged cursor, a cursor of another listing, and a page size out of range', async () => {
    const path = { level: 'tables' as const, catalog: source.database, schema: 'public' };
    const page = await metadata.browse(source.dataSource, path, { limit: 10 });
    for (const [p, cursor] of [
      [path, 'not-a-cursor'],
      [{ ...path, schema: 'shop' }, page.nextCursor!],
    ] as const) {
      const err = await rejectionOf(metadata.browse(source.dataSource, p, { limit: 10, cursor }));
      assert.ok(err instanceof SluiceError && err.code === 'SLUICE_REQUEST_INVALID', String(err));
    }
    for (const limit of [0, 1001, 1.5]) {
      const err = await rejectionOf(metadata.browse(source.dataSource, path, { limit }));
      assert.ok(err instanceof SluiceError && err.code === 'SLUICE_REQUEST_INVALID', String(err));
    }
  });
});
