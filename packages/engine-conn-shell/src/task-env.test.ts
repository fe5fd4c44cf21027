import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '@sluice/core';
import { buildTaskEnv, taskTimeoutSeconds } from './task-env.ts';

const base = { PATH: '/bin', HOME: '/w', LANG: 'C.UTF-8' };

describe('task environment', () => {
  it('adds string entries of runtimeParams.env and the task id, nothing else', () => {
    assert.deepEqual(buildTaskEnv(base, 't1', { A: 'x', N: 1, B: 'y', SLUICE_TASK_ID: 'other' }), { ...base, A: 'x', B: 'y', SLUICE_TASK_ID: 't1' });
    assert.deepEqual(buildTaskEnv(base, 't1', undefined), { ...base, SLUICE_TASK_ID: 't1' });
  });

  it('refuses invalid names and a non-object env', () => {
    assert.throws(
      () => buildTaskEnv(base, 't', { 'BAD=NAME': 'x' }),
      (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_REQUEST_INVALID',
    );
    assert.throws(() => buildTaskEnv(base, 't', 'A=1'), SluiceError);
    assert.throws(() => buildTaskEnv(base, 't', ['A']), SluiceError);
  });

  it('takes the time limit from runtimeParams, else the default', () => {
    assert.equal(taskTimeoutSeconds(undefined, 3600), 3600);
    assert.equal(taskTimeoutSeconds(5, 3600), 5);
    assert.equal(taskTimeoutSeconds('7', 3600), 7);
    assert.throws(() => taskTimeoutSeconds(0, 3600), SluiceError);
    assert.throws(() => taskTimeoutSeconds('soon', 3600), SluiceError);
  });
});
