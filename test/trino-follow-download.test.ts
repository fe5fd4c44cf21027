import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ensureTrino } from '../packages/engine-conn-presto/test/trino-server.ts';
import { type ApiClient, startTestStack, type TestEnv, type TestStack, testEnv } from './support/test-stack.ts';

/**
 * `GET /api/v1/jobs/:id/results/:n/download?follow=true` on a job that is still running, through the
 * whole stack (real PostgreSQL, Redis, and the real Trino of scripts/engines/trino.sh): the download
 * starts while Trino still sends rows, gets every row once and in order, and ends when the job ends;
 * a job that fails or is cancelled meanwhile aborts the download.
 */

/** The stack's row limit: the uncapped query below runs into it after writing this many rows. */
const ROW_LIMIT = 400_000;
/** About 375,000 rows, under the limit. */
const BIG = 'SELECT orderkey, custkey, orderstatus, totalprice, orderdate, comment FROM tpch.sf1.orders WHERE orderkey < 1500000';
/** All 1,500,000 rows: fails with SLUICE_RESULT_ROW_LIMIT once 400,000 are written. */
const TOO_BIG = 'SELECT orderkey, custkey, orderstatus, totalprice, orderdate, comment FROM tpch.sf1.orders';

/** A download in progress: its status, and its body read chunk by chunk into a hash and a line count. */
interface Download {
  status: number;
  /** Resolves once the first chunk of the body arrived. */
  firstChunk: Promise<void>;
  /** Resolves with the whole body's line count and SHA-256, or rejects when the transfer is cut. */
  body: Promise<{ lines: number; sha256: string; bytes: number }>;
}

async function startDownload(api: ApiClient, jobId: string, query: string): Promise<Download> {
  const res = await fetch(`${api.url}/api/v1/jobs/${jobId}/results/0/download?${query}`, { headers: { authorization: `Bearer ${api.token}` } });
  if (res.status !== 200 || !res.body)
    return { status: res.status, firstChunk: Promise.resolve(), body: res.text().then(() => ({ lines: 0, sha256: '', bytes: 0 })) };
  let gotFirst: () => void = () => {};
  const firstChunk = new Promise<void>((resolve) => {
    gotFirst = resolve;
  });
  const body = (async () => {
    const hash = createHash('sha256');
    let lines = 0;
    let bytes = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      gotFirst();
      const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      hash.update(buf);
      bytes += buf.length;
      for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) lines++;
    }
    gotFirst();
    return { lines, sha256: hash.digest('hex'), bytes };
  })();
  // A failed transfer must not surface as an unhandled rejection before the test awaits it.
  body.catch(() => {});
  return { status: res.status, firstChunk, body };
}

