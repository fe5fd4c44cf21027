import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseJobRef, SESSION_COOKIE } from '../../apps/gateway/src/linkis/index.ts';
import { type TestEnv, testEnv } from '../support/test-stack.ts';
import { LinkisClient, type LinkisStack, startLinkisStack } from './linkis-stack.ts';
import { type LinkisFrame, LinkisWsClient } from './linkis-ws-client.ts';

const PREFIX = '/api/rest_j/v1';

/** Pushes of one job, by kind. */
function pushes(frames: LinkisFrame[], execID: string, kind: 'log' | 'status' | 'progress'): LinkisFrame[] {
  return frames.filter((f) => f.method === `${PREFIX}/entrance/${execID}/${kind}`);
}

/** The log lines a client assembled from the pushes (the "all" part of each). */
function pushedLines(frames: LinkisFrame[], execID: string): string[] {
  return pushes(frames, execID, 'log').flatMap((f) => ((f.data.log as string[])[3] ?? '').split('\n').filter(Boolean));
}

function finalStatus(frames: LinkisFrame[], execID: string): string | undefined {
  const s = pushes(frames, execID, 'status').map((f) => f.data.status as string);
  const last = s[s.length - 1];
  return last && ['Succeed', 'Failed', 'Cancelled', 'Timeout'].includes(last) ? last : undefined;
}

