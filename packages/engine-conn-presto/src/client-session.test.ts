import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applySessionUpdate, type ClientSession, collectSessionHeaders, emptySessionUpdate, sessionRequestHeaders } from './client-session.ts';
import { protocolHeaders } from './protocol-headers.ts';

const base: ClientSession = { user: 'alice', source: 'sluice', properties: { a: '1' }, roles: {}, preparedStatements: { old: 'SELECT 0' }, clientTags: [] };

describe('client session', () => {
  it('folds the Set and Clear headers of responses into a new session, leaving the old one as it was', () => {
    const update = emptySessionUpdate();
    const h = protocolHeaders('trino');
    collectSessionHeaders(update, h, [
      'X-Trino-Set-Catalog',
      'memory',
      'X-Trino-Set-Schema',
      'default',
      'X-Trino-Set-Session',
      'b=x%3Dy+z',
      'Content-Type',
      'application/json',
    ]);
    collectSessionHeaders(update, h, [
      'X-Trino-Clear-Session',
      'a',
      'X-Trino-Added-Prepare',
      'p=SELECT+%27%3B%27',
      'X-Trino-Deallocated-Prepare',
      'old',
      'X-Trino-Started-Transaction-Id',
      'tx-1',
      'X-Trino-Set-Role',
      'system=ROLE%7Badmin%7D',
      'X-Trino-Set-Authorization-User',
      'bob',
      'X-Trino-Set-Path',
      'memory.default',
    ]);
    const next = applySessionUpdate(base, update);
    assert.deepEqual(next, {
      ...base,
      catalog: 'memory',
      schema: 'default',
      path: 'memory.default',
      properties: { b: 'x=y z' },
      roles: { system: 'ROLE{admin}' },
      preparedStatements: { p: "SELECT ';'" },
      transactionId: 'tx-1',
      authorizationUser: 'bob',
    });
    assert.deepEqual(base.properties, { a: '1' }, 'the old session is unchanged');
    const later = emptySessionUpdate();
    collectSessionHeaders(later, h, ['X-Trino-Clear-Transaction-Id', 'true', 'X-Trino-Reset-Authorization-User', 'true']);
    const after = applySessionUpdate(next, later);
    assert.equal(after.transactionId, undefined);
    assert.equal(after.authorizationUser, undefined);
  });

  it('ignores the other family’s headers', () => {
    const update = emptySessionUpdate();
    collectSessionHeaders(update, protocolHeaders('presto'), ['X-Trino-Set-Catalog', 'a', 'X-Presto-Set-Schema', 'b']);
    assert.equal(update.setCatalog, undefined);
    assert.equal(update.setSchema, 'b');
  });

  it('sends one header per property and prepared statement, and the original user under SET SESSION AUTHORIZATION', () => {
    const session: ClientSession = {
      ...base,
      catalog: 'tpch',
      timeZone: 'UTC',
      properties: { a: 'x y', b: '1,2' },
      preparedStatements: { 'p 1': 'SELECT 1' },
      authorizationUser: 'bob',
      clientTags: ['IDE', 'etl'],
    };
    const headers = sessionRequestHeaders(session, protocolHeaders('presto'), { clientInfo: 'tâche', traceToken: 't1' });
    assert.deepEqual(headers, [
      ['x-presto-user', 'bob'],
      ['x-presto-original-user', 'alice'],
      ['x-presto-source', 'sluice'],
      ['x-presto-catalog', 'tpch'],
      ['x-presto-time-zone', 'UTC'],
      ['x-presto-session', 'a=x+y'],
      ['x-presto-session', 'b=1%2C2'],
      ['x-presto-prepared-statement', 'p+1=SELECT+1'],
      ['x-presto-transaction-id', 'NONE'],
      ['x-presto-client-tags', 'IDE,etl'],
      ['x-presto-client-capabilities', 'PATH,PARAMETRIC_DATETIME,SESSION_AUTHORIZATION'],
      ['x-presto-client-info', 't?che'],
      ['x-presto-trace-token', 't1'],
    ]);
  });
});
