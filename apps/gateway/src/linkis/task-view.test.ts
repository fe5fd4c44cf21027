import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobView } from '@sluice/core';
import { queryTaskVO } from './task-view.ts';

const base: JobView = {
  id: '01J0000000000000000000000A',
  state: 'Failed',
  user: 'alice',
  creator: 'LINKISCLI',
  engineType: 'jdbc-4',
  codeType: 'sql',
  priority: 5,
  progress: 0.5,
  attempt: 0,
  engineId: 'eng-1',
  error: { code: 'SLUICE_ENGINE_QUERY_FAILED', message: 'jdbc: boom', details: {} },
  resultSets: 0,
  logLines: 3,
  labels: { 'linkis.engineType': 'jdbc-4', 'linkis.scriptPath': 'a.sql' },
  dataSource: 'orders_pg',
  seq: '42',
  clientLeaseUntil: null,
  createdAt: '2024-01-01T00:00:00.000Z',
  scheduledAt: '2024-01-01T00:00:01.000Z',
  startedAt: '2024-01-01T00:00:02.000Z',
  finishedAt: '2024-01-01T00:00:05.000Z',
  updatedAt: '2024-01-01T00:00:05.000Z',
};

describe('job history task (QueryTaskVO)', () => {
  it('has numeric ids and dates, Linkis ids and paths, and errors as numbers plus the Sluice code', () => {
    const t = queryTaskVO(base, { instance: 'h:1', code: 'select 1' });
    assert.equal(t.taskID, 42);
    assert.equal(t.execId, 'LINKISCLI_alice_jdbc_42');
    assert.equal(t.strongerExecId, 'exec_id018003linkis-cg-entranceh:1LINKISCLI_alice_jdbc_42');
    assert.equal(t.createdTime, Date.parse('2024-01-01T00:00:00.000Z'));
    assert.equal(t.updatedTime, Date.parse('2024-01-01T00:00:05.000Z'));
    assert.equal(t.engineStartTime, Date.parse('2024-01-01T00:00:02.000Z'));
    assert.equal(t.costTime, 3000);
    assert.equal(t.status, 'Failed');
    assert.equal(t.progress, '0.5');
    assert.equal(t.errCode, 60024);
    assert.equal(t.errDesc, 'SLUICE_ENGINE_QUERY_FAILED: jdbc: boom');
    assert.equal(t.engineType, 'jdbc');
    assert.equal(t.requestApplicationName, 'LINKISCLI');
    assert.equal(t.runType, 'sql');
    assert.equal(t.umUser, 'alice');
    assert.equal(t.executionCode, 'select 1');
    assert.equal(t.resultLocation, 'file:///sluice/result/alice/42');
    assert.equal(t.logPath, 'file:///sluice/log/alice/42.log');
    assert.equal(t.sourceTailor, 'a.sql');
    assert.deepEqual(t.labels, ['engineType:jdbc-4', 'userCreator:alice-LINKISCLI', 'codeType:sql', 'dataSource:orders_pg']);
  });

  it('reports success as progress 1.0 and no error', () => {
    const t = queryTaskVO({ ...base, state: 'Succeed', progress: 0.9, error: null }, { instance: 'h:1' });
    assert.equal(t.progress, '1.0');
    assert.equal(t.errCode, null);
    assert.equal(t.errDesc, null);
    assert.equal(t.executionCode, null);
  });
});
