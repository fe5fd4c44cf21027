import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convertMysqlValue, type MysqlField, planColumn } from './mysql-values.ts';

function field(columnType: number, extra: Partial<MysqlField> = {}): MysqlField {
  return { name: 'c', columnType, flags: 0, decimals: 0, characterSet: 224, encoding: 'utf8', ...extra };
}

describe('MySQL column plans and values', () => {
  it('names types with precision, sign and nullability', () => {
    assert.deepEqual(planColumn(field(0xf6, { columnLength: 14, decimals: 2 })).column, { name: 'c', type: 'DECIMAL(12,2)', nullable: true });
    assert.equal(planColumn(field(0x08, { flags: 1 | 32 })).column.type, 'BIGINT UNSIGNED');
    assert.equal(planColumn(field(0x08, { flags: 1 })).column.nullable, false);
    assert.equal(planColumn(field(0x0c, { decimals: 6 })).column.type, 'DATETIME(6)');
    assert.equal(planColumn(field(0xfc, { characterSet: 63 })).column.type, 'BLOB');
    assert.equal(planColumn(field(0xfc)).column.type, 'TEXT');
    assert.equal(planColumn(field(0xfe, { flags: 256 })).column.type, 'ENUM');
    assert.equal(planColumn(field(0xfc, { extendedFormat: 'json' })).column.type, 'JSON');
    assert.equal(planColumn(field(0xfe, { extendedTypeName: 'uuid' })).column.type, 'UUID');
  });

  it('converts raw bytes exactly', () => {
    const v = (type: number, bytes: Buffer, extra: Partial<MysqlField> = {}) => convertMysqlValue(bytes, planColumn(field(type, extra)));
    assert.equal(v(0x03, Buffer.from('-7')), -7);
    assert.equal(v(0x08, Buffer.from('9007199254740993')), '9007199254740993');
    assert.equal(v(0x0c, Buffer.from('2024-01-01 10:00:00.5')), '2024-01-01T10:00:00.5');
    assert.equal(v(0x0c, Buffer.from('0000-00-00 00:00:00')), '0000-00-00T00:00:00');
    assert.equal(v(0x10, Buffer.from([0x01, 0x00]), { columnLength: 9 }), '256');
    assert.equal(v(0xfd, Buffer.from([0, 1]), { characterSet: 63 }), 'AAE=');
    assert.deepEqual(v(0xf5, Buffer.from('{"a":1}')), { a: 1 });
    assert.equal(convertMysqlValue(null, planColumn(field(0x03))), null);
  });
});