describe('Linkis WebSocket /ws/api/entrance/connect over the Sluice bus (PostgreSQL backend)', () => {
  let env: TestEnv;
  let s: LinkisStack;
  let headers: Record<string, string>;
  const open: LinkisWsClient[] = [];
  const connect = async (h: Record<string, string>) => {
    const c = await LinkisWsClient.connect(s.url, h);
    open.push(c);
    return c;
  };

  before(async () => {
    env = await testEnv('postgres');
    // One running job per (user, creator, engine) group, so a second job of a group waits for admission;
    // waiting jobs get their queue position pushed twice a second instead of every 30 s.
    s = await startLinkisStack(env, { overrides: { SLUICE_MAX_RUNNING_PER_GROUP: '1' }, linkis: { waitingSizeIntervalMs: 300 } });
    headers = { 'Token-User': 'alice', 'Token-Code': s.ts.tokens.alice };
    // A published data source on the test database: JDBC jobs of several statements report progress.
    const db = new URL(env.db.url);
    const owner = { user: 'alice', admin: false };
    await s.ts.stack.dataSources.create(owner, {
      name: 'ws_pg',
      type: 'postgresql',
      params: {
        host: db.hostname,
        port: Number(db.port || 5432),
        database: db.pathname.slice(1),
        user: decodeURIComponent(db.username),
        password: decodeURIComponent(db.password),
      },
    });
    await s.ts.stack.dataSources.publish(owner, 'ws_pg', 1);
  });
  after(async () => {
    for (const c of open) c.close();
    await s?.stop();
    await env?.cleanup();
  });

  it('refuses a connection without login: a no-login message, then close 4001', async () => {
    const c = await connect({});
    const first = await c.until((f) => f[0], 'the no-login message');
    assert.equal(first.status, -1);
    assert.equal(first.message, 'You are not logged in, please login first(您尚未登录，请先登录)!');
    assert.equal(await c.closed(), 4001);
  });

  it('executes a job and pushes its log, status and end, tagged, in order and exactly once', async () => {
    const c = await connect(headers);
    c.send({
      method: `${PREFIX}/entrance/execute`,
      websocketTag: 'tag-1',
      data: {
        executionContent: { code: 'for i in 1 2 3 4 5 6; do echo line-$i; sleep 0.15; done; echo "WARN careful"', runType: 'shell' },
        labels: { engineType: 'shell-1', userCreator: 'alice-IDE' },
      },
    });
    const ack = await c.until((f) => f.find((x) => x.method === `${PREFIX}/entrance/execute`), 'the execute reply');
    assert.equal(ack.status, 0);
    assert.equal(ack.message, 'Request execution succeeded(请求执行成功)');
    assert.equal(ack.data.websocketTag, 'tag-1');
    const execID = ack.data.execID as string;
    const taskID = ack.data.taskID as number;
    assert.match(execID, /^\d{6}IDEshell127\.0\.0\.1:\d+IDE_alice_shell_\d+$/, 'the legacy execID format of the Linkis WebSocket');
    assert.equal(parseJobRef(execID), String(taskID));

    await c.until((f) => finalStatus(f, execID), 'the final status');
    assert.equal(finalStatus(c.frames, execID), 'Succeed');
    for (const kind of ['log', 'status'] as const) {
      const ps = pushes(c.frames, execID, kind);
      assert.ok(ps.length > 0, kind);
      for (const p of ps) {
        assert.equal(p.status, 0);
        assert.equal(p.data.websocketTag, 'tag-1');
        assert.equal(p.data.taskID, taskID);
        assert.equal(p.data.execID, execID);
      }
    }
    assert.equal(pushes(c.frames, execID, 'log')[0]?.message, 'Return log information(返回日志信息)');
    assert.equal(pushes(c.frames, execID, 'status')[0]?.message, 'Get the status of the task successfully(获取任务状态成功)');
    const stored = (await s.ts.stack.entrance.log({ user: 'alice', admin: false }, String(taskID), 1, 1000)).lines.map((l) => l.text);
    assert.deepEqual(
      pushedLines(c.frames, execID),
      [...stored, 'Congratulations. Your job completed with status Success.'],
      'every line once, in order, then the end',
    );
    assert.ok(stored.includes('line-6'));
    const warn = pushes(c.frames, execID, 'log').find((p) => (p.data.log as string[])[1]);
    assert.ok(warn, 'a push with a WARN line');
    assert.equal((warn.data.log as string[])[1], 'WARN careful', 'WARN lines are in the warn slot');
    const lastFrame = c.frames[c.frames.length - 1];
    assert.equal(lastFrame?.method, `${PREFIX}/entrance/${execID}/status`, 'the final status is the last push');
    const statuses = pushes(c.frames, execID, 'status').map((p) => p.data.status);
    assert.ok(statuses.includes('Running'), JSON.stringify(statuses));
  });

  it('pushes progress of a job of several statements', async () => {
    const c = await connect(headers);
    c.send({
      method: `${PREFIX}/entrance/execute`,
      websocketTag: 'p',
      data: {
        executionContent: { code: 'select 1; select pg_sleep(0.3); select 2; select 3', runType: 'jdbc' },
        params: { configuration: { runtime: { 'linkis.datasource': 'ws_pg' } } },
        labels: { engineType: 'jdbc-4', userCreator: 'alice-IDE' },
      },
    });
    const ack = await c.until((f) => f.find((x) => x.method === `${PREFIX}/entrance/execute`), 'the execute reply');
    assert.equal(ack.status, 0, JSON.stringify(ack));
    const execID = ack.data.execID as string;
    await c.until((f) => finalStatus(f, execID), 'the final status');
    assert.equal(finalStatus(c.frames, execID), 'Succeed');
    const progress = pushes(c.frames, execID, 'progress');
    assert.ok(progress.length >= 2, JSON.stringify(progress));
    assert.equal(progress[0]?.message, 'return the schedule information (返回进度信息!)');
    const values = progress.map((p) => p.data.progress as number);
    assert.deepEqual(
      [...values].sort((a, b) => a - b),
      values,
      'progress only grows',
    );
    assert.ok(values.every((v) => v > 0 && v <= 1));
    // The JDBC connector reports statements done of the script: Linkis' progressInfo counts them as tasks.
    for (const p of progress) {
      const info = p.data.progressInfo as { id: string; succeedTasks: number; failedTasks: number; runningTasks: number; totalTasks: number }[];
      assert.equal(info.length, 1, JSON.stringify(p.data));
      const [e] = info;
      assert.equal(e?.id, String(ack.data.taskID));
      assert.equal(e?.totalTasks, 4);
      assert.equal(e?.failedTasks, 0);
      assert.equal(e?.succeedTasks, Math.floor((p.data.progress as number) * 4 + 1e-9));
      assert.equal(e?.runningTasks, e?.succeedTasks === 4 ? 0 : 1);
    }
    assert.equal(progress[0]?.data.websocketTag, 'p');
  });

  it('pushes a job to the first socket that asks its status when nobody follows it', async () => {
    const rest = LinkisClient.withToken(s.url, 'bob', s.ts.tokens.bob);
    // bob has no socket yet: nothing follows this job.
    const job = await rest.submit({
      executionContent: { code: 'sleep 1.5; echo claimed-line', runType: 'shell' },
      labels: { engineType: 'shell-1', userCreator: 'bob-CLAIM' },
    });
    const c = await connect({ 'Token-User': 'bob', 'Token-Code': s.ts.tokens.bob });
    c.send({ method: `${PREFIX}/entrance/${job.execID}/status`, websocketTag: 'st' });
    const reply = await c.until((f) => f.find((x) => x.data.websocketTag === 'st'), 'the status reply');
    assert.equal(reply.status, 0);
    const finalPush = await c.until(
      (f) => f.find((x) => x.data.taskID === job.taskID && /\/status$/.test(x.method ?? '') && x.data.status === 'Succeed'),
      'the final status push',
    );
    const execID = finalPush.data.execID as string;
    assert.match(execID, /^\d{6}CLAIMshell/, 'pushes carry the legacy execID');
    assert.equal(finalPush.data.websocketTag, 'st', 'a claimed job is tagged with the claiming frame');
    assert.match(pushedLines(c.frames, execID).join('\n'), /claimed-line\nCongratulations\. Your job completed with status Success\./);
    c.close();
    await c.closed();
  });

  it('pushes a job submitted over REST to every socket of its user, and to nobody else', async () => {
    const a1 = await connect(headers);
    const a2 = await connect(headers);
    const b = await connect({ 'Token-User': 'bob', 'Token-Code': s.ts.tokens.bob });
    const rest = LinkisClient.withToken(s.url, 'alice', s.ts.tokens.alice);
    const job = await rest.submit({
      executionContent: { code: 'echo rest-one; sleep 0.3; echo rest-two', runType: 'shell' },
      labels: { engineType: 'shell-1', userCreator: 'alice-REST' },
    });
    const isFinal = (f: LinkisFrame) => f.data.taskID === job.taskID && /\/status$/.test(f.method ?? '') && f.data.status === 'Succeed';
    const p1 = await a1.until((f) => f.find(isFinal), 'the final status on the first socket');
    const p2 = await a2.until((f) => f.find(isFinal), 'the final status on the second socket');
    assert.equal(p1.data.execID, p2.data.execID);
    assert.equal(p1.data.websocketTag, null, 'a REST job has no tag');
    const execID = p1.data.execID as string;
    for (const c of [a1, a2]) assert.match(pushedLines(c.frames, execID).join('\n'), /rest-one\nrest-two\nCongratulations/);
    await rest.waitFinal(job.execID);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(b.frames.filter((f) => f.data.taskID === job.taskID).length, 0, "another user's socket gets none of it");
    b.close();
    await b.closed();
  });

  it('sends the pushes of a job to the other sockets of its user once the submitting socket is gone', async () => {
    const owner = await connect(headers);
    const other = await connect(headers);
    owner.send({
      method: `${PREFIX}/entrance/execute`,
      websocketTag: 'gone',
      data: { executionContent: { code: 'sleep 1; echo after-close', runType: 'shell' }, labels: { engineType: 'shell-1', userCreator: 'alice-OWN' } },
    });
    const ack = await owner.until((f) => f.find((x) => x.method === `${PREFIX}/entrance/execute`), 'the execute reply');
    const execID = ack.data.execID as string;
    await owner.until((f) => pushes(f, execID, 'status')[0], 'the first status push');
    assert.equal(pushes(other.frames, execID, 'status').length, 0, 'while the submitting socket is open, only it gets the pushes');
    owner.close();
    await owner.closed();
    await other.until((f) => finalStatus(f, execID), 'the final status on the other socket');
    assert.equal(finalStatus(other.frames, execID), 'Succeed');
    assert.match(pushedLines(other.frames, execID).join('\n'), /after-close\nCongratulations/);
    assert.equal(pushes(other.frames, execID, 'status').at(-1)?.data.websocketTag, 'gone');
  });

  it('pushes the queue position (waitingSize) of jobs waiting for admission', async () => {
    const c = await connect(headers);
    const execute = (tag: string) =>
      c.send({
        method: `${PREFIX}/entrance/execute`,
        websocketTag: tag,
        data: { executionContent: { code: 'sleep 30', runType: 'shell' }, labels: { engineType: 'shell-1', userCreator: 'alice-QUEUE' } },
      });
    const acks: LinkisFrame[] = [];
    for (const tag of ['q1', 'q2', 'q3']) {
      execute(tag);
      acks.push(await c.until((f) => f.find((x) => x.method === `${PREFIX}/entrance/execute` && x.data.websocketTag === tag), `ack ${tag}`));
    }
    const [first, second, third] = acks.map((a) => a.data.execID as string) as [string, string, string];
    const waiting = (execID: string) => (f: LinkisFrame[]) => f.find((x) => x.method === `${PREFIX}/entrance/${execID}/waitingSize`);
    const w2 = await c.until(waiting(second), 'waitingSize of the second job');
    const w3 = await c.until(waiting(third), 'waitingSize of the third job');
    assert.deepEqual(w2, {
      method: `${PREFIX}/entrance/${second}/waitingSize`,
      status: 0,
      message: 'Get waiting size succeed.',
      data: { execID: second, taskID: acks[1]?.data.taskID, websocketTag: 'q2', waitingSize: 0 },
    });
    assert.equal(w3.data.waitingSize, 1);
    assert.equal(waiting(first)(c.frames), undefined, 'the admitted job has no queue position');
    const rest = LinkisClient.withToken(s.url, 'alice', s.ts.tokens.alice);
    for (const a of acks) await rest.get(`entrance/${a.data.execID}/kill`);
    for (const id of [first, second, third]) await c.until((f) => finalStatus(f, id), `end of ${id}`);
  });

  it('serves progressInfo over REST while a job runs', async () => {
    const rest = LinkisClient.withToken(s.url, 'alice', s.ts.tokens.alice);
    const job = await rest.submit({
      executionContent: { code: 'select pg_sleep(0.4); select pg_sleep(0.4); select pg_sleep(0.4); select 1', runType: 'jdbc' },
      params: { configuration: { runtime: { 'linkis.datasource': 'ws_pg' } } },
      labels: { engineType: 'jdbc-4', userCreator: 'alice-PROG' },
    });
    const seen: unknown[] = [];
    for (;;) {
      const r = await rest.get(`entrance/${job.execID}/progress`);
      assert.equal(r.body.status, 0);
      const info = r.body.data.progressInfo as unknown[];
      if (info.length) seen.push(...info);
      const st = await rest.get(`entrance/${job.execID}/status`);
      if (st.body.data.status === 'Succeed') break;
      assert.ok(['Inited', 'Scheduled', 'Running'].includes(st.body.data.status as string), JSON.stringify(st.body));
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(seen.length > 0, 'some progress detail while it ran');
    for (const e of seen) {
      assert.deepEqual(Object.keys(e as object).sort(), ['failedTasks', 'id', 'runningTasks', 'succeedTasks', 'totalTasks']);
      assert.equal((e as { totalTasks: number }).totalTasks, 4);
      assert.equal((e as { id: string }).id, String(job.taskID));
    }
    const done = await rest.get(`entrance/${job.execID}/progress`);
    assert.equal(done.body.data.progress, 1);
    assert.deepEqual(done.body.data.progressInfo, [{ id: String(job.taskID), succeedTasks: 4, failedTasks: 0, runningTasks: 0, totalTasks: 4 }]);
  });

  it('answers status, progress and log requests of a session-cookie login, and kills', async () => {
    const login = await new LinkisClient(s.url).post('user/login', { userName: 'alice', password: s.ts.tokens.alice });
    const ticket = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    assert.ok(ticket.startsWith(`${SESSION_COOKIE}=`));
    const c = await connect({ cookie: ticket });
    const rest = LinkisClient.withToken(s.url, 'alice', s.ts.tokens.alice);
    const done = await rest.submit({ executionContent: { code: 'echo one; echo two', runType: 'shell' }, labels: { engineType: 'shell-1' } });
    await rest.waitFinal(done.execID);

    c.send({ method: `${PREFIX}/entrance/${done.execID}/status`, websocketTag: 's' });
    c.send({ method: `/api/entrance/${done.execID}/progress`, websocketTag: 'p' });
    c.send({ method: `${PREFIX}/entrance/${done.execID}/log`, websocketTag: 'l', data: { fromLine: 0, size: 100 } });
    const status = await c.until((f) => f.find((x) => x.data.websocketTag === 's'), 'status reply');
    assert.deepEqual(status, {
      method: `${PREFIX}/entrance/${done.execID}/status`,
      status: 0,
      message: 'Get the status of the task successfully(获取任务状态成功)',
      data: { execID: done.execID, taskID: done.taskID, websocketTag: 's', status: 'Succeed' },
    });
    const progress = await c.until((f) => f.find((x) => x.data.websocketTag === 'p'), 'progress reply');
    assert.equal(progress.method, `${PREFIX}/entrance/${done.execID}/progress`);
    assert.equal(progress.data.progress, 1);
    const log = await c.until((f) => f.find((x) => x.data.websocketTag === 'l'), 'log reply');
    assert.match((log.data.log as string[])[3] ?? '', /one\ntwo\nCongratulations/);

    c.send({
      method: `${PREFIX}/entrance/execute`,
      websocketTag: 'k',
      data: { executionContent: { code: 'echo waiting; sleep 30', runType: 'shell' }, labels: { engineType: 'shell-1', userCreator: 'alice-IDE' } },
    });
    const ack = await c.until((f) => f.find((x) => x.method === `${PREFIX}/entrance/execute` && x.data.websocketTag === 'k'), 'execute reply');
    const execID = ack.data.execID as string;
    await c.until((f) => pushes(f, execID, 'status').find((p) => p.data.status === 'Running'), 'Running');
    c.send({ method: `${PREFIX}/entrance/${execID}/kill`, websocketTag: 'kill' });
    const killed = await c.until((f) => f.find((x) => x.data.websocketTag === 'kill'), 'kill reply');
    assert.equal(killed.status, 0);
    assert.equal(killed.message, 'Kill task succeeded(kill任务成功)');
    await c.until((f) => finalStatus(f, execID), 'the final status');
    assert.equal(finalStatus(c.frames, execID), 'Cancelled');
    assert.match(pushedLines(c.frames, execID).join('\n'), /Sorry\. Your job completed with a status Cancelled/);
  });

  it('answers bad frames, unknown methods, pause and refused submissions with Linkis errors', async () => {
    const c = await connect(headers);
    c.send('');
    c.send('not json');
    c.send({ method: `${PREFIX}/entrance/123/explode`, websocketTag: 'u' });
    c.send({ method: `${PREFIX}/entrance/1/pause`, websocketTag: 'pause' });
    c.send({
      method: `${PREFIX}/entrance/execute`,
      websocketTag: 'bad',
      data: { executionContent: { code: 'x', runType: 'hql' }, labels: { engineType: 'hive-2.3.3' } },
    });
    c.send({ method: `${PREFIX}/entrance/999999/status`, websocketTag: 'missing' });
    await c.until((f) => f.length >= 6, 'six replies');
    assert.deepEqual(
      c.frames.filter((f) => f.message === 'Empty message!').map((f) => f.status),
      [1, 1],
    );
    const unknown = c.frames.find((f) => f.data.websocketTag === 'u');
    assert.equal(unknown?.status, 1);
    assert.match(unknown?.message ?? '', /^Unresolvable webSocket request, URI is\(无法解析的webSocket请求，URI为：/);
    const pause = c.frames.find((f) => f.data.websocketTag === 'pause');
    assert.equal(pause?.status, 1);
    const bad = c.frames.find((f) => f.data.websocketTag === 'bad');
    assert.equal(bad?.status, 1);
    assert.equal(bad?.data.code, 'SLUICE_JOB_ENGINE_UNKNOWN');
    assert.equal(c.frames.find((f) => f.data.websocketTag === 'missing')?.data.code, 'SLUICE_JOB_NOT_FOUND');
    assert.equal(c.closeCode, undefined, 'errors do not close the socket');
  });
});
