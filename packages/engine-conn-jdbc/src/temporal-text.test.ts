import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoDate, isoTimestamp, isoTimeTz, normalizeOffset } from './temporal-text.ts';

describe('ISO-8601 text of database dates and times', () => {
  it('reshapes dates, with astronomical years for BC and expanded years past 9999', () => {
    assert.equal(isoDate('2024-02-29'), '2024-02-29');
    assert.equal(isoDate('0001-01-01 BC'), '0000-01-01');
    assert.equal(isoDate('0044-03-15 BC'), '-000043-03-15');
    assert.equal(isoDate('12345-01-01'), '+012345-01-01');
    assert.equal(isoDate('infinity'), 'infinity');
  });

  it('puts a T in timestamps and makes offsets +HH:MM', () => {
    assert.equal(isoTimestamp('2024-01-01 00:00:00'), '2024-01-01T00:00:00');
    assert.equal(isoTimestamp('2024-01-01 00:00:00.000001+05:30'), '2024-01-01T00:00:00.000001+05:30');
    assert.equal(isoTimestamp('2024-01-01 00:00:00-08'), '2024-01-01T00:00:00-08:00');
    assert.equal(isoTimestamp('1900-01-01 00:00:00+01:53:28'), '1900-01-01T00:00:00+01:53:28');
    assert.equal(isoTimestamp('-infinity'), '-infinity');
    assert.equal(isoTimeTz('10:00:00+01'), '10:00:00+01:00');
    assert.equal(normalizeOffset('-03:30'), '-03:30');
  });
});
