import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createJdbcConnector } from '../src/index.ts';
import { assertAscendingUnique, assertFastPages, median, walkPages } from './browse-walk.ts';
import { freshMysql, mysqlAdmin, type TestSource } from './jdbc-servers.ts';

const TABLES = 10_000;

describe('mariadb metadata browse', () => {
  const { metadata } = createJdbcConnector();
  let source: TestSource;
  let wide: TestSource;
  before(async () => {
    [source, wide] = await Promise.all([freshMysql(), freshMysql()]);
    // MEMORY tables have no data files: 10,000 of them take seconds. Sent as scripts of 1000 statements.
    for (let from = 1; from <= TABLES; from += 1000) {
      const script: string[] = [];
      for (let i = from; i < from + 1000; i++) script.push(`CREATE TABLE t_${String(i).padStart(5, '0')} (id INT) ENGINE = MEMORY;`);
      await mysqlAdmin(script.join('\n'), wide.database);
    }
    await mysqlAdmin(
      `CREATE TABLE orders (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, amount DECIMAL(12, 2) NOT NULL COMMENT 'in EUR', kind ENUM('A', 'b'), note TEXT) COMMENT 'all orders';
       CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100;`,
      source.database,
    );
  });
  after(async () => {
    await Promise.allSettled([source?.drop(), wide?.drop()]);
  });

  it(`walks ${TABLES} tables in bounded pages, each name once and in order`, async (t) => {
    const walk = await walkPages(metadata, wide.dataSource, { level: 'tables', catalog: wide.database, schema: wide.database }, 500);
    assert.equal(walk.items.length, TABLES);
    assert.equal(walk.pages, TABLES / 500);
    assertAscendingUnique(walk.items.map((i) => i.name));
    assert.equal(walk.items[0]!.name, 't_00001');
    assert.equal(walk.items[TABLES - 1]!.name, 't_10000');
    assert.ok(walk.items.every((i) => i.kind === 'table' && i.comment === null));
    t.diagnostic(
      `pages: ${walk.pages}, median ${median(walk.pageMs).toFixed(1)} ms, first ${walk.pageMs[0]!.toFixed(1)} ms, last ${walk.pageMs.at(-1)!.toFixed(1)} ms`,
    );
    assertFastPages(walk);
  });

  it('reports one catalog named after the database, and the databases as its schemas', async () => {
    assert.deepEqual(await metadata.browse(source.dataSource, { level: 'catalogs' }, { limit: 5 }), {
      items: [{ name: source.database, kind: 'catalog' }],
      nextCursor: null,
    });
    const schemas = await walkPages(metadata, source.dataSource, { level: 'schemas', catalog: source.database }, 2);
    const names = schemas.items.map((i) => i.name);
    assert.ok(names.includes(source.database) && names.includes(wide.database) && names.includes('information_schema'));
    assertAscendingUnique(names);
  });

  it('lists tables and views with comments, and columns with type, nullability and comment', async () => {
    const tables = await walkPages(metadata, source.dataSource, { level: 'tables', catalog: source.database, schema: source.database }, 1);
    assert.deepEqual(tables.items, [
      { name: 'big_orders', kind: 'view', comment: 'VIEW' },
      { name: 'orders', kind: 'table', comment: 'all orders' },
    ]);
    const columns = await walkPages(metadata, source.dataSource, { level: 'columns', catalog: source.database, schema: source.database, table: 'orders' }, 3);
    assert.deepEqual(columns.items, [
      { name: 'id', kind: 'column', type: 'BIGINT(20) UNSIGNED', nullable: false, comment: null },
      { name: 'amount', kind: 'column', type: 'DECIMAL(12,2)', nullable: false, comment: 'in EUR' },
      { name: 'kind', kind: 'column', type: "ENUM('A','b')", nullable: true, comment: null },
      { name: 'note', kind: 'column', type: 'TEXT', nullable: true, comment: null },
    ]);
    assert.equal(columns.pages, 2);
  });

  it('binds names as parameters', async () => {
    const page = await metadata.browse(source.dataSource, { level: 'tables', catalog: source.database, schema: "x' OR '1' = '1" }, { limit: 10 });
    assert.deepEqual(page, { items: [], nextCursor: null });
  });
});
