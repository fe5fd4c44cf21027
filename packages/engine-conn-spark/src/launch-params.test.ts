import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '@sluice/core';
import { checkConf, DEFAULT_SPARK_QUOTA, isAllowedConfKey, isLocalMaster, memoryMb, resolveDriverSettings } from './launch-params.ts';

const base = { quota: DEFAULT_SPARK_QUOTA, defaultMaster: 'local[2]', defaultDriverMemory: '1g' };

function refusal(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_REQUEST_INVALID');
    assert.equal(err.category, 'user');
    return err;
  }
  assert.fail('expected SLUICE_REQUEST_INVALID');
}

describe('spark launch params', () => {
  it('parses memory sizes', () => {
    assert.equal(memoryMb('512m'), 512);
    assert.equal(memoryMb('2g'), 2048);
    assert.equal(memoryMb('2048'), 2048);
    assert.equal(memoryMb('1t'), 1024 * 1024);
    assert.equal(memoryMb('1.5g'), undefined);
    assert.equal(memoryMb('lots'), undefined);
  });

  it('applies defaults: the default master, memory and local thread count', () => {
    const s = resolveDriverSettings({}, base);
    assert.deepEqual(s, { master: 'local[2]', local: true, driverMemory: '1g', driverCores: 2, submitArgs: [], conf: {} });
  });

  it('driverCores sets the thread count of a local master', () => {
    assert.equal(resolveDriverSettings({ driverCores: 3 }, base).master, 'local[3]');
  });

  it('passes executor settings to spark-submit for a cluster master from the data source', () => {
    const s = resolveDriverSettings({ executorMemory: '2g', executorCores: 2, numExecutors: 3, queue: 'etl', driverMemory: '2g' }, { ...base, master: 'yarn' });
    assert.equal(s.master, 'yarn');
    assert.equal(s.local, false);
    assert.deepEqual(s.submitArgs, ['--executor-memory', '2g', '--executor-cores', '2', '--num-executors', '3', '--queue', 'etl', '--driver-cores', '1']);
  });

  it('refuses params over the quota, naming the cap', () => {
    assert.match(refusal(() => resolveDriverSettings({ driverMemory: '64g' }, base)).message, /driverMemory 64g is more than the quota of 4096m/);
    assert.match(refusal(() => resolveDriverSettings({ driverCores: 64 }, base)).message, /driverCores 64/);
    assert.match(refusal(() => resolveDriverSettings({ numExecutors: 1000 }, base)).message, /numExecutors 1000/);
    assert.match(refusal(() => resolveDriverSettings({ executorMemory: '100g' }, base)).message, /executorMemory/);
    assert.match(refusal(() => resolveDriverSettings({ executorCores: 99 }, base)).message, /executorCores/);
    assert.match(refusal(() => resolveDriverSettings({ driverMemory: '100m' }, base)).message, /less than 256m/);
  });

  it('refuses unknown keys and malformed values', () => {
    assert.match(refusal(() => resolveDriverSettings({ master: 'yarn' }, base)).message, /Unrecognized key/i);
    assert.match(refusal(() => resolveDriverSettings({ driverMemory: 'huge' }, base)).message, /512m or 2g/);
    refusal(() => resolveDriverSettings({ driverCores: -1 }, base));
  });

  it('accepts SQL and tuning conf, refuses launch, network, class-path and file settings', () => {
    const s = resolveDriverSettings({ conf: { 'spark.sql.shuffle.partitions': 8, 'spark.sql.ansi.enabled': false } }, base);
    assert.deepEqual(s.conf, { 'spark.sql.shuffle.partitions': '8', 'spark.sql.ansi.enabled': 'false' });
    for (const key of [
      'spark.master',
      'spark.driver.extraJavaOptions',
      'spark.executor.extraClassPath',
      'spark.jars',
      'spark.connect.grpc.binding.port',
      'spark.ui.enabled',
      'spark.sql.warehouse.dir',
      'spark.plugins',
    ]) {
      assert.equal(isAllowedConfKey(key), false, key);
      refusal(() => resolveDriverSettings({ conf: { [key]: 'x' } }, base));
    }
  });

  it('merges the data source conf under the job conf, and checks conf maps', () => {
    const s = resolveDriverSettings(
      { conf: { 'spark.sql.shuffle.partitions': '8' } },
      { ...base, dataSourceConf: { 'spark.sql.shuffle.partitions': '2', 'spark.sql.ansi.enabled': 'true' } },
    );
    assert.deepEqual(s.conf, { 'spark.sql.shuffle.partitions': '8', 'spark.sql.ansi.enabled': 'true' });
    assert.deepEqual(checkConf({ 'spark.sql.x': '1' }, 'test'), { 'spark.sql.x': '1' });
    assert.match(refusal(() => checkConf({ 'spark.driver.memory': '9g' }, 'runtime')).message, /spark.driver.memory may not be set/);
  });

  it('tells local masters from cluster masters', () => {
    for (const m of ['local', 'local[2]', 'local[*]', 'local[2,3]']) assert.equal(isLocalMaster(m), true, m);
    for (const m of ['yarn', 'spark://h:7077', 'k8s://https://h', 'local-cluster[2,1,1024]']) assert.equal(isLocalMaster(m), false, m);
  });
});
