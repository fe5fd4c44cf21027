import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { completionLine, logLevelOf, toLinkisLog } from './log-format.ts';

describe('Linkis log format', () => {
  it('classifies lines the way Linkis files them', () => {
    assert.equal(logLevelOf('ERROR SLUICE_ENGINE_QUERY_FAILED: boom'), 'error');
    assert.equal(logLevelOf('2024-01-02 10:11:12.345 ERROR something'), 'error');
    assert.equal(logLevelOf('2024-01-02 10:11:12.345 SYSTEM-ERROR x'), 'error');
    assert.equal(logLevelOf('WARN disk almost full'), 'warn');
    assert.equal(logLevelOf('2024/01/02 10:11:12 WARN x'), 'warn');
    assert.equal(logLevelOf('no ERROR at the start'), 'info');
    assert.equal(logLevelOf('ERRORS are not errors'), 'info');
  });

  it('builds the 4-element array, joined by newlines, blank lines dropped', () => {
    assert.deepEqual(toLinkisLog(['a', 'ERROR b', '', 'WARN c', 'd']), ['ERROR b', 'WARN c', 'a\nd', 'a\nERROR b\nWARN c\nd']);
    assert.deepEqual(toLinkisLog([]), ['', '', '', '']);
  });

  it('ends logs with the line linkis-cli waits for', () => {
    assert.match(completionLine('Succeed'), /Your job completed with status Success\.$/);
    assert.equal(completionLine('Failed'), 'Sorry. Your job completed with a status Failed. You can view logs for the reason.');
  });
});
