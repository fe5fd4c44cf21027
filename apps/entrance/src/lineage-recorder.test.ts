import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { DataSourceConnection } from '@sluice/core';
import { LineageExtractor } from '@sluice/metadata-hook';
import type { JobRow } from './job-store.ts';
import { LineageRecorder } from './lineage-recorder.ts';

interface Event {
  eventType: string;
  run: { facets?: Record<string, { errors?: { errorMessage: string }[] }> };
  job: { facets?: Record<string, { lineageParser?: string }> };
  inputs?: { namespace: string; name: string }[];
  outputs?: { namespace: string; name: string }[];
}

const PG: DataSourceConnection = {
  name: 'orders_pg',
  type: 'postgresql',
  version: 1,
  params: { host: 'db.example', port: 5432, database: 'shop' },
  secretFields: [],
};

function job(id: string, code: string): JobRow {
  const now = new Date();
  return {
    id,
    seq: '1',
    username: 'alice',
    creator: 'test',
    engine_type: 'jdbc',
    code_type: 'sql',
    group_key: 'alice:test',
    code,
    submitted_code: code,
    variables: {},
    runtime_params: {},
    startup_params: {},
    labels: {},
    priority: 0,
    execute_once: false,
    data_source: PG.name,
    state: 'Running',
    attempt: 0,
    progress: 0,
    queue_timeout_s: 60,
    run_timeout_s: 60,
    idempotency_key: null,
    request_hash: null,
    manager_id: null,
    engine_id: null,
    lease_until: null,
    cancel_requested: null,
    error: null,
    result_sets: 0,
    log_lines: 0,
    client_lease_s: null,
    client_lease_until: null,
    created_at: now,
    scheduled_at: now,
    started_at: now,
    finished_at: null,
    updated_at: now,
  };
}

describe('LineageRecorder.touchesData', () => {
  it('is true for SQL that reads or writes a dataset, or that the parser cannot read, and for code that is not SQL', async () => {
    const recorder = new LineageRecorder({ namespace: 'sluice-test' });
    const touches = (id: string, code: string, codeType = 'sql') => recorder.touchesData({ ...job(id, code), code_type: codeType }, PG);
    assert.equal(await touches('t-1', 'SELECT 1'), false);
    assert.equal(await touches('t-2', "SELECT now(), 'x' || 'y'"), false);
    assert.equal(await touches('t-3', 'SELECT * FROM sales.orders'), true);
    assert.equal(await touches('t-4', 'INSERT INTO mart.daily VALUES (1)'), true);
    assert.equal(await touches('t-5', 'SELEKT wat FROM (('), true, 'an unreadable statement may touch anything');
    assert.equal(await touches('t-6', 'echo hi', 'shell'), true);
  });
});

describe('LineageRecorder with the worker pool', () => {
  const extractors: LineageExtractor[] = [];
  after(async () => {
    for (const x of extractors) await x.close();
  });

  it('builds START and COMPLETE from SQL parsed by dt-sql-parser in a worker thread', async () => {
    const extractor = new LineageExtractor({ workers: 1 });
    extractors.push(extractor);
    const recorder = new LineageRecorder({ namespace: 'sluice-test', extractor });
    const row = job('job-recorder-1', 'INSERT INTO mart.daily SELECT o.day, sum(o.amount) AS total FROM sales.orders o GROUP BY o.day');
    const start = (await recorder.started(row, PG)).event as Event;
    assert.equal(start.eventType, 'START');
    assert.equal(start.job.facets?.sql?.lineageParser, 'dt-sql-parser');
    assert.deepEqual(
      start.inputs?.map((d) => `${d.namespace}/${d.name}`),
      ['postgres://db.example:5432/shop.sales.orders'],
    );
    assert.deepEqual(
      start.outputs?.map((d) => `${d.namespace}/${d.name}`),
      ['postgres://db.example:5432/shop.mart.daily'],
    );
    assert.equal(extractor.size, 1, 'parsed by the pool');
    const end = await recorder.ended(row, 'Succeed', { ds: PG });
    assert.equal((end.event as Event).eventType, 'COMPLETE');
    assert.deepEqual((end.event as Event).outputs, start.outputs);
    assert.ok(end.seqOffset > 0);
  });

  it('parses a statement once for jobs that send the same text to the same place', async () => {
    const extractor = new LineageExtractor({ workers: 0 });
    extractors.push(extractor);
    let parses = 0;
    const extract = extractor.extract.bind(extractor);
    extractor.extract = (...args: Parameters<LineageExtractor['extract']>) => {
      parses++;
      return extract(...args);
    };
    const recorder = new LineageRecorder({ namespace: 'sluice-test', extractor });
    const sql = 'INSERT INTO mart.daily SELECT day FROM sales.orders';
    const outputs = async (id: string, ds: DataSourceConnection) => {
      const row = job(id, sql);
      const e = (await recorder.started(row, ds)).event as Event;
      await recorder.ended(row, 'Succeed', { ds });
      return e.outputs?.map((d) => `${d.namespace}/${d.name}`);
    };
    assert.deepEqual(await outputs('job-recorder-3', PG), ['postgres://db.example:5432/shop.mart.daily']);
    assert.deepEqual(await outputs('job-recorder-4', PG), ['postgres://db.example:5432/shop.mart.daily']);
    assert.equal(parses, 1, 'the second job reused the first parse');
    // The same text on another database names other datasets: parsed again.
    const other = { ...PG, params: { ...PG.params, database: 'other' } };
    assert.deepEqual(await outputs('job-recorder-5', other), ['postgres://db.example:5432/other.mart.daily']);
    assert.equal(parses, 2);
  });

  it('a worker that dies still gives the job its event, with the extraction-error facet (FAKE worker)', async () => {
    // FAKE: a real parser cannot be made to crash on demand; this worker exits on a marked script.
    const fake = new URL('../../../packages/metadata-hook/test/fakes/fake-failing-lineage-worker.ts', import.meta.url);
    const extractor = new LineageExtractor({ workers: 1, workerEntry: fake });
    extractors.push(extractor);
    const recorder = new LineageRecorder({ namespace: 'sluice-test', extractor });
    const row = job('job-recorder-2', '/* fake:exit */ INSERT INTO mart.daily SELECT day FROM sales.orders');
    const start = (await recorder.started(row, PG)).event as Event;
    assert.equal(start.eventType, 'START');
    assert.deepEqual(start.outputs ?? [], []);
    assert.match(start.run.facets?.extractionError?.errors?.[0]?.errorMessage ?? '', /lineage worker exited \(code 7\)/);
    const end = (await recorder.ended(row, 'Failed', { ds: PG, error: 'boom' })).event as Event;
    assert.equal(end.eventType, 'FAIL');
  });
});
