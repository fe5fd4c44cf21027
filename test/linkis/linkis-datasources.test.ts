import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SluiceError } from '@sluice/core';
import { requireEnv, uniqueSuffix } from '@sluice/testkit';
import pg from 'pg';
import { ENGINE_MAP_SETTING, linkisPlugin } from '../../apps/gateway/src/linkis/index.ts';
import { type TestEnv, testEnv } from '../support/test-stack.ts';
import { LinkisClient, type LinkisGateway, type LinkisStack, mountLinkisGateway, startLinkisStack } from './linkis-stack.ts';

const SECRET = `Lk-${randomBytes(8).toString('hex')}-secret`;
const ROLE = `lk_${uniqueSuffix()}`;
const server = new URL(requireEnv('DATABASE_URL'));

describe('Linkis data-source manager, metadataQuery and engine mapping on a real PostgreSQL', () => {
  let env: TestEnv;
  let s: LinkisStack;
  let alice: LinkisClient;
  let bob: LinkisClient;
  let dsId = '';
  const bodies: string[] = [];

  before(async () => {
    env = await testEnv('postgres');
    const su = new pg.Client({ connectionString: env.db.url });
    await su.connect();
    await su.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${SECRET}'`);
    await su.query(`GRANT ALL ON SCHEMA public TO ${ROLE}`);
    await su.query("CREATE TABLE public.orders (id int PRIMARY KEY, amount numeric(12,2), note text); COMMENT ON COLUMN public.orders.note IS 'free text'");
    await su.query(`GRANT SELECT ON public.orders TO ${ROLE}`);
    await su.query("INSERT INTO public.orders VALUES (1, 9.50, 'a'), (2, 12.25, null)");
    await su.end();
    s = await startLinkisStack(env);
    alice = LinkisClient.withToken(s.url, 'alice', s.ts.tokens.alice);
    bob = LinkisClient.withToken(s.url, 'bob', s.ts.tokens.bob);
    // Every response is recorded, to prove no secret is ever returned.
    for (const c of [alice, bob]) {
      const original = c.request.bind(c);
      c.request = async (...args: Parameters<LinkisClient['request']>) => {
        const r = await original(...args);
        bodies.push(JSON.stringify(r.body));
        return r;
      };
    }
  });
  after(async () => {
    await s?.stop();
    await env?.cleanup();
    const su = new pg.Client({ connectionString: requireEnv('DATABASE_URL') });
    await su.connect();
    await su.query(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => {});
    await su.end();
  });

  it('lists types and their key definitions', async () => {
    const types = await alice.get('data-source-manager/type/all');
    assert.equal(types.body.status, 0);
    assert.equal(types.body.method, '/api/data-source-manager/type/all');
    const list = types.body.data.typeList as { id: string; name: string; classifier: string }[];
    const pgType = list.find((t) => t.name === 'postgresql');
    assert.ok(pgType, JSON.stringify(list));
    assert.equal(pgType.classifier, 'relational database');
    const byId = await alice.get(`data-source-manager/key-define/type/${pgType.id}`);
    const byName = await alice.get('data-source-manager/key-define/postgresql');
    assert.deepEqual(byId.body.data, byName.body.data);
    const keys = byId.body.data.keyDefine as { key: string; valueType: string; require: boolean; defaultValue: string | null }[];
    assert.deepEqual(
      keys.find((k) => k.key === 'password'),
      { ...keys.find((k) => k.key === 'password'), valueType: 'PASSWORD', require: false },
    );
    assert.equal(keys.find((k) => k.key === 'host')?.require, true);
    assert.equal(keys.find((k) => k.key === 'port')?.defaultValue, '5432');
    assert.equal((await alice.get('data-source-manager/key-define/nosuch')).body.status, 1);
  });

  it('creates a data source from Linkis connect params, tests, publishes and versions it', async () => {
    const typeId = ((await alice.get('data-source-manager/type/all')).body.data.typeList as { id: string; name: string }[]).find(
      (t) => t.name === 'postgresql',
    )?.id;
    const created = await alice.post('data-source-manager/info/json', {
      dataSourceName: 'orders_pg',
      dataSourceDesc: 'orders',
      dataSourceTypeId: Number(typeId),
      createSystem: 'Linkis',
      connectParams: { host: server.hostname, port: server.port || '5432', username: ROLE, password: SECRET, databaseName: env.db.name },
    });
    assert.equal(created.body.status, 0, JSON.stringify(created.body));
    dsId = created.body.data.insertId as string;
    assert.match(dsId, /^[0-9a-f-]{36}$/);

    const info = await alice.get('data-source-manager/info/name/orders_pg');
    const ds = info.body.data.info as Record<string, unknown>;
    assert.equal(ds.id, dsId);
    assert.equal(ds.dataSourceName, 'orders_pg');
    assert.equal(ds.dataSourceDesc, 'orders');
    assert.equal(String(ds.dataSourceTypeId), typeId);
    assert.equal(ds.versionId, 1);
    assert.equal(ds.publishedVersionId, null);
    assert.equal(ds.expire, false);
    assert.equal(ds.createUser, 'alice');
    assert.equal(typeof ds.createTime, 'number');
    assert.deepEqual((ds.connectParams as Record<string, unknown>).user, ROLE);
    assert.equal((ds.connectParams as Record<string, unknown>).password, undefined, 'secrets are write-only');
    assert.deepEqual(ds.secretsSet, ['password']);
    assert.deepEqual((await alice.get(`data-source-manager/info/${dsId}`)).body.data, info.body.data, 'by id as by name');

    const unpublished = await alice.get('data-source-manager/publishedInfo/name/orders_pg');
    assert.equal(unpublished.body.data.code, 'SLUICE_DATASOURCE_UNPUBLISHED');
    const connect = await alice.request('PUT', `data-source-manager/${dsId}/1/op/connect`);
    assert.equal(connect.body.status, 0, JSON.stringify(connect.body));
    assert.equal(connect.body.data.ok, true);
    const published = await alice.post(`data-source-manager/publish/${dsId}/1`);
    assert.equal(published.body.status, 0);
    assert.equal(published.body.message, 'publish success');
    assert.equal(
      ((await alice.get('data-source-manager/publishedInfo/name/orders_pg')).body.data.info as { publishedVersionId: number }).publishedVersionId,
      1,
    );

    const v2 = await alice.post(`data-source-manager/parameter/${dsId}/json`, {
      connectParams: { host: server.hostname, port: Number(server.port || 5432), username: ROLE, databaseName: env.db.name },
      comment: 'same, again',
    });
    assert.equal(v2.body.data.version, 2);
    const versions = (await alice.get('data-source-manager/orders_pg/versions')).body.data.versions as Record<string, unknown>[];
    assert.deepEqual(
      versions.map((v) => [v.versionId, v.comment, v.published, v.dataSourceId]),
      [
        [1, 'created', true, dsId],
        [2, 'same, again', false, dsId],
      ],
    );
    const query = await alice.get('data-source-manager/info?name=orders&currentPage=1&pageSize=10');
    assert.deepEqual(
      (query.body.data.queryList as { dataSourceName: string }[]).map((d) => d.dataSourceName),
      ['orders_pg'],
    );
    assert.equal(query.body.data.totalPage, 1);
    assert.equal((await bob.get('data-source-manager/info/name/orders_pg')).body.data.code, 'SLUICE_DATASOURCE_NOT_FOUND');
  });

  it('browses databases, tables and columns through metadataQuery', async () => {
    const q = 'dataSourceName=orders_pg&system=Linkis';
    const dbs = await alice.get(`metadataQuery/getDatabases?${q}`);
    assert.equal(dbs.body.status, 0, JSON.stringify(dbs.body));
    assert.equal(dbs.body.method, '/api/metadataQuery/getDatabases');
    assert.ok((dbs.body.data.dbs as string[]).includes('public'), JSON.stringify(dbs.body.data));
    const tables = await alice.get(`metadataQuery/getTables?${q}&database=public`);
    assert.ok((tables.body.data.tables as string[]).includes('orders'), JSON.stringify(tables.body.data));
    const columns = await alice.get(`metadataQuery/getColumns?${q}&database=public&table=orders`);
    const cols = columns.body.data.columns as { index: number; name: string; type: string; colComment: string | null }[];
    assert.deepEqual(
      cols.map((c) => [c.index, c.name]),
      [
        [1, 'id'],
        [2, 'amount'],
        [3, 'note'],
      ],
    );
    assert.match(cols[1]?.type ?? '', /numeric/i);
    assert.equal(cols[2]?.colComment, 'free text');
    const conn = await alice.get(`metadataQuery/getConnectionInfo?${q}`);
    assert.equal((conn.body.data.info as Record<string, unknown>).host, server.hostname);
    assert.equal((conn.body.data.info as Record<string, unknown>).password, undefined);
    assert.equal((await alice.get(`metadataQuery/getPartitions?${q}&database=public&table=orders`)).body.status, 1);
    assert.equal((await alice.get('metadataQuery/getDatabases?system=x')).body.status, 1, 'dataSourceName is required');
    const lower = await alice.get(`metadataquery/getTables?${q}&database=public`);
    assert.deepEqual(lower.body.data.tables, tables.body.data.tables, 'the lower-case service name the Linkis gateway also routes');
  });

  it('browses the same through metadatamanager, by data-source name or id', async () => {
    const info = await alice.get('data-source-manager/info/name/orders_pg');
    const id = (info.body.data.info as { id: string }).id;
    for (const ref of ['orders_pg', id]) {
      const dbs = await alice.get(`metadatamanager/dbs/${ref}?system=Linkis`);
      assert.equal(dbs.body.status, 0, JSON.stringify(dbs.body));
      assert.equal(dbs.body.method, `/api/metadatamanager/dbs/${ref}`);
      assert.ok((dbs.body.data.dbs as string[]).includes('public'));
      const tables = await alice.get(`metadatamanager/tables/${ref}/db/public?system=Linkis`);
      assert.ok((tables.body.data.tables as string[]).includes('orders'));
      const columns = await alice.get(`metadatamanager/columns/${ref}/db/public/table/orders?system=Linkis`);
      assert.deepEqual(
        (columns.body.data.columns as { name: string }[]).map((c) => c.name),
        ['id', 'amount', 'note'],
      );
    }
    const partitions = await alice.get('metadatamanager/partitions/orders_pg/db/public/table/orders');
    assert.equal(partitions.body.status, 1);
    assert.match(partitions.body.message, /metadatamanager\/partitions has no Sluice equivalent/);
    assert.equal((await bob.get('metadatamanager/dbs/orders_pg')).body.data.code, 'SLUICE_DATASOURCE_NOT_FOUND', "not another user's source");
  });

  it('runs jdbc-4 jobs on the data source named by the runtime parameter linkis.datasource', async () => {
    const { execID, taskID } = await alice.submit({
      executionContent: { code: 'select id, amount, note from public.orders order by id', runType: 'jdbc' },
      params: { configuration: { runtime: { 'linkis.datasource': 'orders_pg' } } },
      labels: { engineType: 'jdbc-4', userCreator: 'alice-IDE' },
    });
    assert.equal(await alice.waitFinal(execID), 'Succeed');
    const t = (await alice.get(`jobhistory/${taskID}/get`)).body.data.task as Record<string, unknown>;
    assert.equal(t.engineType, 'jdbc');
    assert.ok((t.labels as string[]).includes('dataSource:orders_pg'));
    const page = await alice.get(`filesystem/openFile?path=${encodeURIComponent(`${t.resultLocation}/_0.dolphin`)}`);
    assert.deepEqual(page.body.data.fileContent, [
      ['1', '9.50', 'a'],
      ['2', '12.25', 'NULL'],
    ]);
    assert.deepEqual(
      (page.body.data.metadata as { dataType: string }[]).map((m) => m.dataType),
      ['int', 'decimal', 'string'],
    );
    const viaWds = await alice.submit({
      executionContent: { code: 'select count(*) from public.orders', runType: 'sql' },
      params: { configuration: { runtime: { 'wds.linkis.datasource': 'orders_pg' } } },
      labels: { engineType: 'jdbc-4', userCreator: 'alice-IDE' },
    });
    assert.equal(await alice.waitFinal(viaWds.execID), 'Succeed');
    const denied = await bob.post('entrance/submit', {
      executionContent: { code: 'select 1', runType: 'jdbc' },
      params: { configuration: { runtime: { 'linkis.datasource': 'orders_pg' } } },
      labels: { engineType: 'jdbc-4', userCreator: 'bob-IDE' },
    });
    assert.equal(denied.body.status, 1);
    assert.equal(denied.body.data.code, 'SLUICE_DATASOURCE_NOT_FOUND', 'bob may not use it');
  });

  it('maps Linkis engine types through SLUICE_LINKIS_ENGINE_MAP', async () => {
    let gw: LinkisGateway | undefined;
    try {
      gw = await mountLinkisGateway(s.ts, {
        env: {
          [ENGINE_MAP_SETTING]: JSON.stringify({
            'hive-*': { engine: 'jdbc', dataSource: 'orders_pg', codeTypes: { hql: 'sql' } },
            'impala-*': { engine: 'nosuchengine' },
            'shell-*': null,
          }),
        },
      });
      const c = LinkisClient.withToken(gw.url, 'alice', s.ts.tokens.alice);
      const hive = await c.submit({
        executionContent: { code: 'select sum(amount) as total from public.orders', runType: 'hql' },
        labels: { engineType: 'hive-2.3.3' },
      });
      assert.equal(await c.waitFinal(hive.execID), 'Succeed');
      const t = (await c.get(`jobhistory/${hive.taskID}/get`)).body.data.task as Record<string, unknown>;
      assert.equal(t.runType, 'sql');
      assert.ok((t.labels as string[]).includes('engineType:hive-2.3.3'));
      const rows = await c.get(`filesystem/openFile?path=${encodeURIComponent(`${t.resultLocation}/_0.dolphin`)}`);
      assert.deepEqual(rows.body.data.fileContent, [['21.75']]);
      const impala = await c.post('entrance/submit', { executionContent: { code: 'select 1', runType: 'sql' }, labels: { engineType: 'impala-3' } });
      assert.equal(impala.body.data.code, 'SLUICE_JOB_ENGINE_UNKNOWN', 'mapped to an engine Sluice does not load');
      const shell = await c.post('entrance/submit', { executionContent: { code: 'echo x', runType: 'shell' }, labels: { engineType: 'shell-1' } });
      assert.equal(shell.body.data.code, 'SLUICE_JOB_ENGINE_UNKNOWN', 'the default was removed');
      assert.match(shell.body.message, /SLUICE_LINKIS_ENGINE_MAP/);
    } finally {
      await gw?.close();
    }
    const deps = { config: s.ts.stack.config, entrance: s.ts.stack.entrance, tokens: s.ts.stack.tokens, bus: s.ts.stack.infra.bus, log: s.ts.stack.log };
    assert.throws(
      () => linkisPlugin({ ...deps, env: { [ENGINE_MAP_SETTING]: '{"spark-*": {"engine": 42}}' } }),
      (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_CONFIG_INVALID' && e.details.setting === ENGINE_MAP_SETTING,
    );
  });

  it('expires a data source: jobs on it are refused', async () => {
    const expired = await alice.request('PUT', `data-source-manager/info/${dsId}/expire`);
    assert.equal(expired.body.status, 0);
    assert.equal(expired.body.data.expireId, dsId);
    const r = await alice.post('entrance/submit', {
      executionContent: { code: 'select 1', runType: 'jdbc' },
      params: { configuration: { runtime: { 'linkis.datasource': 'orders_pg' } } },
      labels: { engineType: 'jdbc-4' },
    });
    assert.equal(r.body.status, 1);
    assert.equal(r.body.data.code, 'SLUICE_DATASOURCE_EXPIRED');
    assert.equal(((await alice.get('data-source-manager/info/name/orders_pg')).body.data.info as { expire: boolean }).expire, true);
  });

  it('never returned the secret', () => {
    assert.ok(bodies.length > 20);
    for (const b of bodies) assert.ok(!b.includes(SECRET), b);
  });
});
