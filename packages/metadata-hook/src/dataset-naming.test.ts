import assert from 'node:assert/strict';
import { it } from 'node:test';
import { fileDataset, flinkConnectorDataset, qualifyTableName } from './dataset-naming.ts';

it('fills missing name parts per dialect', () => {
  assert.equal(qualifyTableName(['t'], 'trino', { catalog: 'hive', schema: 's' }), 'hive.s.t');
  assert.equal(qualifyTableName(['t'], 'trino', {}), 't');
  assert.equal(qualifyTableName(['t'], 'postgres', { catalog: 'db' }), 'db.public.t');
  assert.equal(qualifyTableName(['s', 't'], 'duckdb', {}), 'memory.s.t');
  assert.equal(qualifyTableName(['t'], 'mysql', { schema: 'shop' }), 'shop.t');
  assert.equal(qualifyTableName(['t'], 'hive', {}), 'default.t');
  assert.equal(qualifyTableName(['c', 'd', 't'], 'spark', {}), 'c.d.t');
  assert.equal(qualifyTableName(['t'], 'flink', {}), 'default_catalog.default_database.t');
});

it('names files and connector tables as the OpenLineage naming spec does', () => {
  assert.deepEqual(fileDataset('s3://bucket/a/b.parquet'), { namespace: 's3://bucket', name: 'a/b.parquet' });
  assert.deepEqual(fileDataset('hdfs://nn:8020/warehouse/t'), { namespace: 'hdfs://nn:8020', name: '/warehouse/t' });
  assert.deepEqual(fileDataset('/tmp/x.csv'), { namespace: 'file', name: '/tmp/x.csv' });
  assert.deepEqual(flinkConnectorDataset({ connector: 'kafka', topic: 'o', 'properties.bootstrap.servers': 'k1:9092,k2:9092' }), {
    namespace: 'kafka://k1:9092',
    name: 'o',
  });
  assert.deepEqual(flinkConnectorDataset({ connector: 'jdbc', url: 'jdbc:mysql://m:3306/shop', 'table-name': 'orders' }), {
    namespace: 'mysql://m:3306',
    name: 'shop.orders',
  });
  assert.equal(flinkConnectorDataset({ connector: 'datagen' }), undefined);
});
