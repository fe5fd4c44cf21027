import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '@sluice/core';
import { mapGatewayError } from './error-mapping.ts';
import { GatewayConnectionError, GatewayHttpError, GatewayProtocolError } from './gateway-errors.ts';

const ctx = { dataSource: 'flink_prod', statement: 2, statementLine: 3, statementColumn: 5 };

describe('mapGatewayError', () => {
  it('maps a rejected statement to a user error that keeps Flink’s message and translates its position', () => {
    const err = mapGatewayError(
      new GatewayHttpError(
        500,
        [
          "Internal server error.\nCaused by: org.apache.flink.table.api.ValidationException: SQL validation failed. From line 1, column 15 to line 1, column 27: Object 't' not found",
        ],
        'GET /v4/x',
      ),
      ctx,
    );
    assert.equal(err.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(err.category, 'user');
    assert.equal(err.retryable, false);
    assert.match(err.message, /ValidationException: SQL validation failed\. From line 1, column 15 .*Object 't' not found/);
    assert.equal(err.details.line, 3);
    assert.equal(err.details.column, 19);
    assert.equal(err.details.statement, 2);
  });

  it('maps no connection, 502/503/504 and a cluster outage behind the gateway to a retryable unavailability', () => {
    const cases = [
      new GatewayConnectionError('ECONNREFUSED', 'POST /v4/sessions: 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1'),
      new GatewayHttpError(503, ['Service Unavailable'], 'POST /v4/x'),
      new GatewayHttpError(502, ['Bad Gateway'], 'POST /v4/x'),
      new GatewayHttpError(
        500,
        ['org.apache.flink.table.api.TableException: Failed to execute sql\nCaused by: java.net.ConnectException: Connection refused'],
        'GET /v4/x',
      ),
    ];
    for (const c of cases) {
      const err = mapGatewayError(c, ctx);
      assert.equal(err.code, 'SLUICE_DATASOURCE_UNAVAILABLE', c.message);
      assert.equal(err.retryable, true);
      assert.match(err.message, /flink_prod/);
    }
  });

  it('names refused credentials without echoing them', () => {
    const err = mapGatewayError(new GatewayHttpError(401, ['Unauthorized'], 'POST /v4/sessions'), ctx);
    assert.equal(err.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.match(err.message, /refused the credentials of data source flink_prod/);
  });

  it('passes SluiceErrors through and reports protocol surprises and bugs', () => {
    const own = new SluiceError('SLUICE_JOB_CANCELLED');
    assert.equal(mapGatewayError(own, ctx), own);
    assert.equal(mapGatewayError(new GatewayProtocolError('odd'), ctx).code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(mapGatewayError(new TypeError('bug'), ctx).code, 'SLUICE_INTERNAL');
  });
});
