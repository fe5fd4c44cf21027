import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildRunEvent, extractLineage, type LineageJob, type RunEventType, runIdForJob, SLUICE_PRODUCER } from '../src/index.ts';
import { FIXTURES, NAMESPACES } from './fixtures/lineage-fixtures.ts';
import { validateEvent } from './validate-event.ts';

const job = (over: Partial<LineageJob> = {}): LineageJob => ({
  id: '01JB8ZQ4V7K5M2N3P4Q5R6S7T8',
  namespace: 'sluice://gateway:9001',
  code: 'INSERT INTO hive.a.t SELECT x FROM hive.a.s',
  codeType: 'sql',
  ...over,
});

function assertValid(event: unknown): void {
  const r = validateEvent(event);
  assert.ok(r.ok, r.errors.join('\n'));
}

describe('buildRunEvent', () => {
  it('START and COMPLETE share a UUID run id derived from the job id', () => {
    const start = buildRunEvent({ eventType: 'START', job: job() });
    const done = buildRunEvent({ eventType: 'COMPLETE', job: job() });
    assert.equal(start.run.runId, done.run.runId);
    assert.equal(start.run.runId, runIdForJob(job().id));
    assert.match(start.run.runId, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(runIdForJob('other'), start.run.runId);
    assert.equal(start.producer, SLUICE_PRODUCER);
  });

  it('every event of every fixture validates against the official schemas', () => {
    let n = 0;
    for (const f of FIXTURES) {
      const lineage = extractLineage(f.sql, f.dialect, { namespace: NAMESPACES[f.dialect], ...f.ctx });
      for (const eventType of ['START', 'COMPLETE', 'FAIL', 'ABORT'] as RunEventType[]) {
        const event = buildRunEvent({
          eventType,
          eventTime: new Date('2026-01-02T03:04:05.678Z'),
          job: job({ code: f.sql, labels: { parentJobNamespace: 'dolphinscheduler://ds:12345', parentJobName: 'etl.load', parentRunId: '4711' } }),
          dialect: f.dialect,
          engine: { name: f.dialect, version: '1.0' },
          lineage,
          error: eventType === 'FAIL' ? { message: 'division by zero', stackTrace: 'at line 1' } : undefined,
          rowCounts: 42,
        });
        assertValid(event);
        n++;
      }
    }
    assert.ok(n >= 160);
  });

  it('carries the job, run and dataset facets the issue asks for', () => {
    const lineage = extractLineage('INSERT INTO hive.mart.t SELECT id, sum(v) AS total FROM hive.raw.s GROUP BY id', 'trino', { namespace: 'trino://t:8080' });
    const event = buildRunEvent({
      eventType: 'COMPLETE',
      job: job({
        labels: { parentJobNamespace: 'ds', parentJobName: 'wf.task', parentRunId: '99', rootJobNamespace: 'ds', rootJobName: 'wf', rootRunId: '7' },
      }),
      dialect: 'trino',
      engine: { name: 'trino', version: '470' },
      lineage,
      rowCounts: { 'hive.mart.t': 1234 },
    });
    assertValid(event);
    assert.deepEqual(Object.keys(event.job.facets ?? {}).sort(), ['jobType', 'sql']);
    assert.equal(event.job.facets?.jobType?.integration, 'SLUICE');
    assert.equal(event.job.facets?.jobType?.jobType, 'QUERY');
    assert.equal(event.job.facets?.jobType?.processingType, 'BATCH');
    assert.equal(event.job.facets?.sql?.lineageParser, 'dt-sql-parser', 'the event says which parser produced the lineage');
    const builtIn = buildRunEvent({
      eventType: 'START',
      job: job(),
      dialect: 'duckdb',
      lineage: extractLineage('SELECT 1', 'duckdb', { namespace: 'duckdb://e' }),
    });
    assert.equal(builtIn.job.facets?.sql?.lineageParser, 'built-in');
    assertValid(builtIn);
    assert.equal(event.job.name, 'wf.task.sluice');
    assert.deepEqual(Object.keys(event.run.facets ?? {}).sort(), ['parent', 'processing_engine']);
    const parent = event.run.facets?.parent as unknown as { job: { name: string }; run: { runId: string }; root: { run: { runId: string } } };
    assert.equal(parent.job.name, 'wf.task');
    assert.match(parent.run.runId, /^[0-9a-f-]{36}$/);
    assert.ok(parent.root.run.runId);
    const out = event.outputs[0];
    assert.ok(out);
    assert.deepEqual(Object.keys(out.facets ?? {}).sort(), ['columnLineage', 'dataSource']);
    assert.equal(out.outputFacets?.outputStatistics?.rowCount, 1234);
    assert.equal(event.inputs[0]?.name, 'hive.raw.s');
  });

  it('FAIL carries errorMessage; scripts carry sourceCode; streaming jobs say so', () => {
    const fail = buildRunEvent({ eventType: 'FAIL', job: job({ codeType: 'shell', code: 'echo hi; exit 3' }), error: { message: 'exit 3' } });
    assertValid(fail);
    assert.equal(fail.run.facets?.errorMessage?.message, 'exit 3');
    assert.equal(fail.run.facets?.errorMessage?.programmingLanguage, 'shell');
    assert.equal(fail.job.facets?.sourceCode?.sourceCode, 'echo hi; exit 3');
    assert.equal(fail.job.facets?.sql, undefined);
    const streaming = buildRunEvent({ eventType: 'START', job: job({ processingType: 'STREAMING' }), dialect: 'flink' });
    assertValid(streaming);
    assert.equal(streaming.job.facets?.jobType?.processingType, 'STREAMING');
    const complete = buildRunEvent({ eventType: 'COMPLETE', job: job(), error: { message: 'ignored' } });
    assert.equal(complete.run.facets?.errorMessage, undefined);
  });

  it('a parse failure yields the extractionError facet, and no throw', () => {
    const lineage = extractLineage('INSERT INTO t SELECT FROM WHERE ((', 'postgres', { namespace: 'postgres://p:5432' });
    assert.equal(lineage.errors.length, 1);
    const event = buildRunEvent({ eventType: 'START', job: job({ code: 'INSERT INTO t SELECT FROM WHERE ((' }), dialect: 'postgres', lineage });
    assertValid(event);
    const facet = event.run.facets?.extractionError as unknown as {
      totalTasks: number;
      failedTasks: number;
      errors: { errorMessage: string; task: string; taskNumber: number }[];
    };
    assert.equal(facet.totalTasks, 1);
    assert.equal(facet.failedTasks, 1);
    assert.equal(facet.errors[0]?.taskNumber, 0);
    assert.match(facet.errors[0]?.task ?? '', /INSERT INTO t/);
    assert.deepEqual(event.inputs, []);
    assert.deepEqual(event.outputs, []);
  });

  it('the validator rejects events that break the schema', () => {
    const event = buildRunEvent({ eventType: 'START', job: job() }) as unknown as Record<string, unknown>;
    assert.equal(validateEvent({ ...event, run: { runId: 'not-a-uuid' } }).ok, false);
    assert.equal(validateEvent({ ...event, eventType: 'DONE' }).ok, false);
    const badFacet = structuredClone(event) as { job: { facets: Record<string, Record<string, unknown>> } };
    delete badFacet.job.facets.jobType?.integration;
    assert.equal(validateEvent(badFacet).ok, false);
  });
});
