import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshDatabase, type TestDatabase } from '@sluice/testkit';
import pg from 'pg';
import {
  buildRunEvent,
  enqueueLineageEvent,
  extractLineage,
  handleLineageRequest,
  LINEAGE_MIGRATIONS,
  LineageQueryError,
  lineageGraph,
  lineageSeq,
} from '../src/index.ts';

const NS = 'trino://t:8080';

async function runJob(pool: pg.Pool, id: string, sql: string): Promise<void> {
  const lineage = extractLineage(sql, 'trino', { namespace: NS });
  for (const eventType of ['START', 'COMPLETE'] as const) {
    const ev = buildRunEvent({ eventType, job: { id, namespace: 'sluice://test', name: id, code: sql, codeType: 'sql' }, dialect: 'trino', lineage });
    await enqueueLineageEvent(pool, id, lineageSeq(eventType, 0), ev);
  }
}

describe('lineageGraph over sluice_lineage_edges (real PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  before(async () => {
    db = await freshDatabase('lineage_graph');
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    for (const m of LINEAGE_MIGRATIONS) await pool.query(m.sql);
    // raw.a, raw.b → (load) → stage.s → (agg) → mart.m → (report) → mart.r ; raw.a → (side) → mart.side
    await runJob(pool, 'load', 'INSERT INTO c.stage.s SELECT a.x, b.y FROM c.raw.a a JOIN c.raw.b b ON a.id = b.id');
    await runJob(pool, 'agg', 'INSERT INTO c.mart.m SELECT x, count(*) AS n FROM c.stage.s GROUP BY x');
    await runJob(pool, 'report', 'CREATE TABLE c.mart.r AS SELECT * FROM c.mart.m');
    await runJob(pool, 'side', 'INSERT INTO c.mart.side SELECT x FROM c.raw.a');
  });

  after(async () => {
    await pool.end();
    await db.drop();
  });

  it('edges are written by the trigger as events enter the outbox, once per edge', async () => {
    const r = await pool.query<{ n: string }>('SELECT count(*) AS n FROM sluice_lineage_edges');
    // load: 2 in + 1 out; agg: 1 + 1; report: 1 + 1; side: 1 + 1 (START and COMPLETE share edges)
    assert.equal(Number(r.rows[0]?.n), 9);
  });

  it('walks upstream to the requested depth', async () => {
    const one = await lineageGraph(pool, { dataset: 'c.mart.r', direction: 'up', depth: 1 });
    assert.deepEqual(one.nodes.map((n) => n.id).sort(), [`dataset:${NS}:c.mart.m`, `dataset:${NS}:c.mart.r`, 'job:sluice://test:report']);
    const all = await lineageGraph(pool, { dataset: 'c.mart.r', namespace: NS, direction: 'up', depth: 5 });
    const datasets = all.nodes
      .filter((n) => n.type === 'DATASET')
      .map((n) => n.name)
      .sort();
    assert.deepEqual(datasets, ['c.mart.m', 'c.mart.r', 'c.raw.a', 'c.raw.b', 'c.stage.s']);
    assert.ok(all.edges.some((e) => e.from === `dataset:${NS}:c.raw.b` && e.to === 'job:sluice://test:load'));
    assert.ok(!all.nodes.some((n) => n.name === 'c.mart.side'));
    assert.equal(all.truncated, false);
    assert.equal(all.edges[0]?.lastEventType, 'COMPLETE');
  });

  it('walks downstream', async () => {
    const g = await lineageGraph(pool, { dataset: 'c.raw.a', direction: 'down', depth: 2 });
    const datasets = g.nodes
      .filter((n) => n.type === 'DATASET')
      .map((n) => n.name)
      .sort();
    assert.deepEqual(datasets, ['c.mart.m', 'c.mart.side', 'c.raw.a', 'c.stage.s']);
  });

  it('an unknown dataset is a lone node; the handler validates its query', async () => {
    const g = await handleLineageRequest(pool, { dataset: 'nope.nope' });
    assert.deepEqual(g, { nodes: [{ id: 'dataset::nope.nope', type: 'DATASET', namespace: '', name: 'nope.nope' }], edges: [], truncated: false });
    const viaStrings = await handleLineageRequest(pool, { dataset: 'c.mart.m', direction: 'down', depth: '1' });
    assert.ok(viaStrings.nodes.some((n) => n.name === 'c.mart.r'));
    await assert.rejects(handleLineageRequest(pool, { dataset: 'x', depth: '0' }), (e) => e instanceof LineageQueryError && e.status === 400);
    await assert.rejects(handleLineageRequest(pool, { direction: 'sideways' }), LineageQueryError);
  });
});
