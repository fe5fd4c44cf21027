import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logPath, parseLogPath, parseResultPath, resultLocation, resultSetPath } from './result-paths.ts';

describe('result and log paths', () => {
  it('round-trips result locations and result-set entries', () => {
    assert.equal(resultLocation('alice', '12'), 'file:///sluice/result/alice/12');
    assert.deepEqual(parseResultPath(resultLocation('alice', '12')), { taskId: '12' });
    assert.deepEqual(parseResultPath(`${resultLocation('alice', '12')}/`), { taskId: '12' });
    assert.deepEqual(parseResultPath(resultSetPath('alice', '12', 3)), { taskId: '12', index: 3 });
    assert.deepEqual(parseResultPath('/sluice/result/alice/12/_0.dolphin'), { taskId: '12', index: 0 }, 'without the scheme');
  });

  it('round-trips log paths', () => {
    assert.equal(logPath('alice', '12'), 'file:///sluice/log/alice/12.log');
    assert.equal(parseLogPath(logPath('alice', '12')), '12');
  });

  it('rejects other paths', () => {
    for (const p of [
      'hdfs:///tmp/linkis/result/12',
      'file:///sluice/result/alice',
      'file:///sluice/result/alice/0',
      'file:///sluice/result/a/12/x.dolphin',
      'file:///sluice/result/a/../12',
    ])
      assert.equal(parseResultPath(p), null, p);
    for (const p of ['file:///sluice/log/alice/12', 'file:///etc/passwd', 'file:///sluice/log/a/b/12.log']) assert.equal(parseLogPath(p), null, p);
  });
});
