// biome-ignore-all lint/suspicious/noTemplateCurlyInString: job code uses Linkis ${var} syntax on purpose
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiClient, BACKENDS, startTestStack, type TestEnv, type TestStack, testEnv, useStackWithDb } from './support/test-stack.ts';

for (const backend of BACKENDS) {
  describe(`bad input and access control on ${backend}`, () => {
    const stack = useStackWithDb(backend, { overrides: { SLUICE_MAX_CODE_BYTES: String(64 * 1024) } });
    let ts: TestStack;
    let alice: ApiClient;

    const counts = async () => {
      const r = await stack.db.query<{ jobs: string; states: string; logs: string }>(
        'SELECT (SELECT count(*) FROM sluice_jobs) AS jobs, (SELECT count(*) FROM sluice_job_states) AS states, (SELECT count(*) FROM sluice_job_logs) AS logs',
      );
      return r.rows[0];
    };

    before(() => {
      ts = stack.ts;
      alice = ts.api(ts.tokens.alice);
    });

    const cases: { name: string; send: () => Promise<{ status: number; body: Record<string, unknown> }>; status: number; code: string }[] = [
      { name: 'malformed JSON', send: () => alice.request('POST', '/api/v1/jobs', '{"code": "select 1",'), status: 400, code: 'SLUICE_REQUEST_MALFORMED_JSON' },
      { name: 'an unknown engine', send: () => alice.submit({ code: 'select 1', engineType: 'oracle-19' }), status: 400, code: 'SLUICE_JOB_ENGINE_UNKNOWN' },
      {
        name: 'an unknown engine version',
        send: () => alice.submit({ code: 'select 1', engineType: 'duckdb-0.1' }),
        status: 400,
        code: 'SLUICE_JOB_ENGINE_UNKNOWN',
      },
      {
        name: 'a code type the engine does not run',
        send: () => alice.submit({ code: 'select 1', codeType: 'python' }),
        status: 400,
        code: 'SLUICE_JOB_CODE_TYPE_UNSUPPORTED',
      },
      { name: 'oversized code', send: () => alice.submit({ code: `select '${'x'.repeat(70 * 1024)}'` }), status: 413, code: 'SLUICE_JOB_CODE_TOO_LARGE' },
      { name: 'an undefined variable', send: () => alice.submit({ code: 'select ${missing}' }), status: 400, code: 'SLUICE_JOB_VARIABLE_INVALID' },
      {
        name: 'an invalid run_date',
        send: () => alice.submit({ code: 'select ${run_date}', variables: { run_date: '2026-13-45' } }),
        status: 400,
        code: 'SLUICE_JOB_VARIABLE_INVALID',
      },
      {
        name: 'a variable with a bad name',
        send: () => alice.submit({ code: 'select 1', variables: { 'bad name': 1 } }),
        status: 400,
        code: 'SLUICE_REQUEST_INVALID',
      },
      { name: 'missing code', send: () => alice.submit({ engineType: 'duckdb' }), status: 400, code: 'SLUICE_REQUEST_INVALID' },
      { name: 'an unknown field', send: () => alice.submit({ code: 'select 1', bogus: true }), status: 400, code: 'SLUICE_REQUEST_INVALID' },
      { name: 'a priority out of range', send: () => alice.submit({ code: 'select 1', priority: 99 }), status: 400, code: 'SLUICE_REQUEST_INVALID' },
      { name: 'an unknown job id', send: () => alice.request('GET', '/api/v1/jobs/01ZZZZZZZZZZZZZZZZZZZZZZZZ'), status: 404, code: 'SLUICE_JOB_NOT_FOUND' },
      { name: 'a job id of the wrong shape', send: () => alice.request('GET', '/api/v1/jobs/..%2F..%2Fetc'), status: 404, code: 'SLUICE_JOB_NOT_FOUND' },
      { name: 'an unknown route', send: () => alice.request('GET', '/api/v1/nope'), status: 404, code: 'SLUICE_ROUTE_NOT_FOUND' },
      { name: 'a bad cursor', send: () => alice.request('GET', '/api/v1/jobs?cursor=abc'), status: 400, code: 'SLUICE_REQUEST_INVALID' },
    ];

    for (const c of cases) {
      it(`rejects ${c.name} with a structured ${c.status} and persists nothing`, async () => {
        const before = await counts();
        const r = await c.send();
        assert.equal(r.status, c.status, JSON.stringify(r.body));
        assert.equal(r.body.code, c.code);
        assert.equal(typeof r.body.message, 'string');
        assert.ok((r.body.message as string).length > 0);
        assert.equal(typeof r.body.details, 'object');
        assert.deepEqual(await counts(), before);
      });
    }

    it('rejects a request without a token, or with a bad one, with a structured 401', async () => {
      const none = await fetch(`${ts.url}/api/v1/jobs`);
      assert.equal(none.status, 401);
      assert.equal(((await none.json()) as { code: string }).code, 'SLUICE_AUTH_MISSING');
      const bad = await ts.api('slk_not-a-real-token').request('GET', '/api/v1/jobs');
      assert.equal(bad.status, 401);
      assert.equal(bad.body.code, 'SLUICE_AUTH_INVALID');
    });

    it("forbids reading or cancelling another user's job, and lets an admin do both", async () => {
      const sub = await alice.submit({ code: 'select 1' });
      const bob = ts.api(ts.tokens.bob);
      for (const [method, p] of [
        ['GET', `/api/v1/jobs/${sub.body.id}`],
        ['GET', `/api/v1/jobs/${sub.body.id}/log`],
        ['GET', `/api/v1/jobs/${sub.body.id}/results`],
        ['POST', `/api/v1/jobs/${sub.body.id}/cancel`],
      ] as const) {
        const r = await bob.request(method, p);
        assert.equal(r.status, 403, `${method} ${p}`);
        assert.equal(r.body.code, 'SLUICE_AUTH_FORBIDDEN');
      }
      const admin = ts.api(ts.tokens.admin);
      const seen = await admin.job(sub.body.id);
      assert.equal(seen.status, 200);
      assert.equal(seen.body.user, 'alice');
      await alice.waitFor(sub.body.id);
    });

    it('answers health, readiness and the OpenAPI document', async () => {
      assert.equal((await fetch(`${ts.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${ts.url}/readyz`)).status, 200);
      const doc = (await (await fetch(`${ts.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
      assert.equal(doc.openapi, '3.1.0');
      for (const p of ['/api/v1/jobs', '/api/v1/jobs/{id}', '/api/v1/jobs/{id}/log', '/api/v1/jobs/{id}/results/{n}/download', '/api/v1/jobs/{id}/cancel']) {
        assert.ok(doc.paths[p], `OpenAPI documents ${p}`);
      }
      const docs = await fetch(`${ts.url}/docs/`);
      assert.equal(docs.status, 200);
      assert.match(await docs.text(), /swagger/i);
    });
  });
}

describe('proxy users and whoami', () => {
  let env: TestEnv;
  let ts: TestStack;
  before(async () => {
    env = await testEnv('redis');
    ts = await startTestStack(env);
  });
  after(async () => {
    await ts?.stop();
    await env?.cleanup();
  });

  it('lets an admin token submit as another user, who then owns the job, and refuses everyone else', async () => {
    const admin = ts.api(ts.tokens.admin);
    assert.deepEqual((await admin.request('GET', '/api/v1/whoami')).body, { user: 'root', admin: true });
    assert.deepEqual((await ts.api(ts.tokens.alice).request('GET', '/api/v1/whoami')).body, { user: 'alice', admin: false });
    const asBob = await admin.submit({ code: 'select 1', executeUser: 'bob' });
    assert.equal(asBob.status, 201);
    assert.equal(asBob.body.user, 'bob');
    assert.equal((await ts.api(ts.tokens.bob).job(asBob.body.id)).status, 200, 'bob owns it');
    const denied = await ts.api(ts.tokens.alice).submit({ code: 'select 1', executeUser: 'bob' });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.code, 'SLUICE_AUTH_FORBIDDEN');
    await ts.api(ts.tokens.bob).waitFor(asBob.body.id);
  });
});
