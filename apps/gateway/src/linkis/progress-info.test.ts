import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settleProgressInfo, toLinkisProgressInfo } from './progress-info.ts';

describe('toLinkisProgressInfo', () => {
  it('maps Trino splits onto tasks', () => {
    assert.deepEqual(toLinkisProgressInfo('7', 0.4, { queryId: 'q1', state: 'RUNNING', completedSplits: 4, totalSplits: 10 }), [
      { id: 'q1', succeedTasks: 4, failedTasks: 0, runningTasks: 6, totalTasks: 10 },
    ]);
    assert.deepEqual(toLinkisProgressInfo('7', 0.4, { queryId: 'q1', state: 'FAILED', completedSplits: 4, totalSplits: 10 }), [
      { id: 'q1', succeedTasks: 4, failedTasks: 6, runningTasks: 0, totalTasks: 10 },
    ]);
  });

  it('maps Flink tasks', () => {
    assert.deepEqual(toLinkisProgressInfo('7', 0.5, { flinkJobId: 'f1', flinkJobState: 'RUNNING', tasksFinished: 1, tasksTotal: 3 }), [
      { id: 'f1', succeedTasks: 1, failedTasks: 0, runningTasks: 2, totalTasks: 3 },
    ]);
  });

  it('counts statements of a script as tasks, done ones from the overall progress', () => {
    assert.deepEqual(toLinkisProgressInfo('7', 0.5, { statement: 2, statements: 4 }), [
      { id: '7', succeedTasks: 2, failedTasks: 0, runningTasks: 1, totalTasks: 4 },
    ]);
    assert.deepEqual(toLinkisProgressInfo('7', 1, { statement: 4, statements: 4, operationId: 'op' }), [
      { id: 'op', succeedTasks: 4, failedTasks: 0, runningTasks: 0, totalTasks: 4 },
    ]);
    // Spark: a third of the way through the first of three statements.
    assert.deepEqual(toLinkisProgressInfo('7', 0.1, { operationId: 'op', statement: 1, statements: 3, inflightTasks: 5 })[0]?.succeedTasks, 0);
  });

  it('gives nothing for unknown shapes or no tasks', () => {
    assert.deepEqual(toLinkisProgressInfo('7', 0.5, undefined), []);
    assert.deepEqual(toLinkisProgressInfo('7', 0.5, { something: 1 }), []);
    assert.deepEqual(toLinkisProgressInfo('7', 0, { queryId: 'q', totalSplits: 0, completedSplits: 0 }), []);
  });

  it('settles the detail of an ended job', () => {
    const running = [{ id: 'q', succeedTasks: 3, failedTasks: 0, runningTasks: 1, totalTasks: 4 }];
    assert.deepEqual(settleProgressInfo(running, 'Running'), running);
    assert.deepEqual(settleProgressInfo(running, 'Succeed'), [{ id: 'q', succeedTasks: 4, failedTasks: 0, runningTasks: 0, totalTasks: 4 }]);
    assert.deepEqual(settleProgressInfo(running, 'Cancelled'), [{ id: 'q', succeedTasks: 3, failedTasks: 0, runningTasks: 0, totalTasks: 4 }]);
  });
});
