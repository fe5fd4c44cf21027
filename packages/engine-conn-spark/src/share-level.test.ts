import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SluiceError } from '@sluice/core';
import { resolveDriverSettings } from './launch-params.ts';
import { parseShareLevel, shareLevelOf, sparkShare } from './share-level.ts';

const job = (params: Record<string, unknown>, labels: Record<string, string> = { creator: 'IDE' }, user = 'alice') => ({ user, params, labels });

describe('spark share levels', () => {
  it('parses the four levels in any case and refuses others', () => {
    assert.equal(parseShareLevel('server'), 'SERVER');
    assert.equal(parseShareLevel(' Group '), 'GROUP');
    assert.equal(parseShareLevel('cluster'), undefined);
    assert.equal(parseShareLevel(3), undefined);
    assert.equal(shareLevelOf({}, 'GROUP'), 'GROUP', 'the default applies when the job names none');
    assert.throws(
      () => shareLevelOf({ shareLevel: 'everyone' }, 'USER'),
      (e: SluiceError) => e.code === 'SLUICE_REQUEST_INVALID' && /shareLevel must be one of CONNECTION, USER, GROUP, SERVER/.test(e.message),
    );
  });

  it('keys USER engines by user and CONNECTION engines as fresh ones', () => {
    assert.deepEqual(sparkShare(job({}), 'USER'), { key: 'alice', owner: 'alice', fresh: false });
    assert.deepEqual(sparkShare(job({ shareLevel: 'connection' }), 'USER'), { key: 'alice', owner: 'alice', fresh: true });
    assert.deepEqual(sparkShare(job({}), 'CONNECTION'), { key: 'alice', owner: 'alice', fresh: true });
  });

  it('keys GROUP engines by the group label, else the creator, owned by the group', () => {
    assert.deepEqual(sparkShare(job({ shareLevel: 'GROUP' }), 'USER'), { key: 'group:IDE', owner: 'group:IDE', fresh: false });
    assert.deepEqual(sparkShare(job({ shareLevel: 'GROUP' }, { creator: 'IDE', group: 'etl' }, 'bob'), 'USER'), {
      key: 'group:etl',
      owner: 'group:etl',
      fresh: false,
    });
    assert.throws(
      () => sparkShare(job({ shareLevel: 'GROUP' }, { group: 'a b' }), 'USER'),
      (e: SluiceError) => e.code === 'SLUICE_REQUEST_INVALID',
    );
    assert.throws(
      () => sparkShare(job({ shareLevel: 'GROUP' }, {}), 'USER'),
      (e: SluiceError) => e.code === 'SLUICE_REQUEST_INVALID',
    );
  });

  it('gives every user of the SERVER level one key, which no user name can equal', () => {
    const a = sparkShare(job({ shareLevel: 'SERVER' }), 'USER');
    const b = sparkShare(job({ shareLevel: 'SERVER' }, {}, 'bob'), 'USER');
    assert.deepEqual(a, b);
    assert.match(a.key, /:/, 'user names have no colon');
  });

  it('accepts shareLevel among the start-up params and checks it there too', () => {
    const base = {
      quota: { maxDriverMemoryMb: 4096, maxDriverCores: 4, maxExecutorMemoryMb: 8192, maxExecutorCores: 4, maxExecutors: 20 },
      defaultMaster: 'local[2]',
      defaultDriverMemory: '1g',
    };
    assert.equal(resolveDriverSettings({ shareLevel: 'SERVER', driverMemory: '512m' }, base).driverMemory, '512m');
    assert.throws(
      () => resolveDriverSettings({ shareLevel: 'ALL' }, base),
      (e: SluiceError) => e.code === 'SLUICE_REQUEST_INVALID' && /shareLevel/.test(e.message),
    );
  });
});
