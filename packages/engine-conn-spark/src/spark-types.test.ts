import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DataType } from './generated/spark-connect.ts';
import { columnsOf, sparkTypeName } from './spark-types.ts';

describe('spark type names', () => {
  it('names simple and parameterised types as Spark SQL does', () => {
    assert.equal(sparkTypeName({ kind: 'long', long: {} }), 'bigint');
    assert.equal(sparkTypeName({ kind: 'integer' }), 'int');
    assert.equal(sparkTypeName({ kind: 'decimal', decimal: { precision: 38, scale: 4 } }), 'decimal(38,4)');
    assert.equal(sparkTypeName({ kind: 'var_char', var_char: { length: 5 } }), 'varchar(5)');
    assert.equal(sparkTypeName({ kind: 'day_time_interval', day_time_interval: { start_field: 0, end_field: 3 } }), 'interval day to second');
    assert.equal(sparkTypeName({ kind: 'year_month_interval', year_month_interval: { start_field: 0, end_field: 0 } }), 'interval year');
    assert.equal(sparkTypeName(undefined), 'unknown');
  });

  it('names nested types', () => {
    const t: DataType = {
      kind: 'struct',
      struct: {
        fields: [
          { name: 'a', data_type: { kind: 'array', array: { element_type: { kind: 'string' } } } },
          { name: 'm', data_type: { kind: 'map', map: { key_type: { kind: 'string' }, value_type: { kind: 'double' } } } },
        ],
      },
    };
    assert.equal(sparkTypeName(t), 'struct<a:array<string>,m:map<string,double>>');
    assert.deepEqual(columnsOf(t), [
      { name: 'a', type: 'array<string>', nullable: false },
      { name: 'm', type: 'map<string,double>', nullable: false },
    ]);
  });
});
