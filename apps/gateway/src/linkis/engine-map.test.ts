import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '@sluice/core';
import { DEFAULT_ENGINE_MAP, ENGINE_MAP_SETTING, EngineMap, loadEngineMap } from './engine-map.ts';

function configError(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SluiceError);
    return e;
  }
  assert.fail('expected an error');
}

describe('Linkis engine-type mapping', () => {
  const map = new EngineMap();

  it('maps the default Linkis labels onto Sluice engines', () => {
    assert.deepEqual(map.resolve('duckdb-1.5', 'sql'), { engineType: 'duckdb', codeType: 'sql', pattern: 'duckdb-*' });
    assert.deepEqual(map.resolve('shell-1', 'shell'), { engineType: 'shell', codeType: 'shell', pattern: 'shell-*' });
    assert.equal(map.resolve('shell', 'sh').engineType, 'shell', 'a bare name matches name-*');
    assert.equal(map.resolve('spark-3.4.4', 'sql').engineType, 'spark');
    assert.equal(map.resolve('flink-1.16.2', 'sql').engineType, 'flink');
    assert.equal(map.resolve('duckdb-1.5', 'hql').codeType, 'sql', 'Linkis SQL code types run as sql');
    assert.equal(map.resolve('DuckDB-1.5', 'SQL').codeType, 'sql', 'case-insensitive');
  });

  it('takes the data source of jdbc, trino and presto jobs from runtime or start-up parameters', () => {
    assert.deepEqual(map.resolve('jdbc-4', 'jdbc', { 'linkis.datasource': 'orders_pg' }), {
      engineType: 'jdbc',
      codeType: 'sql',
      dataSource: 'orders_pg',
      pattern: 'jdbc-*',
    });
    assert.equal(map.resolve('trino-435', 'tsql', {}, { 'wds.linkis.datasource': 'lake' }).dataSource, 'lake');
    assert.equal(map.resolve('presto-0.234', 'psql', { 'wds.linkis.engine.runtime.datasource': 'px' }).dataSource, 'px');
    const e = configError(() => map.resolve('jdbc-4', 'sql', { 'jdbc.url': 'jdbc:mysql://x' }));
    assert.equal(e.code, 'SLUICE_REQUEST_INVALID');
    assert.match(e.message, /linkis\.datasource/);
  });

  it('refuses unmapped types with a message naming the setting', () => {
    const e = configError(() => map.resolve('hive-2.3.3', 'hql'));
    assert.equal(e.code, 'SLUICE_JOB_ENGINE_UNKNOWN');
    assert.match(e.message, /hive-2\.3\.3/);
    assert.match(e.message, new RegExp(ENGINE_MAP_SETTING));
    assert.deepEqual(e.details.known, Object.keys(DEFAULT_ENGINE_MAP));
  });

  it('lets the setting add, replace and remove entries, overrides first', () => {
    const custom = loadEngineMap({
      [ENGINE_MAP_SETTING]: JSON.stringify({
        'hive-*': { engine: 'trino', dataSource: 'hive_lake', codeTypes: { hql: 'sql' } },
        'spark-3*': { engine: 'duckdb-1.5' },
        'flink-*': null,
        'jdbc-4': { engine: 'jdbc', dataSource: 'default_pg' },
      }),
    });
    assert.deepEqual(custom.resolve('hive-2.3.3', 'hql'), { engineType: 'trino', codeType: 'sql', dataSource: 'hive_lake', pattern: 'hive-*' });
    assert.equal(custom.resolve('spark-3.4.4', 'sql').engineType, 'duckdb-1.5');
    assert.equal(custom.resolve('spark-2.4.3', 'sql').engineType, 'spark', 'the default still serves other versions');
    assert.equal(configError(() => custom.resolve('flink-1.16.2', 'sql')).code, 'SLUICE_JOB_ENGINE_UNKNOWN');
    assert.equal(custom.resolve('jdbc-4', 'sql').dataSource, 'default_pg', 'an exact key wins');
    assert.equal(custom.patterns[0], 'hive-*');
  });

  it('stops start-up on a bad setting, naming it', () => {
    for (const raw of ['{not json', '[]', '{"spark-*": {"engine": "Spark!"}}', '{"spark-*": {"engin": "spark"}}', '{"sp ark": {"engine": "spark"}}']) {
      const e = configError(() => loadEngineMap({ [ENGINE_MAP_SETTING]: raw }));
      assert.equal(e.code, 'SLUICE_CONFIG_INVALID', raw);
      assert.equal(e.details.setting, ENGINE_MAP_SETTING);
      assert.match(e.message, new RegExp(ENGINE_MAP_SETTING));
    }
    assert.deepEqual(loadEngineMap({}).patterns, Object.keys(DEFAULT_ENGINE_MAP));
    assert.deepEqual(loadEngineMap({ [ENGINE_MAP_SETTING]: '  ' }).patterns, Object.keys(DEFAULT_ENGINE_MAP));
  });
});
