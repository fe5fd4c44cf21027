import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  addDays,
  addMonths,
  addSeconds,
  addYears,
  civilFromDays,
  dayOfWeek,
  dayOfYear,
  daysFromCivil,
  daysInMonth,
  formatHour,
  isLeapYear,
  parseCompactDate,
  parseCompactHour,
  periodBegin,
  periodEnd,
  zonedDateTime,
} from './calendar.ts';

const ymd = (year: number, month: number, day: number) => ({ year, month, day });

describe('calendar', () => {
  test('leap years follow the Gregorian rules', () => {
    assert.deepEqual([1900, 2000, 2023, 2024, 2100, 2400].map(isLeapYear), [false, true, false, true, false, true]);
    assert.equal(daysInMonth(2024, 2), 29);
    assert.equal(daysInMonth(2100, 2), 28);
    assert.equal(daysInMonth(2026, 4), 30);
    assert.equal(daysInMonth(2026, 12), 31);
  });

  test('day numbers round-trip and agree with Date.UTC', () => {
    for (const d of [ymd(1970, 1, 1), ymd(2024, 2, 29), ymd(1, 1, 1), ymd(9999, 12, 31), ymd(1600, 3, 1)]) {
      assert.deepEqual(civilFromDays(daysFromCivil(d)), d);
    }
    assert.equal(daysFromCivil(ymd(2026, 11, 20)), Date.UTC(2026, 10, 20) / 86_400_000);
    assert.equal(daysFromCivil(ymd(1969, 12, 31)), -1);
  });

  test('adding days, months and years', () => {
    assert.deepEqual(addDays(ymd(2024, 2, 28), 1), ymd(2024, 2, 29));
    assert.deepEqual(addDays(ymd(2026, 12, 31), 1), ymd(2027, 1, 1));
    assert.deepEqual(addMonths(ymd(2026, 3, 31), -1), ymd(2026, 2, 28));
    assert.deepEqual(addMonths(ymd(2024, 1, 31), 1), ymd(2024, 2, 29));
    assert.deepEqual(addMonths(ymd(2026, 1, 15), -13), ymd(2024, 12, 15));
    assert.deepEqual(addYears(ymd(2024, 2, 29), 1), ymd(2025, 2, 28));
  });

  test('quarter and half-year periods', () => {
    assert.deepEqual(periodBegin(ymd(2026, 11, 20), 3), ymd(2026, 10, 1));
    assert.deepEqual(periodEnd(ymd(2026, 2, 3), 3), ymd(2026, 3, 31));
    assert.deepEqual(periodEnd(ymd(2026, 5, 3), 3), ymd(2026, 6, 30));
    assert.deepEqual(periodBegin(ymd(2026, 6, 30), 6), ymd(2026, 1, 1));
    assert.deepEqual(periodEnd(ymd(2026, 7, 1), 6), ymd(2026, 12, 31));
    assert.deepEqual(periodEnd(ymd(2024, 2, 1), 12), ymd(2024, 12, 31));
  });

  test('day of week and day of year', () => {
    assert.equal(dayOfWeek(ymd(2026, 11, 20)), 5);
    assert.equal(dayOfWeek(ymd(1970, 1, 1)), 4);
    assert.equal(dayOfWeek(ymd(1969, 12, 28)), 7);
    assert.equal(dayOfYear(ymd(2024, 12, 31)), 366);
    assert.equal(dayOfYear(ymd(2026, 11, 20)), 324);
  });

  test('wall-clock seconds wrap days both ways', () => {
    const t = { ...ymd(2026, 11, 20), hour: 23, minute: 30, second: 0, millisecond: 5 };
    assert.deepEqual(addSeconds(t, 3600), { ...ymd(2026, 11, 21), hour: 0, minute: 30, second: 0, millisecond: 5 });
    assert.deepEqual(addSeconds(t, -24 * 3600 - 1), { ...ymd(2026, 11, 19), hour: 23, minute: 29, second: 59, millisecond: 5 });
  });

  test('strict parsing', () => {
    assert.deepEqual(parseCompactDate('20240229'), ymd(2024, 2, 29));
    for (const bad of ['20230229', '20261301', '20261100', '2026-1-1', ' 20261120', '00000101']) assert.equal(parseCompactDate(bad), undefined, bad);
    assert.deepEqual(parseCompactHour('2026112023'), { date: ymd(2026, 11, 20), hour: 23 });
    assert.equal(parseCompactHour('2026112024'), undefined);
    assert.equal(formatHour(ymd(2026, 1, 2), 3, true), '2026-01-02 03');
  });

  test('zonedDateTime reads the wall clock of a zone, daylight saving included', () => {
    const summer = new Date('2026-07-01T12:00:00.250Z');
    assert.deepEqual(zonedDateTime(summer, 'Europe/Berlin'), { ...ymd(2026, 7, 1), hour: 14, minute: 0, second: 0, millisecond: 250 });
    assert.equal(zonedDateTime(new Date('2026-01-01T12:00:00Z'), 'Europe/Berlin').hour, 13);
    assert.equal(zonedDateTime(new Date('2026-11-20T23:59:59Z'), 'UTC').hour, 23);
    assert.deepEqual(zonedDateTime(new Date('2026-11-20T16:00:00Z'), 'Asia/Shanghai'), { ...ymd(2026, 11, 21), hour: 0, minute: 0, second: 0, millisecond: 0 });
  });
});
