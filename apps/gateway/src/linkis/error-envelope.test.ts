import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CODES, SluiceError } from '@sluice/core';
import { linkisErrorMessage, NO_LOGIN_MESSAGE } from './error-envelope.ts';
import { LINKIS_ERROR_NUMBERS, LINKIS_UNKNOWN_ERROR_NUMBER, linkisErrorNumber } from './linkis-error-codes.ts';

describe('Sluice errors as Linkis envelopes', () => {
  it('makes a user error status 1 with the Linkis message form and the Sluice code in data', () => {
    const m = linkisErrorMessage('/api/jobhistory/9/get', new SluiceError('SLUICE_JOB_NOT_FOUND', { jobId: '9' }));
    assert.equal(m.status, 1);
    assert.equal(m.method, '/api/jobhistory/9/get');
    assert.equal(m.message, 'error code(错误码): 60008, error message(错误信息): SLUICE_JOB_NOT_FOUND: Job 9 does not exist.');
    assert.equal(m.data.code, 'SLUICE_JOB_NOT_FOUND');
    assert.deepEqual(m.data.details, { jobId: '9' });
    assert.deepEqual(m.data.errorMsg, { level: 2, errCode: 60008, desc: 'Job 9 does not exist', serviceKind: 'sluice-gateway' });
  });

  it('makes a missing or invalid login status -1 with Linkis no-login text', () => {
    const missing = linkisErrorMessage(null, new SluiceError('SLUICE_AUTH_MISSING', {}));
    assert.equal(missing.status, -1);
    assert.equal(missing.message, NO_LOGIN_MESSAGE);
    const invalid = linkisErrorMessage(null, new SluiceError('SLUICE_AUTH_INVALID', { reason: 'x' }, 'Token Authentication Failed'));
    assert.equal(invalid.status, -1);
    assert.equal(invalid.message, 'Token Authentication Failed');
  });

  it('keeps the Linkis number a translation error carries', () => {
    const m = linkisErrorMessage(null, new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'x', linkisErrCode: 20007 }));
    assert.equal((m.data.errorMsg as { errCode: number }).errCode, 20007);
    assert.match(m.message, /^error code\(错误码\): 20007,/);
  });

  it('hides the text of internal errors behind the request id', () => {
    const m = linkisErrorMessage('/api/x', new Error('password=hunter2 leaked'), 'req-1');
    assert.equal(m.status, 1);
    assert.doesNotMatch(JSON.stringify(m), /hunter2/);
    assert.match(m.message, /req-1/);
    assert.equal(m.data.code, 'SLUICE_INTERNAL');
  });

  it('gives every Sluice code a distinct number and unknown codes the fallback', () => {
    const numbers = Object.values(LINKIS_ERROR_NUMBERS);
    assert.equal(new Set(numbers).size, numbers.length);
    for (const code of Object.keys(LINKIS_ERROR_NUMBERS)) assert.ok(code in ERROR_CODES, `${code} is a Sluice code`);
    assert.equal(linkisErrorNumber('SLUICE_NOT_A_CODE'), LINKIS_UNKNOWN_ERROR_NUMBER);
  });
});
