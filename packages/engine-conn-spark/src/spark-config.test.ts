import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, type SluiceError } from '@sluice/core';
import { sparkOptionsFromConfig } from './spark-config.ts';

describe('SLUICE_SPARK_* settings', () => {
  it('have defaults in the schema that make a local-mode, per-user connector', () => {
    const o = sparkOptionsFromConfig(loadConfig({}));
    assert.equal(o.sparkHome, undefined);
    assert.equal(o.defaultMaster, 'local[2]');
    assert.equal(o.defaultDriverMemory, '1g');
    assert.deepEqual(o.quota, { maxDriverMemoryMb: 4096, maxDriverCores: 4, maxExecutorMemoryMb: 8192, maxExecutorCores: 4, maxExecutors: 20 });
    assert.deepEqual(o.conf, {});
    assert.equal(o.ui, false);
    assert.equal(o.shareLevel, 'USER');
    assert.equal(o.serviceUser, 'sluice');
    assert.equal(o.launchTimeoutMs, 180_000);
    assert.deepEqual(o.batchFileRoots, []);
  });

  it('are read from the environment through the one configuration schema', () => {
    const o = sparkOptionsFromConfig(
      loadConfig({
        SLUICE_SPARK_HOME: '/opt/spark',
        SLUICE_SPARK_JAVA_HOME: '/usr/lib/jvm/java-17',
        SLUICE_SPARK_MASTER: 'spark://127.0.0.1:7077',
        SLUICE_SPARK_MAX_EXECUTORS: '3',
        SLUICE_SPARK_CONF: '{"spark.sql.shuffle.partitions":"8"}',
        SLUICE_SPARK_UI: 'true',
        SLUICE_SPARK_BATCH_FILE_ROOTS: '/srv/a, /srv/b',
        SLUICE_SPARK_SHARE_LEVEL: 'SERVER',
        SLUICE_SPARK_LAUNCH_TIMEOUT_SECONDS: '30',
      }),
    );
    assert.equal(o.sparkHome, '/opt/spark');
    assert.equal(o.javaHome, '/usr/lib/jvm/java-17');
    assert.equal(o.defaultMaster, 'spark://127.0.0.1:7077');
    assert.equal(o.quota?.maxExecutors, 3);
    assert.deepEqual(o.conf, { 'spark.sql.shuffle.partitions': '8' });
    assert.equal(o.ui, true);
    assert.deepEqual(o.batchFileRoots, ['/srv/a', '/srv/b']);
    assert.equal(o.shareLevel, 'SERVER');
    assert.equal(o.launchTimeoutMs, 30_000);
  });

  for (const [setting, value] of [
    ['SLUICE_SPARK_CONF', '["spark.a"]'],
    ['SLUICE_SPARK_CONF', '{"spark.sql.shuffle.partitions":8}'],
    ['SLUICE_SPARK_CONF', '{not json'],
    ['SLUICE_SPARK_SHARE_LEVEL', 'CLUSTER'],
    ['SLUICE_SPARK_MASTER', 'mesos://h:5050'],
    ['SLUICE_SPARK_DRIVER_MEMORY', 'lots'],
    ['SLUICE_SPARK_UI', 'yes'],
    ['SLUICE_SPARK_MAX_DRIVER_MEMORY_MB', '100'],
    ['SLUICE_SPARK_SERVICE_USER', 'a b'],
  ] as const) {
    it(`stop start-up on ${setting}=${value}, naming the setting`, () => {
      assert.throws(
        () => loadConfig({ [setting]: value }),
        (e: SluiceError) => e.code === 'SLUICE_CONFIG_INVALID' && e.details.setting === setting,
      );
    });
  }
});
