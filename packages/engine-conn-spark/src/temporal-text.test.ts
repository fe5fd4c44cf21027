import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dateText, dayTimeIntervalText, timestampText, yearMonthIntervalText } from './temporal-text.ts';

describe('temporal text', () => {
  it('formats dates across eras', () => {
    assert.equal(dateText(0), '1970-01-01');
    assert.equal(dateText(19_724), '2024-01-02');
    assert.equal(dateText(-1), '1969-12-31');
    assert.equal(dateText(-719_528), '0000-01-01');
    assert.equal(dateText(2_932_896), '9999-12-31');
    assert.equal(dateText(2_932_897), '+010000-01-01');
  });

  it('formats timestamps to the microsecond, with Z for instants', () => {
    assert.equal(timestampText(1_704_164_645_123_456n, true), '2024-01-02T03:04:05.123456Z');
    assert.equal(timestampText(1_704_164_645_000_000n, false), '2024-01-02T03:04:05');
    assert.equal(timestampText(1_704_164_645_100_000n, false), '2024-01-02T03:04:05.1');
    assert.equal(timestampText(-1n, true), '1969-12-31T23:59:59.999999Z');
  });

  it('formats intervals as ISO-8601 durations', () => {
    assert.equal(dayTimeIntervalText(86_400_000_000n), 'P1D');
    assert.equal(dayTimeIntervalText(93_784_500_000n), 'P1DT2H3M4.5S');
    assert.equal(dayTimeIntervalText(-1_000_000n), '-PT1S');
    assert.equal(dayTimeIntervalText(0n), 'PT0S');
    assert.equal(yearMonthIntervalText(14), 'P1Y2M');
    assert.equal(yearMonthIntervalText(24), 'P2Y');
    assert.equal(yearMonthIntervalText(-3), '-P3M');
    assert.equal(yearMonthIntervalText(0), 'P0M');
  });
});
