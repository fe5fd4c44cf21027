import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstCauseLine } from './cluster-rest-client.ts';
import { clusterUnavailable, errorPosition, GatewayHttpError, noRoomOnCluster, parseServerCauses, summarizeCauses } from './gateway-errors.ts';

// The `errors` of a fetch of a failed statement, as a Flink 2.3 SQL Gateway sends them (frames cut).
const VALIDATION = [
  'Internal server error.',
  [
    '<Exception on server side:',
    'org.apache.flink.table.gateway.api.utils.SqlGatewayException: org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to fetchResults.',
    '\tat org.apache.flink.table.gateway.rest.handler.statement.FetchResultsHandler.handleRequest(FetchResultsHandler.java:91)',
    'Caused by: org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to fetchResults.',
    '\t... 48 more',
    'Caused by: org.apache.flink.table.gateway.service.utils.SqlExecutionException: Failed to execute the operation ab9e5ace-3610-44cb-83b6-7bf7357dfbed.',
    "Caused by: org.apache.flink.table.api.ValidationException: SQL validation failed. From line 1, column 15 to line 1, column 27: Object 'no_such_table' not found",
    '\tat org.apache.flink.table.planner.calcite.FlinkPlannerImpl.validate(FlinkPlannerImpl.scala:200)',
    "Caused by: org.apache.calcite.runtime.CalciteContextException: From line 1, column 15 to line 1, column 27: Object 'no_such_table' not found",
    "Caused by: org.apache.calcite.sql.validate.SqlValidatorException: Object 'no_such_table' not found",
    '',
    'End of exception on server side>',
  ].join('\n'),
];

const CONFIGURE = [
  'Internal server error.',
  [
    '<Exception on server side:',
    'org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to configure session.',
    'Caused by: org.apache.flink.table.gateway.service.utils.SqlExecutionException: Failed to execute the operation 1a9f.',
    'Caused by: java.lang.UnsupportedOperationException: Unsupported statement for configuring session: SELECT 1',
    'The configureSession API only supports executing statements of type SET, RESET, CREATE TABLE.',
    '\tat org.apache.flink.table.gateway.service.operation.OperationExecutor.configureSession(OperationExecutor.java:200)',
    'End of exception on server side>',
  ].join('\n'),
];

describe('parseServerCauses / summarizeCauses', () => {
  it('finds the cause chain and picks the first exception that is not a wrapper', () => {
    const causes = parseServerCauses(VALIDATION);
    assert.deepEqual(
      causes.map((c) => c.className.split('.').pop()),
      ['SqlGatewayException', 'SqlGatewayException', 'SqlExecutionException', 'ValidationException', 'CalciteContextException', 'SqlValidatorException'],
    );
    assert.equal(
      summarizeCauses(causes),
      "ValidationException: SQL validation failed. From line 1, column 15 to line 1, column 27: Object 'no_such_table' not found",
    );
  });

  it('keeps multi-line messages', () => {
    assert.equal(
      summarizeCauses(parseServerCauses(CONFIGURE)),
      'UnsupportedOperationException: Unsupported statement for configuring session: SELECT 1\nThe configureSession API only supports executing statements of type SET, RESET, CREATE TABLE.',
    );
  });

  it('says when a session is gone', () => {
    const gone = new GatewayHttpError(
      500,
      [
        "org.apache.flink.runtime.rest.handler.RestHandlerException: Failed to getSessionConfig.\n\tat x.y(Z.java:1)\nCaused by: org.apache.flink.table.gateway.api.utils.SqlGatewayException: Session '00000000-0000-0000-0000-000000000000' does not exist.\n\t... 41 more\n",
      ],
      'GET /v4/sessions/x',
    );
    assert.equal(gone.sessionGone, true);
    assert.equal(new GatewayHttpError(500, VALIDATION, 'GET /v4/x').sessionGone, false);
    assert.match(gone.message, /^GET \/v4\/sessions\/x: HTTP 500: SqlGatewayException: Session/);
  });

  it('tells a cluster outage from a statement error', () => {
    assert.equal(clusterUnavailable(parseServerCauses(VALIDATION)), false);
    const outage = parseServerCauses([
      'org.apache.flink.table.api.TableException: Failed to execute sql\nCaused by: org.apache.flink.util.FlinkException: Failed to execute job.\nCaused by: java.net.ConnectException: Connection refused',
    ]);
    assert.equal(clusterUnavailable(outage), true);
    assert.equal(summarizeCauses(outage), 'TableException: Failed to execute sql');
  });

  it('tells a job that found no task slots from a job that failed while it ran', () => {
    const trace =
      'org.apache.flink.runtime.JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy\nCaused by: org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: Could not acquire the minimum required resources.';
    assert.equal(noRoomOnCluster(firstCauseLine(trace)), true);
    assert.equal(noRoomOnCluster('ArithmeticException: / by zero'), false);
    assert.equal(noRoomOnCluster('RuntimeException: wrapped NoResourceAvailableException'), false, 'only the root cause counts');
  });

  it('reads SQL error positions', () => {
    assert.deepEqual(errorPosition('From line 2, column 15 to line 2, column 27: x'), { line: 2, column: 15 });
    assert.equal(errorPosition('no position'), undefined);
  });
});
