import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '@sluice/core';
import { TrinoConnectionError, TrinoHttpError, TrinoProtocolError, TrinoQueryError } from './client-errors.ts';
import { mapProtocolError } from './error-mapping.ts';

const ctx = { engine: 'trino', dataSource: 'warehouse' };

function queryError(errorType: string, errorName: string) {
  return new TrinoQueryError('q1', { message: `${errorName} happened`, errorCode: 1, errorName, errorType, errorLocation: { lineNumber: 2, columnNumber: 5 } });
}

describe('mapProtocolError', () => {
  it('maps USER_ERROR to a user error that is not retried, keeping name, code, type and position', () => {
    const err = mapProtocolError(queryError('USER_ERROR', 'SYNTAX_ERROR'), ctx);
    assert.equal(err.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(err.category, 'user');
    assert.equal(err.retryable, false);
    assert.equal(err.message, 'trino: SYNTAX_ERROR happened');
    assert.deepEqual(
      { ...err.details },
      {
        reason: 'SYNTAX_ERROR happened',
        engine: 'trino',
        errorName: 'SYNTAX_ERROR',
        errorCode: 1,
        errorType: 'USER_ERROR',
        sqlState: null,
        line: 2,
        column: 5,
        queryId: 'q1',
      },
    );
  });

  it('maps INSUFFICIENT_RESOURCES and EXTERNAL to retryable unavailability, keeping the details', () => {
    for (const [type, name] of [
      ['INSUFFICIENT_RESOURCES', 'EXCEEDED_GLOBAL_MEMORY_LIMIT'],
      ['EXTERNAL', 'HIVE_METASTORE_ERROR'],
    ] as const) {
      const err = mapProtocolError(queryError(type, name), ctx);
      assert.equal(err.code, 'SLUICE_DATASOURCE_UNAVAILABLE');
      assert.equal(err.retryable, true);
      assert.equal(err.details.name, 'warehouse');
      assert.equal(err.details.errorName, name);
      assert.equal(err.details.line, 2);
      assert.equal(err.details.column, 5);
    }
  });

  it('does not retry INTERNAL_ERROR', () => {
    const err = mapProtocolError(queryError('INTERNAL_ERROR', 'GENERIC_INTERNAL_ERROR'), ctx);
    assert.equal(err.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(err.details.errorType, 'INTERNAL_ERROR');
  });

  it('retries only what provably did not start, or kept failing on GET', () => {
    const code = (e: unknown) => mapProtocolError(e, ctx).code;
    assert.equal(code(new TrinoConnectionError('submit', 'ECONNREFUSED', 'refused', false, false)), 'SLUICE_DATASOURCE_UNAVAILABLE');
    assert.equal(code(new TrinoConnectionError('submit', 'ECONNRESET', 'reset', true, false)), 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(code(new TrinoConnectionError('fetch', 'ECONNRESET', 'reset', true, false)), 'SLUICE_DATASOURCE_UNAVAILABLE');
    assert.equal(code(new TrinoHttpError(503, 'submit', 'busy')), 'SLUICE_DATASOURCE_UNAVAILABLE');
    assert.equal(code(new TrinoHttpError(502, 'submit', 'bad gateway')), 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(code(new TrinoHttpError(504, 'submit', 'timeout')), 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(code(new TrinoHttpError(503, 'fetch', 'busy', 'q', 12)), 'SLUICE_DATASOURCE_UNAVAILABLE');
    assert.equal(code(new TrinoHttpError(410, 'fetch', 'gone', 'q', 0)), 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(code(new TrinoHttpError(401, 'submit', '')), 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(code(new TrinoProtocolError('fetch', 'not JSON')), 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(code(new Error('bug')), 'SLUICE_INTERNAL');
  });

  it('passes SluiceErrors through', () => {
    const original = new SluiceError('SLUICE_JOB_CANCELLED');
    assert.equal(mapProtocolError(original, ctx), original);
  });
});
