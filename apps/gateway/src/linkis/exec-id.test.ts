import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENTRANCE_APP_NAME, execIdOf, legacyExecIdOf, parseJobRef, shortExecId, splitExecId, splitLegacyExecId } from './exec-id.ts';

const job = { seq: '4711', user: 'alice', creator: 'LINKISCLI', engine: 'duckdb-1.5' };

describe('Linkis execID and taskID', () => {
  it('builds the short id as creator_user_engine_seq', () => {
    assert.equal(shortExecId(job), 'LINKISCLI_alice_duckdb_4711');
  });

  it('builds execIDs in the current format with 3-digit lengths', () => {
    const id = execIdOf(job, '127.0.0.1:9001');
    assert.equal(id, `exec_id018014${ENTRANCE_APP_NAME}127.0.0.1:9001LINKISCLI_alice_duckdb_4711`);
    assert.deepEqual(splitExecId(id), ['exec_id', 'linkis-cg-entrance', '127.0.0.1:9001', 'LINKISCLI_alice_duckdb_4711']);
  });

  it('builds legacy execIDs with 2-digit lengths', () => {
    const id = legacyExecIdOf(job, 'host:1');
    assert.equal(id, '090606LINKISCLIduckdbhost:1LINKISCLI_alice_duckdb_4711');
    assert.deepEqual(splitLegacyExecId(id), ['LINKISCLI', 'duckdb', 'host:1', 'LINKISCLI_alice_duckdb_4711']);
    // Parts too long for two digits fall back to the current format.
    assert.match(legacyExecIdOf({ ...job, creator: 'c'.repeat(120) }, 'h:1'), /^exec_id/);
  });

  it('parses back the seq from every form, including the Linkis documentation examples', () => {
    assert.equal(parseJobRef(execIdOf(job, '10.0.0.1:9104')), '4711');
    assert.equal(parseJobRef(legacyExecIdOf(job, '10.0.0.1:9104')), '4711');
    assert.equal(parseJobRef('exec_id018017linkis-cg-entrance127.0.0.1:9205IDE_hadoop_spark_2'), '2');
    assert.equal(parseJobRef('exec_id018026linkis-cg-entrancebda01node03.oracle.cn:9104LINKISCLI_hadoop_shell_0'), null, 'index 0 is no Sluice seq');
    assert.equal(parseJobRef('030418IDEhivebdpdwc010004:10087IDE_hadoop_21'), '21');
    assert.equal(parseJobRef('4711'), '4711');
    assert.equal(parseJobRef('01J0000000000000000000000A'), '01J0000000000000000000000A');
    assert.equal(parseJobRef(execIdOf({ ...job, user: 'bob_12' }, 'h:1')), '4711', 'digits inside the user do not confuse it');
  });

  it('rejects what no Sluice gateway could have produced', () => {
    for (const bad of ['', 'abc', '0', '-1', 'exec_id', 'exec_id999999x', '12345678901234567890', '../../etc']) assert.equal(parseJobRef(bad), null, bad);
  });
});