describe('following a Trino result set while the job writes it', () => {
  let env: TestEnv;
  let ts: TestStack | undefined;
  let alice: ApiClient;

  const submit = async (code: string): Promise<string> => {
    const sub = await alice.submit({ code, engineType: 'trino', dataSource: 'follow_trino' });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    return sub.body.id;
  };

  before(async () => {
    const trino = await ensureTrino();
    env = await testEnv('redis');
    ts = await startTestStack(env, { overrides: { SLUICE_ENGINES: 'duckdb,trino', SLUICE_RESULT_MAX_ROWS: String(ROW_LIMIT), SLUICE_MAX_RETRIES: '0' } });
    alice = ts.api(ts.tokens.alice);
    const created = await alice.request('POST', '/api/v1/datasources', {
      name: 'follow_trino',
      type: 'trino',
      params: { host: trino.host, port: trino.port, catalog: 'tpch', schema: 'sf1' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await alice.request('POST', '/api/v1/datasources/follow_trino/versions/1/publish')).status, 200);
    // The engine launch is not what these tests time.
    const warm = await alice.waitFor(await submit('SELECT 1'), undefined, 120_000);
    assert.equal(warm.state, 'Succeed', JSON.stringify(warm.error));
  });

  after(async () => {
    await ts?.stop();
    await env?.cleanup();
  });

  for (const format of ['csv', 'jsonl'] as const) {
    it(`${format}: a download started with the job streams every row once, in order, and ends when the job ends`, async () => {
      const id = await submit(BIG);
      const followed = await startDownload(alice, id, `format=${format}&follow=true`);
      assert.equal(followed.status, 200);
      await followed.firstChunk;
      const midway = await alice.job(id);
      assert.equal(midway.body.state, 'Running', 'the first rows arrived while the job still ran');
      const got = await followed.body;
      const done = await alice.waitFor(id, undefined, 60_000);
      assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
      // The same set read after the job: byte for byte what the follow delivered.
      const sealed = await startDownload(alice, id, `format=${format}`);
      assert.equal(sealed.status, 200);
      const whole = await sealed.body;
      const sets = await alice.request<{ items: { rows: number }[] }>('GET', `/api/v1/jobs/${id}/results`);
      const rows = sets.body.items[0]?.rows ?? 0;
      assert.ok(rows > 300_000, `a big result: ${rows} rows`);
      assert.equal(got.lines, format === 'csv' ? rows + 1 : rows);
      assert.equal(got.bytes, whole.bytes);
      assert.equal(got.sha256, whole.sha256);
    });
  }

  it('the rows of a followed download are those of the query, each once', async () => {
    const id = await submit('SELECT orderkey FROM tpch.sf1.orders WHERE orderkey < 1500000');
    const res = await fetch(`${alice.url}/api/v1/jobs/${id}/results/0/download?format=jsonl&follow=true`, {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    assert.equal(res.status, 200);
    const keys = new Set<number>();
    let carry = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const text = carry + Buffer.from(chunk).toString('utf8');
      const lines = text.split('\n');
      carry = lines.pop() ?? '';
      for (const line of lines) {
        const k = (JSON.parse(line) as { orderkey: number }).orderkey;
        assert.ok(!keys.has(k), `orderkey ${k} delivered twice`);
        keys.add(k);
      }
    }
    assert.equal(carry, '');
    const count = await alice.waitFor(await submit('SELECT count(*) AS n FROM tpch.sf1.orders WHERE orderkey < 1500000'), undefined, 60_000);
    const n = await alice.request<{ rows: unknown[][] }>('GET', `/api/v1/jobs/${count.id}/results/0`);
    assert.equal(keys.size, Number(n.body.rows[0]?.[0]));
  });

  it('a job that fails mid-way (its row limit) aborts the download: the transfer is cut, never ended cleanly', async () => {
    const id = await submit(TOO_BIG);
    const followed = await startDownload(alice, id, 'format=csv&follow=true');
    assert.equal(followed.status, 200);
    await assert.rejects(followed.body, (e: Error) => e instanceof TypeError || /terminated|aborted|socket/i.test(String(e)));
    const done = await alice.waitFor(id, undefined, 60_000);
    assert.equal(done.state, 'Failed');
    assert.equal(done.error?.code, 'SLUICE_RESULT_ROW_LIMIT');
  });

  it('a job cancelled while its result is followed aborts the download', async () => {
    const id = await submit(BIG);
    const followed = await startDownload(alice, id, 'format=jsonl&follow=true');
    assert.equal(followed.status, 200);
    await followed.firstChunk;
    const cancel = await alice.request('POST', `/api/v1/jobs/${id}/cancel`);
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    await assert.rejects(followed.body, (e: Error) => e instanceof TypeError || /terminated|aborted|socket/i.test(String(e)));
    assert.equal((await alice.waitFor(id, undefined, 60_000)).state, 'Cancelled');
  });

  it('a set the job never writes is 404 once the job ends; without follow, an unsealed set is 404 at once', async () => {
    const id = await submit('SELECT 1 AS one');
    const missing = await alice.request<{ code: string }>('GET', `/api/v1/jobs/${id}/results/1/download?follow=true`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'SLUICE_RESULT_NOT_FOUND');
    const running = await submit(BIG);
    const plain = await alice.request<{ code: string }>('GET', `/api/v1/jobs/${running}/results/0/download`);
    assert.equal(plain.status, 404);
    assert.equal(plain.body.code, 'SLUICE_RESULT_NOT_FOUND');
    await alice.request('POST', `/api/v1/jobs/${running}/cancel`);
    // A small set followed from the start is delivered whole as well.
    const small = await submit('SELECT * FROM (VALUES 1, 2, 3) AS t(n)');
    const got = await startDownload(alice, small, 'format=csv&follow=true');
    assert.equal(got.status, 200);
    assert.equal((await got.body).lines, 4);
  });
});
