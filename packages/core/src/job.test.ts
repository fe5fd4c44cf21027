import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALLOWED_TRANSITIONS, isFinalState, JOB_STATES, parseEngineType, parseUserCreator, SluiceError } from '@sluice/core';

test('engineType labels parse as name-version, or name alone for the default version', () => {
  assert.deepEqual(parseEngineType('duckdb-1.5'), { name: 'duckdb', version: '1.5' });
  assert.deepEqual(parseEngineType('spark-3.4.1'), { name: 'spark', version: '3.4.1' });
  assert.deepEqual(parseEngineType('trino-4xx'), { name: 'trino', version: '4xx' });
  assert.deepEqual(parseEngineType('DuckDB'), { name: 'duckdb' });
  assert.throws(
    () => parseEngineType('-1.5'),
    (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_JOB_LABEL_INVALID',
  );
  assert.throws(() => parseEngineType('duck db'), SluiceError);
});

test('userCreator splits on the last dash', () => {
  assert.deepEqual(parseUserCreator('alice-IDE'), { user: 'alice', creator: 'IDE' });
  assert.deepEqual(parseUserCreator('data-team-scheduler'), { user: 'data-team', creator: 'scheduler' });
  assert.throws(() => parseUserCreator('alice'), SluiceError);
});

test('final states have no way out and every other state can be cancelled', () => {
  for (const s of JOB_STATES) {
    if (isFinalState(s)) assert.equal(ALLOWED_TRANSITIONS[s].length, 0, s);
    else assert.ok(ALLOWED_TRANSITIONS[s].includes('Cancelled'), `${s} must allow Cancelled`);
  }
});
