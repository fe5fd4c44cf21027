import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createJdbcConnector } from '../src/index.ts';
import { assertAscendingUnique, assertFastPages, median, walkPages } from './browse-walk.ts';
import { clickhouseAdmin, ensureServers, freshClickhouse, type TestSource } from './jdbc-servers.ts';

const TABLES = 10_000;

/** Creates `count` tables with 16 requests in flight on kept-alive connections (one statement per request). */
async function createTables(database: string, count: number): Promise<void> {
  const u = new URL(ensureServers().clickhouseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  const send = (sql: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request({ host: u.hostname, port: Number(u.port), method: 'POST', path: '/', agent, headers: { authorization: auth } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(body))));
      });
      req.on('error', reject);
      req.end(sql);
    });
  let next = 1;
  try {
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next <= count) {
          const i = next++;
          // The Null engine keeps no data: these tables exist only to be listed.
          await send(`CREATE TABLE ${database}.t_${String(i).padStart(5, '0')} (id UInt8) ENGINE = Null`);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
}

describe('clickhouse metadata browse', () => {
  const { metadata } = createJdbcConnector();
  let source: TestSource;
  let wide: TestSource;
  before(async () => {
    [source, wide] = await Promise.all([freshClickhouse(), freshClickhouse()]);
    await createTables(wide.database, TABLES);
    await clickhouseAdmin(
      `CREATE TABLE ${source.database}.orders (id UInt64, amount Decimal(12, 2), note Nullable(String), tags Array(String)) ENGINE = Memory`,
    );
    await clickhouseAdmin(`CREATE VIEW ${source.database}.big_orders AS SELECT * FROM ${source.database}.orders WHERE amount > 100`);
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
    t.diagnostic(
      `pages: ${walk.pages}, median ${median(walk.pageMs).toFixed(1)} ms, first ${walk.pageMs[0]!.toFixed(1)} ms, last ${walk.pageMs.at(-1)!.toFixed(1)} ms`,
    );
    assertFastPages(walk);
  });

  it('reports one catalog named after the database, and the databases as its schemas', async () => {
    const catalogs = await metadata.browse(source.dataSource, { level: 'catalogs' }, { limit: 10 });
    assert.deepEqual(catalogs, { items: [{ name: source.database, kind: 'catalog' }], nextCursor: null });
    const schemas = await walkPages(metadata, source.dataSource, { level: 'schemas', catalog: source.database }, 2);
    const names = schemas.items.map((i) => i.name);
    assert.ok(names.includes(source.database) && names.includes(wide.database) && names.includes('system'));
    assertAscendingUnique(names);
  });

  it('lists tables and views, and columns with type and nullability', async () => {
    const tables = await walkPages(metadata, source.dataSource, { level: 'tables', catalog: source.database, schema: source.database }, 1);
    assert.deepEqual(tables.items, [
      { name: 'big_orders', kind: 'view', comment: null },
      { name: 'orders', kind: 'table', comment: null },
    ]);
    const columns = await walkPages(metadata, source.dataSource, { level: 'columns', catalog: source.database, schema: source.database, table: 'orders' }, 3);
    assert.deepEqual(columns.items, [
      { name: 'id', kind: 'column', type: 'BIGINT UNSIGNED', nullable: false, comment: null },
      { name: 'amount', kind: 'column', type: 'DECIMAL(12,2)', nullable: false, comment: null },
      { name: 'note', kind: 'column', type: 'VARCHAR', nullable: true, comment: null },
      { name: 'tags', kind: 'column', type: 'VARCHAR[]', nullable: false, comment: null },
    ]);
    assert.equal(columns.pages, 2);
  });

  it('quotes names it puts into SQL', async () => {
    const page = await metadata.browse(source.dataSource, { level: 'tables', catalog: source.database, schema: "x' OR 1 = 1 OR name = '" }, { limit: 10 });
    assert.deepEqual(page, { items: [], nextCursor: null });
  });
});
