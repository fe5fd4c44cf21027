// biome-ignore-all lint/suspicious/noTemplateCurlyInString: job code uses Linkis ${var} syntax on purpose
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type ApiClient, BACKENDS, type JobBody, startTestStack, type TestEnv, type TestStack, testEnv } from './support/test-stack.ts';

function yesterday(): string {
  const d = new Date(Date.now() - 86_400_000);
  return `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`;
}

for (const backend of BACKENDS) {
  describe(`REST end to end, queue and bus on ${backend}`, () => {
    let env: TestEnv;
    let ts: TestStack;
    let alice: ApiClient;

    before(async () => {
      env = await testEnv(backend);
      ts = await startTestStack(env, { overrides: { SLUICE_MAX_RUNNING_PER_GROUP: '1', SLUICE_RESULT_MAX_ROWS: '100000' } });
      alice = ts.api(ts.tokens.alice);
    });
    after(async () => {
      await ts?.stop();
      await env?.cleanup();
    });

    it('runs a DuckDB job: state, log, paged results and downloads', async () => {
      const sub = await alice.submit({ code: "select range as n, range * 2 as twice from range(2500); select 'x' as s", creator: 'tour' });
      assert.equal(sub.status, 201, JSON.stringify(sub.body));
      assert.match(sub.body.id, /^[0-9A-Z]{26}$/);
      assert.equal(sub.body.engineType, 'duckdb-1.5');
      const done = await alice.waitFor(sub.body.id);
      assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
      assert.equal(done.resultSets, 2);
      assert.equal(done.progress, 1);
      assert.ok(done.engineId);
      assert.ok(done.startedAt && done.finishedAt && done.scheduledAt);

      const log = await alice.request<{ lines: { n: number; text: string }[]; complete: boolean; nextFrom: number }>(
        'GET',
        `/api/v1/jobs/${sub.body.id}/log?from=1&limit=1000`,
      );
      assert.equal(log.status, 200);
      assert.ok(log.body.lines.length >= 1);
      assert.deepEqual(
        log.body.lines.map((l) => l.n),
        log.body.lines.map((_, i) => i + 1),
      );
      assert.equal(log.body.complete, true);
      assert.equal(log.body.nextFrom, done.logLines + 1);

      const sets = await alice.request<{ items: { index: number; rows: number; columns: { name: string; type: string }[] }[] }>(
        'GET',
        `/api/v1/jobs/${sub.body.id}/results`,
      );
      assert.equal(sets.body.items.length, 2);
      assert.equal(sets.body.items[0]?.rows, 2500);
      assert.deepEqual(
        sets.body.items[0]?.columns.map((c) => [c.name, c.type]),
        [
          ['n', 'BIGINT'],
          ['twice', 'BIGINT'],
        ],
      );
      assert.equal(sets.body.items[1]?.rows, 1);

      const page = await alice.request<{ rows: unknown[][]; offset: number }>('GET', `/api/v1/jobs/${sub.body.id}/results/0?offset=1000&limit=10`);
      assert.equal(page.status, 200);
      assert.equal(page.body.rows.length, 10);
      assert.deepEqual(page.body.rows[0], ['1000', '2000']);
      assert.deepEqual(page.body.rows[9], ['1009', '2018']);

      const csv = await alice.request<string>('GET', `/api/v1/jobs/${sub.body.id}/results/0/download?format=csv`);
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
      const lines = csv.body.trim().split(/\r?\n/);
      assert.equal(lines.length, 2501);
      assert.equal(lines[0], 'n,twice');
      assert.equal(lines[2500], '2499,4998');

      const jsonl = await alice.request<string>('GET', `/api/v1/jobs/${sub.body.id}/results/0/download?format=jsonl`);
      const objs = jsonl.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(objs.length, 2500);
      assert.deepEqual(objs[7], { n: '7', twice: '14' });

      const missing = await alice.request('GET', `/api/v1/jobs/${sub.body.id}/results/5`);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.code, 'SLUICE_RESULT_NOT_FOUND');
    });

    it('keeps a small result set in the result index and a large one in the store; both read the same way', async () => {
      const db = new pg.Client({ connectionString: env.db.url });
      await db.connect();
      try {
        const index = async (id: string) =>
          (
            await db.query<{ idx: number; uri: string; inline_lines: string | null }>(
              'SELECT idx, uri, inline_lines FROM sluice_result_sets WHERE job_id = $1 ORDER BY idx',
              [id],
            )
          ).rows;
        const sub = await alice.submit({ code: "select 42 as answer, 'ü' as s; select range as n from range(5000)", creator: 'inline' });
        const done = await alice.waitFor(sub.body.id);
        assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
        const [small, large] = await index(sub.body.id);
        assert.deepEqual(small, { idx: 0, uri: 'inline:', inline_lines: '[42,"ü"]\n' });
        assert.equal(large?.inline_lines, null, 'a set over SLUICE_RESULT_INLINE_BYTES is not in the index');
        const file = fileURLToPath(large?.uri ?? '');
        assert.ok(existsSync(file), 'the large set is a file of the store');
        assert.deepEqual(
          readdirSync(path.dirname(file)).filter((f) => f.startsWith('0.')),
          [],
          'the small set has no file',
        );

        const page = await alice.request<{ rows: unknown[][] }>('GET', `/api/v1/jobs/${sub.body.id}/results/0?offset=0&limit=10`);
        assert.deepEqual(page.body.rows, [[42, 'ü']]);
        const csv = await alice.request<string>('GET', `/api/v1/jobs/${sub.body.id}/results/0/download?format=csv`);
        assert.equal(csv.body, 'answer,s\r\n42,ü\r\n');
        const big = await alice.request<{ rows: unknown[][] }>('GET', `/api/v1/jobs/${sub.body.id}/results/1?offset=4998&limit=10`);
        assert.deepEqual(big.body.rows, [['4998'], ['4999']]);
        const listed = await alice.request<{ items: Record<string, unknown>[] }>('GET', `/api/v1/jobs/${sub.body.id}/results`);
        assert.deepEqual(Object.keys(listed.body.items[0] ?? {}).sort(), ['bytes', 'columns', 'index', 'rows', 'truncated']);

        // Several small sets: each read gets its own set's lines from the index.
        const multi = await alice.submit({ code: "select 'a' as c; select 'b' as c, 2 as n; select 'c' as c", creator: 'inline' });
        assert.equal((await alice.waitFor(multi.body.id)).state, 'Succeed');
        for (const [n, row] of [
          [0, ['a']],
          [1, ['b', 2]],
          [2, ['c']],
        ] as const) {
          const one = await alice.request<{ rows: unknown[][] }>('GET', `/api/v1/jobs/${multi.body.id}/results/${n}`);
          assert.deepEqual(one.body.rows, [row]);
        }
        const third = await alice.request<string>('GET', `/api/v1/jobs/${multi.body.id}/results/2/download?format=jsonl`);
        assert.equal(third.body, '{"c":"c"}\n');
        const waited = await alice.request<{ results: { rows: unknown[][] }[] }>('GET', `/api/v1/jobs/${multi.body.id}?wait=5&rows=5`);
        assert.deepEqual(
          waited.body.results.map((r) => r.rows),
          [[['a']], [['b', 2]], [['c']]],
        );

        // A follow download waits for a set that will be kept inline, and gets it when the job ends.
        const blocker = await alice.submit({ code: 'select max(hash(range)) from range(100000000000)', creator: 'inline-follow' });
        const queued = await alice.submit({ code: "select 'later' as w", creator: 'inline-follow' });
        const following = fetch(`${alice.url}/api/v1/jobs/${queued.body.id}/results/0/download?format=csv&follow=true`, {
          headers: { authorization: `Bearer ${alice.token}` },
        });
        assert.equal((await alice.job(queued.body.id)).body.state, 'Inited', 'the followed job waits behind the blocker');
        assert.equal((await alice.request('POST', `/api/v1/jobs/${blocker.body.id}/cancel`)).status, 200);
        const res = await following;
        assert.equal(res.status, 200);
        assert.equal(await res.text(), 'w\r\nlater\r\n');
        assert.equal((await index(queued.body.id))[0]?.uri, 'inline:');
      } finally {
        await db.end();
      }
    });

    it('answers a submit with ?wait= when the job ends, with the first rows of each result set', async () => {
      type Outcome = JobBody & {
        results?: { resultSet: { index: number; rows: number; columns: { name: string }[] }; rows: unknown[][]; complete: boolean }[];
      };
      const sub = await alice.request<Outcome>('POST', '/api/v1/jobs?wait=20&rows=3', {
        code: "select range as n from range(5); select 'x' as s",
        creator: 'wait',
      });
      assert.equal(sub.status, 201, JSON.stringify(sub.body));
      assert.equal(sub.body.state, 'Succeed', JSON.stringify(sub.body.error));
      assert.equal(sub.body.results?.length, 2);
      assert.deepEqual(sub.body.results?.[0]?.rows, [['0'], ['1'], ['2']]);
      assert.equal(sub.body.results?.[0]?.resultSet.rows, 5);
      assert.equal(sub.body.results?.[0]?.complete, false);
      assert.deepEqual(sub.body.results?.[1]?.rows, [['x']]);
      assert.equal(sub.body.results?.[1]?.complete, true);

      // One result set: the response is built from the job's final status event; it matches a read.
      const one = await alice.request<Outcome>('POST', '/api/v1/jobs?wait=20', { code: 'select 7 as n', creator: 'wait' });
      assert.equal(one.body.state, 'Succeed', JSON.stringify(one.body.error));
      assert.deepEqual(one.body.results?.[0]?.rows, [[7]]);
      assert.equal(one.body.results?.[0]?.complete, true);
      assert.deepEqual(
        one.body.results?.[0]?.resultSet.columns.map((c) => c.name),
        ['n'],
      );
      const { results: _r, ...view } = one.body;
      const read = await alice.request<JobBody>('GET', `/api/v1/jobs/${one.body.id}`);
      assert.deepEqual(view, read.body);

      // Small sets travel with the job's end, larger ones are read from the result store: the rows
      // are the same either way, and the same as a read of the set.
      for (const code of ["select range as n, 'r' || range as s from range(3)", "select range as n, repeat('x', 300) as s from range(12)"]) {
        const out = await alice.request<Outcome>('POST', '/api/v1/jobs?wait=20&rows=10', { code, creator: 'wait' });
        assert.equal(out.body.state, 'Succeed', JSON.stringify(out.body.error));
        const page = await alice.request<{ rows: unknown[][] }>('GET', `/api/v1/jobs/${out.body.id}/results/0?limit=10`);
        assert.equal(page.status, 200);
        assert.ok(page.body.rows.length > 0);
        assert.deepEqual(out.body.results?.[0]?.rows, page.body.rows);
        assert.equal(out.body.results?.[0]?.complete, out.body.results?.[0]?.resultSet.rows === page.body.rows.length);
      }

      // A failed job comes back failed, with its error and no rows.
      const bad = await alice.request<Outcome>('POST', '/api/v1/jobs?wait=20', { code: 'select * from no_such_table', creator: 'wait' });
      assert.equal(bad.status, 201);
      assert.equal(bad.body.state, 'Failed');
      assert.equal(bad.body.error?.code, 'SLUICE_ENGINE_QUERY_FAILED');
      assert.deepEqual(bad.body.results, []);

      // The wait runs out first: the job as it is now, without results; GET with wait then sees it end.
      const t0 = Date.now();
      const slow = await alice.request<Outcome>('POST', '/api/v1/jobs?wait=0.5', { code: 'sleep 2; echo done', engineType: 'shell', creator: 'wait' });
      assert.equal(slow.status, 201);
      assert.ok(['Inited', 'Scheduled', 'Running'].includes(slow.body.state), slow.body.state);
      assert.equal(slow.body.results, undefined);
      assert.ok(Date.now() - t0 < 1900, 'the answer came when the wait ran out, not when the job ended');
      const later = await alice.request<Outcome>('GET', `/api/v1/jobs/${slow.body.id}?wait=20`);
      assert.equal(later.status, 200);
      assert.equal(later.body.state, 'Succeed');
      assert.deepEqual(later.body.results, []);

      // Another user's job cannot be waited on; a bad wait is a structured 400.
      const bob = ts.api(ts.tokens.bob);
      const peek = await bob.request('GET', `/api/v1/jobs/${sub.body.id}?wait=1`);
      assert.equal(peek.status, 403);
      assert.equal(peek.body.code, 'SLUICE_AUTH_FORBIDDEN');
      const invalid = await alice.request('POST', '/api/v1/jobs?wait=61', { code: 'select 1', creator: 'wait' });
      assert.equal(invalid.status, 400);
      assert.equal(invalid.body.code, 'SLUICE_REQUEST_INVALID');
      assert.match(String(invalid.body.message), /query\.wait/);
    });

    it('substitutes variables before the engine sees the code', async () => {
      const sub = await alice.submit({ code: "select '${run_date}' as d, ${n} + 1 as m", variables: { n: 41 }, creator: 'vars' });
      assert.equal(sub.status, 201, JSON.stringify(sub.body));
      const done = await alice.waitFor(sub.body.id);
      assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
      const page = await alice.request<{ rows: unknown[][] }>('GET', `/api/v1/jobs/${sub.body.id}/results/0`);
      assert.deepEqual(page.body.rows, [[yesterday(), 42]]);
    });

    it('returns the same job for a retried request with the same Idempotency-Key', async () => {
      const job = { code: 'select 1 as one', creator: 'idem' };
      const a = await alice.submit(job, { 'idempotency-key': 'k-1' });
      const b = await alice.submit(job, { 'idempotency-key': 'k-1' });
      assert.equal(a.status, 201);
      assert.equal(b.status, 200);
      assert.equal(b.body.id, a.body.id);
      const c = await alice.submit({ ...job, code: 'select 2' }, { 'idempotency-key': 'k-1' });
      assert.equal(c.status, 409);
      assert.equal(c.body.code, 'SLUICE_JOB_IDEMPOTENCY_CONFLICT');
      await alice.waitFor(a.body.id);
    });

    it('reports an SQL error as a failed job with the engine message, without retrying', async () => {
      const sub = await alice.submit({ code: 'select * from no_such_table', creator: 'err' });
      const done = await alice.waitFor(sub.body.id);
      assert.equal(done.state, 'Failed');
      assert.equal(done.error?.code, 'SLUICE_ENGINE_QUERY_FAILED');
      assert.match(done.error?.message ?? '', /no_such_table/);
      assert.equal(done.attempt, 0);
    });

    it('fails a job whose result exceeds the row limit with a clear error', async () => {
      const sub = await alice.submit({ code: 'select * from range(250000)', creator: 'big' });
      const done = await alice.waitFor(sub.body.id);
      assert.equal(done.state, 'Failed');
      assert.equal(done.error?.code, 'SLUICE_RESULT_ROW_LIMIT');
      assert.equal(done.error?.details.limit, 100000);
    });

    it('cancels a queued job and a running job, and the running work stops', async () => {
      const running = await alice.submit({ code: 'echo started; sleep 30; echo never', engineType: 'shell', creator: 'cancel' });
      await waitForLog(alice, running.body.id, 'started');
      const queued = await alice.submit({ code: 'echo queued', engineType: 'shell', creator: 'cancel' });
      assert.equal(queued.body.state, 'Inited', 'the group allows one running job, so the second waits');
      const c1 = await alice.request<JobBody>('POST', `/api/v1/jobs/${queued.body.id}/cancel`);
      assert.equal(c1.status, 200);
      assert.equal(c1.body.state, 'Cancelled');

      const t0 = Date.now();
      const c2 = await alice.request<JobBody>('POST', `/api/v1/jobs/${running.body.id}/cancel`);
      assert.equal(c2.status, 200);
      const done = await alice.waitFor(running.body.id);
      assert.equal(done.state, 'Cancelled');
      assert.equal(done.error?.code, 'SLUICE_JOB_CANCELLED');
      assert.ok(Date.now() - t0 < 8000, 'cancel reaches the engine promptly');
      const log = await alice.request<{ lines: { text: string }[] }>('GET', `/api/v1/jobs/${running.body.id}/log`);
      assert.ok(!log.body.lines.some((l) => l.text.includes('never')));
      const again = await alice.request('POST', `/api/v1/jobs/${running.body.id}/cancel`);
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'SLUICE_JOB_ALREADY_FINAL');
    });

    it('times out a running job and a job that waited too long', async () => {
      const slow = await alice.submit({ code: 'sleep 30', engineType: 'shell', creator: 'timeout', runTimeoutSeconds: 3 });
      const waiting = await alice.submit({ code: 'echo hi', engineType: 'shell', creator: 'timeout', queueTimeoutSeconds: 1 });
      const w = await alice.waitFor(waiting.body.id);
      assert.equal(w.state, 'Timeout');
      assert.equal(w.error?.code, 'SLUICE_JOB_QUEUE_TIMEOUT');
      const s = await alice.waitFor(slow.body.id);
      assert.equal(s.state, 'Timeout');
      assert.equal(s.error?.code, 'SLUICE_JOB_RUN_TIMEOUT');
    });

    it('lists jobs with filters and cursor paging, and only the caller’s own', async () => {
      const bob = ts.api(ts.tokens.bob);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await bob.submit({ code: `select ${i}`, creator: 'list' })).body.id);
      for (const id of ids) await bob.waitFor(id);
      const p1 = await bob.request<{ items: JobBody[]; nextCursor: string | null }>('GET', '/api/v1/jobs?limit=2&creator=list');
      assert.equal(p1.status, 200);
      assert.deepEqual(
        p1.body.items.map((j) => j.id),
        [ids[4], ids[3]],
      );
      assert.ok(p1.body.nextCursor);
      const p2 = await bob.request<{ items: JobBody[]; nextCursor: string | null }>('GET', `/api/v1/jobs?limit=2&creator=list&cursor=${p1.body.nextCursor}`);
      assert.deepEqual(
        p2.body.items.map((j) => j.id),
        [ids[2], ids[1]],
      );
      const all = await bob.request<{ items: JobBody[] }>('GET', '/api/v1/jobs?limit=500');
      assert.ok(all.body.items.every((j) => j.user === 'bob'));
      const filtered = await bob.request<{ items: JobBody[] }>('GET', '/api/v1/jobs?state=Succeed&engineType=duckdb&creator=list');
      assert.equal(filtered.body.items.length, 5);
      const none = await bob.request<{ items: JobBody[] }>('GET', '/api/v1/jobs?engineType=shell&creator=list');
      assert.equal(none.body.items.length, 0);
      const admin = ts.api(ts.tokens.admin);
      const everyone = await admin.request<{ items: JobBody[] }>('GET', '/api/v1/jobs?limit=500');
      assert.ok(new Set(everyone.body.items.map((j) => j.user)).size >= 2, 'an admin sees every user');
      const bad = await bob.request('GET', '/api/v1/jobs?state=Nope');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'SLUICE_REQUEST_INVALID');
    });
  });
}

async function waitForLog(api: ApiClient, id: string, text: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await api.request<{ lines: { text: string }[] }>('GET', `/api/v1/jobs/${id}/log`);
    if (r.body.lines?.some((l) => l.text.includes(text))) return;
    if (Date.now() > deadline) throw new Error(`log of ${id} never showed ${text}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
