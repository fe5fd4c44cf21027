import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { columnType, formatType, type TypeSignature } from './type-signature.ts';

const long = (value: number) => ({ kind: 'LONG', value });
const type = (sig: TypeSignature) => ({ kind: 'TYPE', value: sig });

describe('formatType', () => {
  it('names scalar types with their parameters, in upper case', () => {
    assert.equal(formatType({ rawType: 'bigint', arguments: [] }), 'BIGINT');
    assert.equal(formatType({ rawType: 'decimal', arguments: [long(12), long(2)] }), 'DECIMAL(12,2)');
    assert.equal(formatType({ rawType: 'varchar', arguments: [long(25)] }), 'VARCHAR(25)');
    assert.equal(formatType({ rawType: 'varchar', arguments: [long(2147483647)] }), 'VARCHAR');
    assert.equal(formatType({ rawType: 'timestamp', arguments: [long(6)] }), 'TIMESTAMP(6)');
    assert.equal(formatType({ rawType: 'timestamp with time zone', arguments: [long(3)] }), 'TIMESTAMP(3) WITH TIME ZONE');
    assert.equal(formatType({ rawType: 'interval day to second', arguments: [] }), 'INTERVAL DAY TO SECOND');
  });

  it('names nested types, row fields included', () => {
    const row: TypeSignature = {
      rawType: 'row',
      arguments: [
        { kind: 'NAMED_TYPE', value: { fieldName: { name: 'id', delimited: false }, typeSignature: { rawType: 'bigint' } } },
        { kind: 'NAMED_TYPE', value: { fieldName: { name: 'My Field', delimited: true }, typeSignature: { rawType: 'varchar', arguments: [long(3)] } } },
      ],
    };
    assert.equal(formatType({ rawType: 'array', arguments: [type(row)] }), 'ARRAY(ROW(id BIGINT, "My Field" VARCHAR(3)))');
    assert.equal(
      formatType({ rawType: 'map', arguments: [type({ rawType: 'varchar', arguments: [long(1)] }), type({ rawType: 'double' })] }),
      'MAP(VARCHAR(1), DOUBLE)',
    );
    assert.equal(formatType({ rawType: 'row', arguments: [{ kind: 'NAMED_TYPE', value: { typeSignature: { rawType: 'integer' } } }] }), 'ROW(INTEGER)');
  });

  it('reads PrestoDB argument kinds, and falls back to the display type without a signature', () => {
    assert.equal(
      formatType({
        rawType: 'decimal',
        arguments: [
          { kind: 'LONG_LITERAL', value: 10 },
          { kind: 'LONG_LITERAL', value: 0 },
        ],
      }),
      'DECIMAL(10,0)',
    );
    assert.equal(formatType({ rawType: 'array', arguments: [{ kind: 'TYPE_SIGNATURE', value: { rawType: 'bigint' } }] }), 'ARRAY(BIGINT)');
    assert.equal(columnType({ name: 'x', type: 'decimal(5,1)' }), 'DECIMAL(5,1)');
  });
});
