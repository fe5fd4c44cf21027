import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '@sluice/core';
import { EngineMap } from './engine-map.ts';
import { LINKIS_ENGINE_LABEL, translateSubmit } from './submit-translation.ts';

const alice = { user: 'alice', admin: false };
const engines = new EngineMap();

function fails(body: unknown, linkisErrCode: number, pattern: RegExp): void {
  try {
    translateSubmit(body, alice, engines);
  } catch (e) {
    assert.ok(e instanceof SluiceError, String(e));
    assert.equal(e.details.linkisErrCode, linkisErrCode, e.message);
    assert.match(e.message, pattern);
    return;
  }
  assert.fail(`accepted ${JSON.stringify(body)}`);
}

describe('Linkis submit → Sluice job', () => {
  it('translates the 1.x submit body (the linkis-task-operator example)', () => {
    const { job, linkisEngineType } = translateSubmit(
      {
        executionContent: { code: 'show tables', runType: 'sql' },
        params: {
          variable: { testvar: 'hello', n: 3, flag: true, obj: { a: 1 } },
          configuration: { runtime: { 'linkis.datasource': 'orders_pg', x: 1 }, startup: { 'spark.executor.cores': '4' } },
        },
        source: { scriptPath: 'file:///tmp/hadoop/test.sql' },
        labels: { engineType: 'jdbc-4', userCreator: 'alice-IDE', tenant: 't1', executeOnce: '' },
        executeUser: 'alice',
      },
      alice,
      engines,
    );
    assert.equal(linkisEngineType, 'jdbc-4');
    assert.deepEqual(job, {
      code: 'show tables',
      engineType: 'jdbc',
      codeType: 'sql',
      creator: 'IDE',
      labels: { [LINKIS_ENGINE_LABEL]: 'jdbc-4', tenant: 't1', 'linkis.scriptPath': 'file:///tmp/hadoop/test.sql' },
      variables: { testvar: 'hello', n: 3, flag: true, obj: '{"a":1}' },
      runtimeParams: { 'linkis.datasource': 'orders_pg', x: 1 },
      startupParams: { 'spark.executor.cores': '4' },
      dataSource: 'orders_pg',
      executeOnce: true,
    });
  });

  it('takes codeType from labels, defaults the creator to IDE and maps timeout labels', () => {
    const { job } = translateSubmit(
      { executionContent: { code: 'echo hi' }, labels: { engineType: 'shell-1', codeType: 'shell', jobQueuingTimeout: '30', jobRunningTimeout: 600 } },
      alice,
      engines,
    );
    assert.deepEqual(job, {
      code: 'echo hi',
      engineType: 'shell',
      codeType: 'shell',
      creator: 'IDE',
      labels: { [LINKIS_ENGINE_LABEL]: 'shell-1' },
      queueTimeoutSeconds: 30,
      runTimeoutSeconds: 600,
    });
  });

  it('translates the legacy 0.x execute body', () => {
    const { job } = translateSubmit(
      { executeApplicationName: 'shell', requestApplicationName: 'Scriptis', executionCode: 'ls', runType: 'sh', params: {} },
      alice,
      engines,
    );
    assert.deepEqual(job, { code: 'ls', engineType: 'shell', codeType: 'sh', creator: 'Scriptis', labels: { [LINKIS_ENGINE_LABEL]: 'shell' } });
  });

  it('refuses bodies Linkis refuses, with Linkis error numbers', () => {
    fails('x', 20008, /JSON object/);
    fails({ labels: { engineType: 'duckdb-1.5' } }, 20010, /executionContent\.code/);
    fails({ executionContent: { code: '  ', runType: 'sql' }, labels: { engineType: 'duckdb-1.5' } }, 20007, /executionCode cannot be empty/);
    fails({ executionContent: { code: 'x' }, labels: { engineType: 'duckdb-1.5' } }, 20009, /runType/);
    fails({ executionContent: { code: 'x', runType: 'sql' }, labels: {} }, 20008, /labels is null/);
    fails({ executionContent: { code: 'x', runType: 'sql' }, labels: { userCreator: 'alice-IDE' } }, 50079, /engineTypeLabel/);
    fails({ executionContent: { code: 'x', runType: 'sql' }, labels: { engineType: 'duckdb-1.5', userCreator: 'bob-IDE' } }, 50080, /bob in userCreatorLabel/);
    fails({ executionContent: { code: 'x', runType: 'sql' }, labels: { engineType: 'duckdb-1.5', userCreator: 'aliceIDE' } }, 20009, /user-creator/);
    fails({ executionContent: { code: 'x', runType: 'sql' }, labels: { engineType: 'duckdb-1.5' }, executeUser: 'root' }, 50080, /executeUser root/);
    fails({ executionContent: { code: 'x', runType: 'sql' }, labels: { engineType: 'duckdb-1.5', jobRunningTimeout: '10s' } }, 20009, /seconds/);
    fails({ executionContent: { code: 'x', runType: 'sql' }, labels: { engineType: 'duckdb-1.5' }, params: { variable: [] } }, 20008, /params\.variable/);
  });

  it('passes engine-map errors through', () => {
    assert.throws(() => translateSubmit({ executionContent: { code: 'x', runType: 'hql' }, labels: { engineType: 'hive-2.3.3' } }, alice, engines), {
      code: 'SLUICE_JOB_ENGINE_UNKNOWN',
    });
  });
});
