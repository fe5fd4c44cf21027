import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ERROR_CODES, SluiceError, toSluiceError } from '@sluice/core';

const docs = readFileSync(path.resolve(import.meta.dirname, '../../../docs/errors.md'), 'utf8');

test('every registered error code is documented in docs/errors.md', () => {
  const missing = Object.keys(ERROR_CODES).filter((code) => !docs.includes(`\`${code}\``));
  assert.deepEqual(missing, [], 'run npm run generate');
});

test('codes follow SLUICE_<AREA>_<PROBLEM> and user errors are 4xx', () => {
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^SLUICE_[A-Z]+(_[A-Z]+)*$/);
    if (spec.category === 'user' || spec.category === 'auth') assert.ok(spec.status >= 400 && spec.status < 500, code);
  }
});

test('messages are rendered from details and bodies round-trip', () => {
  const e = new SluiceError('SLUICE_JOB_CODE_TOO_LARGE', { size: 10, limit: 5 });
  assert.equal(e.message, 'The code is 10 bytes, more than the limit of 5 bytes');
  assert.equal(e.status, 413);
  assert.equal(e.category, 'user');
  assert.deepEqual(SluiceError.fromBody(e.toBody()).toBody(), e.toBody());
  assert.equal(new SluiceError('SLUICE_ENGINE_CRASHED', { engine: 'duckdb', reason: 'x' }).retryable, true);
  assert.equal(toSluiceError(new Error('boom')).code, 'SLUICE_INTERNAL');
});
