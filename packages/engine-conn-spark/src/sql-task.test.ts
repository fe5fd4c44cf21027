import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '@sluice/core';
import { stageProgress, taskConf, taskTag } from './sql-task.ts';

describe('sql task helpers', () => {
  it('computes progress from stage reports: completed tasks over known tasks, done stages complete', () => {
    assert.equal(stageProgress(undefined), 0);
    assert.equal(stageProgress({ stages: [] }), 0);
    assert.equal(stageProgress({ stages: [{ num_tasks: '4', num_completed_tasks: '1' }] }), 0.25);
    assert.equal(
      stageProgress({
        stages: [{ num_tasks: '2', done: true }, { num_tasks: '2', num_completed_tasks: '1' }, { num_tasks: '4' }],
      }),
      3 / 8,
    );
  });

  it('checks runtimeParams.conf like start-up conf', () => {
    assert.deepEqual(taskConf({}), {});
    assert.deepEqual(taskConf({ conf: { 'spark.sql.shuffle.partitions': 3, 'spark.sql.ansi.enabled': false } }), {
      'spark.sql.shuffle.partitions': '3',
      'spark.sql.ansi.enabled': 'false',
    });
    assert.throws(() => taskConf({ conf: 'x' }), SluiceError);
    assert.throws(() => taskConf({ conf: { 'spark.sql.x': { nested: 1 } } }), /must be a string/);
    assert.throws(() => taskConf({ conf: { 'spark.master': 'yarn' } }), /may not be set/);
  });

  it('makes tags Spark accepts (no commas)', () => {
    assert.equal(taskTag('job,1.0'), 'sluice-job_1.0');
    assert.ok(taskTag('x'.repeat(500)).length <= 127);
  });
});
