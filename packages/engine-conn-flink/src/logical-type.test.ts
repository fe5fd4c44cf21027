import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeValue, formatLogicalType, type LogicalType } from './logical-type.ts';
import { parseLosslessJson } from './lossless-json.ts';

const t = (type: string, extra: Partial<LogicalType> = {}): LogicalType => ({ type, nullable: true, ...extra });

describe('formatLogicalType', () => {
  it('writes Flink SQL type names', () => {
    assert.equal(formatLogicalType(t('INTEGER')), 'INT');
    assert.equal(formatLogicalType(t('VARCHAR', { length: 2147483647 })), 'STRING');
    assert.equal(formatLogicalType(t('VARCHAR', { length: 10 })), 'VARCHAR(10)');
    assert.equal(formatLogicalType(t('VARBINARY', { length: 2147483647 })), 'BYTES');
    assert.equal(formatLogicalType(t('DECIMAL', { precision: 10, scale: 2 })), 'DECIMAL(10, 2)');
    assert.equal(formatLogicalType(t('TIMESTAMP_WITHOUT_TIME_ZONE', { precision: 3 })), 'TIMESTAMP(3)');
    assert.equal(formatLogicalType(t('TIMESTAMP_WITH_LOCAL_TIME_ZONE', { precision: 6 })), 'TIMESTAMP_LTZ(6)');
    assert.equal(formatLogicalType(t('TIME_WITHOUT_TIME_ZONE', { precision: 0 })), 'TIME(0)');
    assert.equal(formatLogicalType(t('ARRAY', { elementType: t('INTEGER', { nullable: false }) })), 'ARRAY<INT NOT NULL>');
    assert.equal(formatLogicalType(t('MAP', { keyType: t('CHAR', { length: 1, nullable: false }), valueType: t('BIGINT') })), 'MAP<CHAR(1) NOT NULL, BIGINT>');
    assert.equal(
      formatLogicalType(
        t('ROW', {
          fields: [
            { name: 'a`b', fieldType: t('INTEGER') },
            { name: 'c', fieldType: t('BOOLEAN', { nullable: false }) },
          ],
        }),
      ),
      'ROW<`a``b` INT, `c` BOOLEAN NOT NULL>',
    );
    assert.equal(formatLogicalType(t('VARIANT')), 'VARIANT');
  });
});

describe('decodeValue', () => {
  const json = (text: string) => parseLosslessJson(text);

  it('keeps BIGINT and DECIMAL exact as decimal strings, and other numbers as numbers', () => {
    assert.equal(decodeValue(json('9223372036854775807'), t('BIGINT')), '9223372036854775807');
    assert.equal(decodeValue(json('12345678901234567890.12'), t('DECIMAL', { precision: 22, scale: 2 })), '12345678901234567890.12');
    assert.equal(decodeValue(json('1E-7'), t('DECIMAL', { precision: 10, scale: 7 })), '0.0000001');
    assert.equal(decodeValue(json('42'), t('INTEGER')), 42);
    assert.equal(decodeValue(json('1.5'), t('DOUBLE')), 1.5);
    assert.equal(decodeValue(null, t('BIGINT')), null);
  });

  it('decodes nested arrays, maps and rows by their element types', () => {
    const row = t('ROW', {
      fields: [
        { name: 'id', fieldType: t('BIGINT') },
        { name: 'tags', fieldType: t('ARRAY', { elementType: t('BIGINT') }) },
      ],
    });
    assert.deepEqual(decodeValue(json('{"id": 9007199254740993, "tags": [1, 2]}'), row), { id: '9007199254740993', tags: ['1', '2'] });
    assert.deepEqual(decodeValue(json('{"a": 1.25}'), t('MAP', { keyType: t('STRING'), valueType: t('DECIMAL', { precision: 5, scale: 2 }) })), { a: '1.25' });
    assert.deepEqual(decodeValue(json('{"x": 2}'), t('MULTISET', { elementType: t('STRING') })), { x: 2 });
  });

  it('leaves strings (dates, timestamps, base64 binary) as Flink wrote them', () => {
    assert.equal(decodeValue('2024-01-02T03:04:05.123', t('TIMESTAMP_WITHOUT_TIME_ZONE', { precision: 3 })), '2024-01-02T03:04:05.123');
    assert.equal(decodeValue('AQI=', t('VARBINARY', { length: 2147483647 })), 'AQI=');
  });
});
