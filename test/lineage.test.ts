import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runIdForJob } from '@sluice/metadata-hook';
import { waitFor } from '@sluice/testkit';
import { validateEvent } from '../packages/metadata-hook/test/validate-event.ts';
import { type ApiClient, startTestStack, type TestEnv, type TestStack, testEnv } from './support/test-stack.ts';

interface RunEvent {
  eventType: string;
  run: { runId: string; facets?: Record<string, unknown> };
  job: { name: string; facets?: Record<string, unknown> };
  inputs?: { namespace: string; name: string }[];
  outputs?: { namespace: string; name: string }[];
}

describe('lineage of jobs, delivered to a real receiver and shown by the built-in view', () => {
  let env: TestEnv;
  let ts: TestStack;
  let alice: ApiClient;
  let receiver: Server;
  const received: RunEvent[] = [];
  const refused: RunEvent[] = [];

  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        if (req.url === '/api/v1/lineage' && req.method === 'POST') {
          const ev = JSON.parse(body) as RunEvent;
          // The receiver finds the START event of one job invalid: it must be dead-lettered, not retried.
          if (ev.job.name === 'refused.by.receiver' && ev.eventType === 'START') {
            refused.push(ev);
            res.writeHead(400).end('{"error":"bad event"}');
            return;
          }
          received.push(ev);
        }
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as AddressInfo).port;
    env = await testEnv('redis');
    ts = await startTestStack(env, { overrides: { SLUICE_LINEAGE_TRANSPORT: 'http', SLUICE_LINEAGE_URL: `http://127.0.0.1:${port}` } });
    alice = ts.api(ts.tokens.alice);
  });
  after(async () => {
    await ts?.stop();
    await env?.cleanup();
    receiver?.close();
  });

  it('emits START and COMPLETE with inputs, outputs and column lineage, valid against the official schemas', async () => {
    const code =
      'create table orders as select range as id, range % 7 as customer from range(10); create table per_customer as select customer, count(*) as n from orders group by customer';
    const sub = await alice.submit({ code, labels: { parentJobNamespace: 'dolphinscheduler', parentJobName: 'daily.load', parentRunId: '42' } });
    assert.equal((await alice.waitFor(sub.body.id)).state, 'Succeed');
    const events = await waitFor(
      () => {
        const mine = received.filter((e) => e.run.runId === runIdForJob(sub.body.id));
        return mine.length >= 2 ? mine : undefined;
      },
      { timeoutMs: 30_000, what: 'START and COMPLETE' },
    );
    assert.deepEqual(
      events.map((e) => e.eventType),
      ['START', 'COMPLETE'],
    );
    assert.equal(events[0]?.run.runId, events[1]?.run.runId, 'one run id for the whole job');
    for (const e of events) assert.deepEqual(validateEvent(e), { ok: true, errors: [] }, `${e.eventType} validates`);
    assert.equal(events[1]?.job.name, 'daily.load.sluice', 'a job run by a scheduler task is named after it');
    const complete = events[1] as RunEvent;
    const outputs = (complete.outputs ?? []).map((d) => d.name);
    assert.ok(
      outputs.some((n) => n.endsWith('per_customer')),
      `outputs ${outputs.join(',')}`,
    );
    assert.ok((complete.inputs ?? []).some((d) => d.name.endsWith('orders')));
    assert.ok(complete.run.facets?.parent, 'the scheduler task is the parent run');
    assert.ok(complete.job.facets?.sql);
    // DuckDB has no dt-sql-parser grammar: the event says the built-in parser read it.
    const sqlFacet = complete.job.facets?.sql as { lineageParser?: string } | undefined;
    assert.equal(sqlFacet?.lineageParser, 'built-in');
  });

  it('emits FAIL for a failed job and ABORT for a cancelled one', async () => {
    const bad = await alice.submit({ code: 'insert into nowhere select * from missing_table' });
    const slow = await alice.submit({ code: 'echo hi; sleep 30', engineType: 'shell' });
    await alice.waitFor(slow.body.id, ['Running']);
    await alice.request('POST', `/api/v1/jobs/${slow.body.id}/cancel`);
    await alice.waitFor(bad.body.id);
    await alice.waitFor(slow.body.id);
    const kinds = await waitFor(
      () => {
        const f = received.find((e) => e.run.runId === runIdForJob(bad.body.id) && e.eventType === 'FAIL');
        const a = received.find((e) => e.run.runId === runIdForJob(slow.body.id) && e.eventType === 'ABORT');
        return f && a ? [f, a] : undefined;
      },
      { timeoutMs: 30_000, what: 'FAIL and ABORT' },
    );
    for (const e of kinds) assert.deepEqual(validateEvent(e), { ok: true, errors: [] });
    assert.ok(kinds[0]?.run.facets?.errorMessage, 'the failure carries its error message');
  });

  it('answers the built-in lineage view from the emitted events', async () => {
    const r = await alice.request<{ nodes: { name?: string; id?: string }[]; edges: unknown[] }>(
      'GET',
      '/api/v1/lineage?dataset=memory.main.per_customer&direction=up&depth=2',
    );
    if (r.status !== 200) assert.fail(JSON.stringify(r.body));
    const names = JSON.stringify(r.body.nodes);
    assert.ok(names.includes('memory.main.orders'), `upstream of per_customer includes orders: ${names.slice(0, 400)}`);
    assert.ok(r.body.edges.length >= 2);
    const bad = await alice.request('GET', '/api/v1/lineage?direction=sideways');
    assert.equal(bad.status, 400);
  });

  it('an event the receiver refuses with 400 is dead-lettered and listed for admins; the rest of the run is delivered', async () => {
    const sub = await alice.submit({ code: 'select 42 as answer', labels: { lineageJobName: 'refused.by.receiver' } });
    assert.equal((await alice.waitFor(sub.body.id)).state, 'Succeed');
    const runId = runIdForJob(sub.body.id);
    await waitFor(() => received.find((e) => e.run.runId === runId && e.eventType === 'COMPLETE'), {
      timeoutMs: 30_000,
      what: 'COMPLETE after the refused START',
    });
    const admin = ts.api(ts.tokens.admin);
    const r = await waitFor(
      async () => {
        const x = await admin.request<{ deadLettered: number; deadLetters: { runId: string; eventType: string; status: number }[] }>(
          'GET',
          '/api/v1/lineage/outbox',
        );
        return x.body.deadLetters?.some((d) => d.runId === runId) ? x : undefined;
      },
      { timeoutMs: 10_000, what: 'the dead letter in the outbox view' },
    );
    assert.equal(r.status, 200);
    assert.ok(r.body.deadLettered >= 1);
    const mine = r.body.deadLetters.filter((d) => d.runId === runId);
    assert.deepEqual(
      mine.map((d) => [d.eventType, d.status]),
      [['START', 400]],
    );
    assert.equal(refused.filter((e) => e.run.runId === runId).length, 1, 'sent once, never retried');
    assert.equal(received.filter((e) => e.run.runId === runId && e.eventType === 'START').length, 0);
    const forbidden = await alice.request<{ code: string }>('GET', '/api/v1/lineage/outbox');
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.code, 'SLUICE_AUTH_FORBIDDEN');
  });
});
