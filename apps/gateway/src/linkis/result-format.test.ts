import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cellText, linkisDataType, linkisMetadata } from './result-format.ts';

describe('result sets in Linkis form', () => {
  it('names column types with Linkis data type names', () => {
    const cases: [string, string][] = [
      ['BOOLEAN', 'boolean'],
      ['TINYINT', 'tinyint'],
      ['SMALLINT', 'short'],
      ['INTEGER', 'int'],
      ['BIGINT', 'bigint'],
      ['HUGEINT', 'decimal'],
      ['REAL', 'float'],
      ['DOUBLE', 'double'],
      ['double precision', 'double'],
      ['DECIMAL(18,2)', 'decimal'],
      ['NUMERIC', 'decimal'],
      ['VARCHAR', 'string'],
      ['CHARACTER VARYING(10)', 'string'],
      ['CHAR(3)', 'char'],
      ['DATE', 'date'],
      ['TIMESTAMP WITH TIME ZONE', 'timestamp'],
      ['TIME', 'string'],
      ['BLOB', 'binary'],
      ['INTEGER[]', 'array'],
      ['MAP(VARCHAR, INTEGER)', 'map'],
      ['STRUCT(a INTEGER)', 'struct'],
      ['UUID', 'string'],
    ];
    for (const [sql, linkis] of cases) assert.equal(linkisDataType(sql), linkis, sql);
    assert.deepEqual(linkisMetadata([{ name: 'n', type: 'BIGINT' }]), [{ columnName: 'n', comment: 'NULL', dataType: 'bigint' }]);
  });

  it('sends cells as text, nulls as Linkis does', () => {
    assert.equal(cellText(null), 'NULL');
    assert.equal(cellText(undefined, 'LINKIS_NULL'), 'NULL');
    assert.equal(cellText(null, 'BLANK'), '');
    assert.equal(cellText(null, 'N/A'), 'N/A');
    assert.equal(cellText('12345678901234567890'), '12345678901234567890');
    assert.equal(cellText(1.5), '1.5');
    assert.equal(cellText(false), 'false');
    assert.equal(cellText([1, 2]), '[1,2]');
    assert.equal(cellText({ a: 'b' }), '{"a":"b"}');
  });
});
