import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isFinalState, type JobState } from '@sluice/core';
import { waitFor } from '@sluice/testkit';
import { BACKENDS, startTestStack, type TestEnv, type TestStack, testEnv } from './support/test-stack.ts';
import { type Frame, WsTestClient } from './support/ws-client.ts';

const isFinal = (f: Frame, jobId: string) =>
  f.type === 'status' && f.jobId === jobId && ['Succeed', 'Failed', 'Cancelled', 'Timeout'].includes(f.state as string);

for (const backend of BACKENDS) {
  describe(`WebSocket end to end on ${backend}`, () => {
    let env: TestEnv;
    let ts: TestStack;

    before(async () => {
      env = await testEnv(backend);
      ts = await startTestStack(env, { overrides: { SLUICE_WS_MAX_BUFFER_BYTES: String(256 * 1024) } });
    });
    after(async () => {
      await ts?.stop();
      await env?.cleanup();
    });

    it('submits, streams status, log and result-ready, and cancels', async () => {
      const ws = await WsTestClient.connect(ts.url, ts.tokens.alice);
      ws.send({ type: 'submit', reqId: 'r1', job: { code: 'select 42 as answer' } });
      const submitted = await ws.until((fs) => fs.find((f) => f.type === 'submitted' && f.reqId === 'r1'));
      const jobId = (submitted.job as { id: string }).id;
      await ws.until((fs) => fs.find((f) => isFinal(f, jobId)), 20_000, 'final status');
      const status = ws.frames.filter((f) => f.type === 'status' && f.jobId === jobId).map((f) => f.state);
      assert.equal(status[status.length - 1], 'Succeed');
      assert.ok(status.includes('Running'), `saw ${status.join(',')}`);
      const result = ws.frames.find((f) => f.type === 'result' && f.jobId === jobId);
      assert.ok(result, 'a result-ready frame');
      assert.equal(result.rows, 1);
      assert.deepEqual(result.columns, [{ name: 'answer', type: 'INTEGER' }]);
      assert.ok(ws.logLines(jobId).size >= 1);

      ws.send({ type: 'submit', reqId: 'r2', job: { code: 'echo go; sleep 30', engineType: 'shell' } });
      const s2 = await ws.until((fs) => fs.find((f) => f.type === 'submitted' && f.reqId === 'r2'));
      const id2 = (s2.job as { id: string }).id;
      await ws.until(() => [...ws.logLines(id2).values()].includes('go'), 20_000, 'first log line');
      ws.send({ type: 'cancel', reqId: 'c2', jobId: id2 });
      await ws.until((fs) => fs.find((f) => f.type === 'cancelled' && f.reqId === 'c2'));
      const fin = await ws.until((fs) => fs.find((f) => isFinal(f, id2)), 20_000, 'cancelled status');
      assert.equal(fin.state, 'Cancelled');
      ws.close();
    });

    it('streams progress frames while a long scan runs', async () => {
      const ws = await WsTestClient.connect(ts.url, ts.tokens.bob);
      const code = 'create table t as select range a, range % 97 b from range(20000000); select b, count(distinct a) as n from t group by b order by b';
      ws.send({ type: 'submit', reqId: 'p', job: { code } });
      const sub = await ws.until((fs) => fs.find((f) => f.type === 'submitted'));
      const jobId = (sub.job as { id: string }).id;
      await ws.until((fs) => fs.find((f) => isFinal(f, jobId)), 180_000, 'final status');
      const progress = ws.frames.filter((f) => f.type === 'progress' && f.jobId === jobId).map((f) => f.progress as number);
      assert.ok(progress.length >= 1, 'at least one progress frame');
      assert.ok(
        progress.every((p) => p >= 0 && p <= 1),
        `progress within [0, 1]: ${progress.join(',')}`,
      );
      assert.ok(
        progress.some((p) => p > 0),
        'progress moved',
      );
      assert.equal(ws.frames.find((f) => isFinal(f, jobId))?.state, 'Succeed');
      const job = await ts.api(ts.tokens.bob).job(jobId);
      assert.equal(job.body.progress, 1);
      ws.close();
    });

    it('resumes a subscription after a reconnect with no lost and no duplicated log line', async () => {
      const script = 'for i in $(seq 1 400); do echo line-$i; sleep 0.005; done';
      const first = await WsTestClient.connect(ts.url, ts.tokens.alice);
      first.send({ type: 'submit', reqId: 's', job: { code: script, engineType: 'shell' } });
      const sub = await first.until((fs) => fs.find((f) => f.type === 'submitted'));
      const jobId = (sub.job as { id: string }).id;
      await first.until(() => first.logLines(jobId).size >= 60, 20_000, 'some lines');
      first.terminate();
      const got = first.logLines(jobId);
      const last = Math.max(...got.keys());

      const second = await WsTestClient.connect(ts.url, ts.tokens.alice);
      second.send({ type: 'subscribe', jobId, fromLine: last + 1 });
      await second.until((fs) => fs.find((f) => isFinal(f, jobId)), 30_000, 'final status');
      const rest = second.logLines(jobId);
      for (const [n, text] of rest) {
        assert.ok(!got.has(n), `line ${n} received twice across the reconnect`);
        got.set(n, text);
      }
      const job = await ts.api(ts.tokens.alice).job(jobId);
      assert.equal(job.body.state, 'Succeed');
      const total = job.body.logLines;
      assert.equal(got.size, total, 'every line exactly once');
      for (let n = 1; n <= total; n++) assert.ok(got.has(n), `line ${n} missing`);
      const echoed = [...got.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([, t]) => t)
        .filter((t) => t.startsWith('line-'));
      assert.deepEqual(
        echoed,
        Array.from({ length: 400 }, (_, i) => `line-${i + 1}`),
      );
      second.close();
    });

    it('closes a client that does not read with the documented code, and the client can resume', async () => {
      const ws = await WsTestClient.connect(ts.url, ts.tokens.alice);
      const lines = 2500;
      const script = `for i in $(seq 1 ${lines}); do printf 'line-%d %s\\n' $i $(head -c 8000 /dev/zero | tr '\\0' x); done`;
      ws.send({ type: 'submit', reqId: 's', job: { code: script, engineType: 'shell' } });
      const sub = await ws.until((fs) => fs.find((f) => f.type === 'submitted'));
      const jobId = (sub.job as { id: string }).id;
      // Stop reading from the TCP socket: the kernel buffers fill, then the server's send buffer.
      const tcp = (ws.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      tcp.pause();
      const api = ts.api(ts.tokens.alice);
      // Resume once far more log than the server may buffer (256 KiB here) has been produced, and
      // not later: the server ends the close handshake by force 30 s after its close frame (1006).
      await waitFor(
        async () => {
          const j = (await api.job(jobId)).body;
          return j.logLines >= 2000 || ['Succeed', 'Failed', 'Cancelled', 'Timeout'].includes(j.state) ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100, what: 'the job to write 16 MB of log' },
      );
      tcp.resume();
      const code = await ws.waitForClose(30_000);
      assert.equal(code, 4008, 'closed as a slow consumer');
      const got = ws.logLines(jobId);
      assert.ok(got.size < lines, `the slow client got only part of the log (${got.size} lines) before the close`);
      const last = got.size ? Math.max(...got.keys()) : 0;

      assert.equal((await api.waitFor(jobId, undefined, 60_000)).state, 'Succeed');
      const again = await WsTestClient.connect(ts.url, ts.tokens.alice);
      again.send({ type: 'subscribe', jobId, fromLine: last + 1 });
      const total = (await api.job(jobId)).body.logLines;
      await again.until(() => again.logLines(jobId).size === total - last, 30_000, 'the rest of the log after resume');
      for (const [n, text] of again.logLines(jobId)) {
        assert.ok(!got.has(n), `line ${n} twice`);
        got.set(n, text);
      }
      assert.equal(got.size, total);
      again.close();
    });

    it('streams result rows as the job produces them to a subscriber that asks for them, and only to it', async () => {
      const withRows = await WsTestClient.connect(ts.url, ts.tokens.alice);
      const code = 'SELECT range AS n, range * 3 AS t FROM range(3000)';
      withRows.send({ type: 'submit', reqId: 'live', rows: true, job: { code } });
      const sub = await withRows.until((fs) => fs.find((f) => f.type === 'submitted' && f.reqId === 'live'));
      const jobId = (sub.job as { id: string }).id;
      const plain = await WsTestClient.connect(ts.url, ts.tokens.alice);
      plain.send({ type: 'subscribe', jobId });
      await withRows.until((fs) => fs.find((f) => isFinal(f, jobId)), 30_000, 'final status');
      const frames = withRows.frames.filter((f) => f.type === 'rows' && f.jobId === jobId);
      assert.ok(frames.length >= 1, 'rows frames');
      // In order, contiguous from offset 0, and equal to what the results API returns.
      let next = 0;
      const live: unknown[][] = [];
      for (const f of frames) {
        assert.equal(f.index, 0);
        assert.equal(f.offset, next);
        live.push(...(f.rows as unknown[][]));
        next += (f.rows as unknown[][]).length;
      }
      assert.equal(live.length, 3000);
      const stored = await ts.api(ts.tokens.alice).request<{ rows: unknown[][] }>('GET', `/api/v1/jobs/${jobId}/results/0?limit=3000`);
      assert.deepEqual(live, stored.body.rows);
      // The rows frames come before the result-ready frame of their set.
      const order = withRows.frames.filter((f) => f.jobId === jobId).map((f) => f.type);
      assert.ok(order.lastIndexOf('rows') < order.indexOf('result'), order.join(','));
      // A job that ended before the plain client subscribed says so in the `subscribed` frame itself.
      const endedAtSubscribe = (f: Frame) => f.type === 'subscribed' && f.jobId === jobId && isFinalState((f.job as { state: JobState }).state);
      await plain.until((fs) => fs.find((f) => isFinal(f, jobId) || endedAtSubscribe(f)), 30_000, 'final status (plain)');
      assert.equal(plain.frames.filter((f) => f.type === 'rows').length, 0, 'no rows frames without rows: true');
      withRows.close();
      plain.close();
    });

    it('answers an invalid frame with a structured error and rejects a missing token', async () => {
      const ws = await WsTestClient.connect(ts.url, ts.tokens.alice);
      ws.socket.send('not json');
      ws.send({ type: 'subscribe', reqId: 'x' });
      ws.send({ type: 'subscribe', reqId: 'y', jobId: '01ZZZZZZZZZZZZZZZZZZZZZZZZ' });
      const errors = await ws.until((fs) => {
        const e = fs.filter((f) => f.type === 'error');
        return e.length >= 3 ? e : undefined;
      });
      const codeOf = (f: Frame | undefined) => (f?.error as { code?: string } | undefined)?.code;
      assert.equal(codeOf(errors[0]), 'SLUICE_WS_MESSAGE_INVALID');
      assert.equal(codeOf(errors[1]), 'SLUICE_WS_MESSAGE_INVALID');
      assert.equal(errors[1]?.reqId, 'x');
      assert.equal(codeOf(errors[2]), 'SLUICE_JOB_NOT_FOUND');
      ws.close();

      const anon = await WsTestClient.connect(ts.url);
      assert.equal(await anon.waitForClose(), 4001);
      assert.equal(codeOf(anon.frames[0]), 'SLUICE_AUTH_MISSING');
    });
  });
}
