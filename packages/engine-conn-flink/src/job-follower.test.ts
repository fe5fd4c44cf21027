import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { SluiceError } from '@sluice/core';
import { ClusterRestClient } from './cluster-rest-client.ts';
import { followJob } from './job-follower.ts';
import { RestHttp } from './rest-http.ts';

// A FAKE JobManager REST API that reports one job as FAILED with a given exception history. A real
// cluster fails a job for want of task slots only when it has no TaskManager at all (at once) or
// after `slot.request.timeout` (minutes, holding every free slot meanwhile), which a shared test
// cluster cannot afford; flink.test.ts follows real jobs to their real ends.
const JOB = '0123456789abcdef0123456789abcdef';
const servers: http.Server[] = [];

after(() => {
  for (const s of servers) s.close();
});

/** The history entry's stack trace as Flink 2.3 reports it, `\tat` frames cut. */
function trace(root: string): string {
  return [
    'org.apache.flink.runtime.JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy',
    '\tat org.apache.flink.runtime.executiongraph.failover.ExecutionFailureHandler.handleFailure(ExecutionFailureHandler.java:219)',
    `Caused by: java.util.concurrent.CompletionException: ${root}`,
    '\t... 38 more',
    `Caused by: ${root}`,
  ].join('\n');
}

/** The newest failure first, as `exceptionHistory.entries` lists them. */
async function fakeCluster(...stacktraces: string[]): Promise<ClusterRestClient> {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url === `/jobs/${JOB}`) res.end(JSON.stringify({ jid: JOB, name: 'insert-into_sink', state: 'FAILED', vertices: [] }));
    else if (req.url?.startsWith(`/jobs/${JOB}/exceptions`)) {
      const max = Number(new URL(req.url, 'http://x').searchParams.get('maxExceptions') ?? 10);
      const entries = stacktraces.map((stacktrace) => ({ exceptionName: 'org.apache.flink.runtime.JobException', stacktrace }));
      res.end(JSON.stringify({ exceptionHistory: { entries: entries.slice(0, max), truncated: entries.length > max } }));
    } else {
      res.writeHead(404);
      res.end('{}');
    }
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return new ClusterRestClient(new RestHttp({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 5000 }));
}

async function failureOf(rest: ClusterRestClient): Promise<SluiceError> {
  const options = { signal: new AbortController().signal, pollIntervalMs: 10, lostAfterMs: 1000, progressBase: 0, progressSpan: 1, dataSource: 'flink_x' };
  try {
    for await (const _ of followJob(rest, JOB, options)) {
      // log and progress events
    }
  } catch (err) {
    assert.ok(err instanceof SluiceError, String(err));
    return err;
  }
  assert.fail('the follower ended without an error');
}

describe('followJob on a FAKE cluster: how a failed job is reported', () => {
  it('reports a job the cluster had no task slots for as SLUICE_DATASOURCE_UNAVAILABLE, retryable: it never ran', async () => {
    const err = await failureOf(
      await fakeCluster(trace('org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: Could not acquire the minimum required resources.')),
    );
    assert.equal(err.code, 'SLUICE_DATASOURCE_UNAVAILABLE');
    assert.equal(err.retryable, true);
    assert.equal(err.details.name, 'flink_x');
    assert.equal(err.details.flinkJobId, JOB);
    assert.match(err.message, new RegExp(`Flink job ${JOB} failed: NoResourceAvailableException: Could not acquire`));
  });

  it('does not retry a job that ran, lost its TaskManager and then found no slots: it may have written output', async () => {
    const err = await failureOf(
      await fakeCluster(
        trace('org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: Could not acquire the minimum required resources.'),
        trace('java.util.concurrent.TimeoutException: The heartbeat of TaskManager with id 127.0.0.1:40617-a1b2c3 timed out.'),
      ),
    );
    assert.equal(err.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(err.retryable, false);
    assert.match(err.message, /failed: NoResourceAvailableException/);
  });

  it('reports a job that failed while it ran as SLUICE_ENGINE_QUERY_FAILED, with its root cause', async () => {
    const err = await failureOf(await fakeCluster(trace('java.lang.ArithmeticException: / by zero')));
    assert.equal(err.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(err.retryable, false);
    assert.equal(err.details.flinkJobState, 'FAILED');
    assert.match(err.message, /failed: ArithmeticException: \/ by zero/);
  });
});
