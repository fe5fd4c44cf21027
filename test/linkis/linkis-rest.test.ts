import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@sluice/infra';
import { legacyExecIdOf, parseJobRef, SESSION_COOKIE } from '../../apps/gateway/src/linkis/index.ts';
import { type TestEnv, testEnv } from '../support/test-stack.ts';
import { LinkisClient, type LinkisResponse, type LinkisStack, sqlJob, startLinkisStack } from './linkis-stack.ts';

const NO_LOGIN = 'You are not logged in, please login first(您尚未登录，请先登录)!';

function assertEnvelope(r: LinkisResponse, status: number, http: number, method?: string): void {
  assert.deepEqual(Object.keys(r.body).sort(), ['data', 'message', 'method', 'status'], JSON.stringify(r.body));
  assert.equal(r.body.status, status, JSON.stringify(r.body));
  assert.equal(r.http, http, JSON.stringify(r.body));
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  if (method !== undefined) assert.equal(r.body.method, method);
}

function sluiceCode(r: LinkisResponse): unknown {
  return r.body.data.code;
}

describe('Linkis REST front door: envelope, auth, entrance, job history, filesystem', () => {
  let env: TestEnv;
  let s: LinkisStack;
  let alice: LinkisClient;
  let bob: LinkisClient;

  const logLines: string[] = [];

  before(async () => {
    env = await testEnv('redis');
    const log = createLogger({ name: 'sluice', level: 'info', destination: { write: (line: string) => void logLines.push(line) } });
    s = await startLinkisStack(env, { log });
    alice = LinkisClient.withToken(s.url, 'alice', s.ts.tokens.alice);
    bob = LinkisClient.withToken(s.url, 'bob', s.ts.tokens.bob);
  });
  after(async () => {
    await s?.stop();
    await env?.cleanup();
  });

  describe('envelope and authentication', () => {
    it('answers a request without login with status -1 and HTTP 401', async () => {
      const r = await new LinkisClient(s.url).get('jobhistory/list');
      assertEnvelope(r, -1, 401, '/api/jobhistory/list');
      assert.equal(r.body.message, NO_LOGIN);
    });

    it('requires both token headers, a valid token, and the token owner as Token-User', async () => {
      const onlyCode = await new LinkisClient(s.url, { 'Token-Code': s.ts.tokens.alice }).get('jobhistory/list');
      assertEnvelope(onlyCode, -1, 401);
      assert.match(onlyCode.body.message, /Token-Code 和 Token-User/);
      const wrongUser = await LinkisClient.withToken(s.url, 'alice', s.ts.tokens.bob).get('jobhistory/list');
      assertEnvelope(wrongUser, -1, 401);
      assert.match(wrongUser.body.message, /Token Authentication Failed, tokenUser: alice/);
      assert.doesNotMatch(JSON.stringify(wrongUser.body), new RegExp(s.ts.tokens.bob), 'the token is never echoed');
      const unknown = await LinkisClient.withToken(s.url, 'alice', 'slk_not-a-token').get('jobhistory/list');
      assertEnvelope(unknown, -1, 401);
      assertEnvelope(await alice.get('jobhistory/list'), 0, 200, '/api/jobhistory/list');
      const asCookies = new LinkisClient(s.url, { cookie: `Token-Code=${s.ts.tokens.alice}; Token-User=alice` });
      assertEnvelope(await asCookies.get('jobhistory/list'), 0, 200);
      assertEnvelope(await new LinkisClient(s.url, { authorization: `Bearer ${s.ts.tokens.alice}` }).get('jobhistory/list'), 0, 200);
    });

    it('logs in with a Sluice token as the password and holds an opaque signed session cookie', async () => {
      const anon = new LinkisClient(s.url);
      const bad = await anon.post('user/login', { userName: 'alice', password: s.ts.tokens.bob });
      assertEnvelope(bad, 1, 400, '/api/user/login');
      assert.equal(bad.body.message, 'wrong user name or password(用户名或密码错误)！');
      assert.equal(bad.headers.get('set-cookie'), null);
      const empty = await anon.post('user/login', { userName: 'alice', password: '' });
      assert.equal(empty.body.message, 'Password can not be blank(密码不能为空)！');

      const ok = await anon.post('user/login', { userName: 'alice', password: s.ts.tokens.alice });
      assertEnvelope(ok, 0, 200, '/api/user/login');
      assert.equal(ok.body.message, 'login successful(登录成功)！');
      assert.deepEqual(ok.body.data, { userName: 'alice', isAdmin: false, sessionTimeOut: 7_200_000, enableWatermark: false });
      const setCookie = ok.headers.get('set-cookie') ?? '';
      assert.match(setCookie, new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+; Path=/; HttpOnly`));
      const ticket = (setCookie.split(';')[0] ?? '').split('=')[1] ?? '';
      assert.ok(!ticket.includes(s.ts.tokens.alice.slice(4, 20)), 'the cookie is not the token');

      const session = new LinkisClient(s.url, { cookie: `${SESSION_COOKIE}=${ticket}` });
      const info = await session.get('user/userInfo');
      assertEnvelope(info, 0, 200, '/api/user/userInfo');
      assert.equal(info.body.data.userName, 'alice');
      assertEnvelope(await session.get('jobhistory/list'), 0, 200);
      assertEnvelope(await session.get('user/heartbeat'), 0, 200);

      const tampered = new LinkisClient(s.url, { cookie: `${SESSION_COOKIE}=${ticket.slice(0, -3)}abc` });
      const t = await tampered.get('jobhistory/list');
      assertEnvelope(t, -1, 401);
      assert.match(t.body.message, /Login has expired/);

      const out = await session.post('user/logout');
      assertEnvelope(out, 0, 200, '/api/user/logout');
      assert.match(out.headers.get('set-cookie') ?? '', new RegExp(`^${SESSION_COOKIE}=; Path=/; Max-Age=0`));

      const viaQuery = await anon.get(`user/login?userName=bob&password=${encodeURIComponent(s.ts.tokens.bob)}`);
      assertEnvelope(viaQuery, 0, 200);
      assert.equal(viaQuery.body.data.userName, 'bob');
      const logged = logLines.filter((l) => l.includes('/api/rest_j/v1/user/login?'));
      assert.ok(logged.length > 0, 'the request was logged');
      for (const l of logged) assert.ok(!l.includes(s.ts.tokens.bob.slice(4)), `a password in the query string is redacted from logs: ${l}`);
      assert.match(logged.join('\n'), /password=\[redacted\]/);
      const form = await anon.request('POST', 'user/login', `userName=alice&password=${encodeURIComponent(s.ts.tokens.alice)}`, {
        'content-type': 'application/x-www-form-urlencoded',
      });
      assertEnvelope(form, 0, 200);
    });

    it('answers Linkis services Sluice does not serve with an envelope naming the service and why', async () => {
      for (const [method, path, re] of [
        [
          'POST',
          'linkisManager/createEngineConn',
          /^error code\(错误码\): \d+, error message\(错误信息\): SLUICE_ROUTE_NOT_FOUND: Linkis linkisManager: .*once mode/,
        ],
        ['GET', 'linkisManager/listUserEngines', /LinkisManager engine calls/],
        ['GET', 'configuration/getFullTreesByApp?creator=IDE', /Linkis configuration: .*params\.configuration/],
        ['GET', 'variable/listGlobalVariable', /Linkis variable: .*params\.variable/],
        ['POST', 'bml/upload', /Linkis bml/],
        ['GET', 'datasource/dbs', /no Hive metastore browser/],
        ['GET', 'filesystem/getUserRootPath?pathType=file', /filesystem\/getUserRootPath: Sluice has no user file system/],
        ['GET', 'entrance/operation/metrics/taskinfo', /Linkis entrance\/operation: /],
      ] as const) {
        const r = await alice.request(method, path, method === 'POST' ? {} : undefined);
        assertEnvelope(r, 1, 400);
        assert.match(r.body.message, re, path);
        assert.equal(sluiceCode(r), 'SLUICE_ROUTE_NOT_FOUND');
      }
      // Without login these still answer as Linkis does: not logged in.
      assertEnvelope(await new LinkisClient(s.url).post('linkisManager/askEngineConn', {}), -1, 401);
      const hb = await new LinkisClient(s.url).get('gateway/heartbeat');
      assertEnvelope(hb, 0, 200, '/api/gateway/heartbeat');
      assert.equal(hb.body.data.isHealthy, true);
      assert.equal((hb.body.data.gatewayList as string[]).length, 1);
    });

    it('answers unknown routes, unknown user actions and malformed JSON with Linkis error envelopes', async () => {
      const unknownUser = await alice.get('user/whoami');
      assertEnvelope(unknownUser, 1, 400, '/api/user/whoami');
      assert.match(unknownUser.body.message, /unknown request URI \/api\/rest_j\/v1\/user\/whoami/);
      const nowhere = await alice.get('nowhere/at/all');
      assertEnvelope(nowhere, 1, 400, '/api/nowhere/at/all');
      assert.equal(sluiceCode(nowhere), 'SLUICE_ROUTE_NOT_FOUND');
      const bad = await alice.request('POST', 'entrance/submit', '{"executionContent":', { 'content-type': 'application/json' });
      assertEnvelope(bad, 1, 400);
      assert.equal(sluiceCode(bad), 'SLUICE_REQUEST_MALFORMED_JSON');
      assert.match(bad.body.message, /^error code\(错误码\): 60002, error message\(错误信息\): SLUICE_REQUEST_MALFORMED_JSON: /);
    });
  });

  describe('entrance', () => {
    it('submits with labels, variables and runtime params, and answers execID and taskID as Linkis does', async () => {
      const r = await alice.submit(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a Linkis variable, substituted by the server
        sqlJob('alice', 'select ${n} * 2 as doubled, ${run_date} as d', {
          params: { variable: { n: 21 }, configuration: { runtime: { 'wds.linkis.resultSet.store.path': '/x' }, startup: {} } },
        }),
      );
      assertEnvelope(r.response, 0, 200, '/api/entrance/submit');
      assert.equal(r.response.body.message, 'OK');
      assert.deepEqual(Object.keys(r.response.body.data).sort(), ['execID', 'taskID']);
      assert.equal(typeof r.taskID, 'number');
      assert.match(r.execID, new RegExp(`^exec_id018\\d{3}linkis-cg-entrance127\\.0\\.0\\.1:\\d+IDE_alice_duckdb_${r.taskID}$`));
      assert.equal(parseJobRef(r.execID), String(r.taskID));
      assert.equal(await alice.waitFinal(r.execID), 'Succeed');
      const sets = await s.ts.stack.entrance.readRows({ user: 'alice', admin: false }, String(r.taskID), 0, 0, 10);
      assert.equal(String(sets.rows[0]?.[0]), '42', 'params.variable substituted');
      const job = await s.ts.stack.entrance.get({ user: 'alice', admin: false }, String(r.taskID));
      assert.equal(job.creator, 'IDE');
      assert.equal(job.labels['linkis.engineType'], 'duckdb-1.5');
    });

    it('serves status, progress and log over GET and POST, by execID, legacy execID or taskID', async () => {
      const { execID, taskID } = await alice.submit(sqlJob('alice', 'select 1 as a; select 2 as b; select 3 as c'));
      await alice.waitFinal(execID);
      const get = await alice.get(`entrance/${execID}/status`);
      const post = await alice.post(`entrance/${execID}/status`);
      assertEnvelope(get, 0, 200, `/api/entrance/${execID}/status`);
      assert.deepEqual(get.body.data, { status: 'Succeed', execID, taskID });
      assert.deepEqual(post.body, get.body);
      const job = await s.ts.stack.entrance.get({ user: 'alice', admin: false }, String(taskID));
      const legacy = legacyExecIdOf({ seq: job.seq, user: 'alice', creator: 'IDE', engine: 'duckdb' }, 'elsewhere:1');
      assert.equal((await alice.get(`entrance/${legacy}/status`)).body.data.status, 'Succeed');
      assert.equal((await alice.get(`entrance/${taskID}/status`)).body.data.status, 'Succeed');

      const progress = await alice.get(`entrance/${execID}/progress`);
      assertEnvelope(progress, 0, 200, `/api/entrance/${execID}/progress`);
      const { progressInfo, ...others } = progress.body.data as { progressInfo: { succeedTasks: number; totalTasks: number; runningTasks: number }[] };
      assert.deepEqual(others, { progress: 1, execID });
      // DuckDB reports detail only for statements that take a while; whatever was seen is settled once the job succeeded.
      assert.ok(Array.isArray(progressInfo));
      for (const e of progressInfo) assert.ok(e.succeedTasks === e.totalTasks && e.runningTasks === 0, JSON.stringify(e));
      assert.equal((await alice.post(`entrance/${execID}/progressWithResource`)).body.data.yarnResource, null);

      // The log in pages: fromLine is the count of lines already read, and comes back advanced.
      const first = await alice.get(`entrance/${execID}/log?fromLine=0&size=2`);
      assertEnvelope(first, 0, 200, `/api/entrance/${execID}/log`);
      const log1 = first.body.data.log as string[];
      assert.equal(log1.length, 4);
      assert.equal(first.body.data.fromLine, 2);
      assert.equal(log1[3]?.split('\n').length, 2);
      const rest = await alice.post(`entrance/${execID}/log?fromLine=2&size=100`);
      const log2 = rest.body.data.log as string[];
      const total = rest.body.data.fromLine as number;
      assert.equal(total, job.logLines + 1, 'every line plus the closing line');
      assert.match(log2[3] ?? '', /Congratulations\. Your job completed with status Success\.$/);
      assert.equal(log2[0], '');
      const done = await alice.get(`entrance/${execID}/log?fromLine=${total}&size=100`);
      assert.deepEqual(done.body.data.log, ['', '', '', '']);
      assert.equal(done.body.data.fromLine, total);
      const whole = await alice.get(`entrance/${execID}/log?size=-1&distinctLevel=false`);
      assert.equal(typeof whole.body.data.log, 'string');
      assert.equal(whole.body.data.log, `${log1[3]}\n${log2[3]}`);
    });

    it('runs the legacy execute body and the 1.x body on entrance/execute', async () => {
      const legacy = await alice.post('entrance/execute', {
        executeApplicationName: 'shell',
        requestApplicationName: 'Scriptis',
        executionCode: 'echo legacy-ok',
        runType: 'sh',
      });
      assertEnvelope(legacy, 0, 200, '/api/entrance/execute');
      const execID = legacy.body.data.execID as string;
      assert.match(execID, /^exec_id.*Scriptis_alice_shell_\d+$/);
      assert.equal(await alice.waitFinal(execID), 'Succeed');
      const log = await alice.get(`entrance/${execID}/log?size=-1`);
      assert.match((log.body.data.log as string[])[3] ?? '', /legacy-ok/);
      const modern = await alice.post('entrance/execute', sqlJob('alice', 'select 1'));
      assertEnvelope(modern, 0, 200, '/api/entrance/execute');
      assert.equal(await alice.waitFinal(modern.body.data.execID as string), 'Succeed');
    });

    it('kills a running job over POST or GET, and refuses to kill a finished one', async () => {
      for (const method of ['POST', 'GET'] as const) {
        const { execID, taskID } = await alice.submit({
          executionContent: { code: 'echo started; sleep 30', runType: 'shell' },
          labels: { engineType: 'shell-1', userCreator: 'alice-IDE' },
        });
        const deadline = Date.now() + 20_000;
        while ((await alice.get(`entrance/${execID}/status`)).body.data.status !== 'Running') {
          assert.ok(Date.now() < deadline, 'the job starts');
          await new Promise((r) => setTimeout(r, 50));
        }
        const target = method === 'GET' ? String(taskID) : execID;
        const kill = await alice.request(method, `entrance/${target}/kill`);
        assertEnvelope(kill, 0, 200, `/api/entrance/${target}/kill`);
        assert.equal(kill.body.message, 'Successfully killed the job(成功kill了job)');
        assert.equal(await alice.waitFinal(execID), 'Cancelled');
        const again = await alice.get(`entrance/${execID}/kill`);
        assertEnvelope(again, 1, 400);
        assert.equal(sluiceCode(again), 'SLUICE_JOB_ALREADY_FINAL');
        assert.match(again.body.message, /The job already completed\. Do not support kill/);
      }
      // killJobs: several jobs at once, one message each.
      const a = await alice.submit({ executionContent: { code: 'sleep 30', runType: 'shell' }, labels: { engineType: 'shell-1' } });
      const b = await alice.submit({ executionContent: { code: 'sleep 30', runType: 'shell' }, labels: { engineType: 'shell-1' } });
      const batch = await alice.post(`entrance/${a.execID}/killJobs`, { idList: [a.execID, b.execID, 'nope'], taskIDList: [a.taskID, b.taskID, 0] });
      assertEnvelope(batch, 0, 200, `/api/entrance/${a.execID}/killJobs`);
      const messages = batch.body.data.messages as { status: number; message: string; method: string }[];
      assert.deepEqual(
        messages.map((m) => [m.status, m.method]),
        [
          [0, `/api/entrance/${a.execID}/kill`],
          [0, `/api/entrance/${b.execID}/kill`],
          [1, '/api/entrance/nope/kill'],
        ],
      );
      assert.equal(await alice.waitFinal(a.execID), 'Cancelled');
      assert.equal(await alice.waitFinal(b.execID), 'Cancelled');
      assert.equal(sluiceCode(await alice.post(`entrance/${a.execID}/killJobs`, { idList: [a.execID], taskIDList: [] })), 'SLUICE_REQUEST_INVALID');
    });

    it('keeps users to their own jobs and names unknown ids', async () => {
      const { execID } = await alice.submit(sqlJob('alice', 'select 1'));
      const peek = await bob.get(`entrance/${execID}/status`);
      assertEnvelope(peek, 1, 400);
      assert.equal(sluiceCode(peek), 'SLUICE_AUTH_FORBIDDEN');
      assert.equal(sluiceCode(await bob.post(`entrance/${execID}/kill`)), 'SLUICE_AUTH_FORBIDDEN');
      const unknown = await alice.get('entrance/exec_id018014linkis-cg-entrance127.0.0.1:9001IDE_alice_duckdb_999999/status');
      assert.equal(sluiceCode(unknown), 'SLUICE_JOB_NOT_FOUND');
      assert.equal(sluiceCode(await alice.get('entrance/not-an-id/status')), 'SLUICE_JOB_NOT_FOUND');
      assert.equal(sluiceCode(await alice.get(`entrance/${execID}/explode`)), 'SLUICE_ROUTE_NOT_FOUND');
    });

    it('refuses submissions Linkis refuses, with Linkis error numbers', async () => {
      const noCode = await alice.post('entrance/submit', { executionContent: { code: '', runType: 'sql' }, labels: { engineType: 'duckdb-1.5' } });
      assertEnvelope(noCode, 1, 400, '/api/entrance/submit');
      assert.match(noCode.body.message, /^error code\(错误码\): 20007,/);
      const other = await alice.post('entrance/submit', sqlJob('bob', 'select 1'));
      assert.match(other.body.message, /^error code\(错误码\): 50080,/);
      const badVar = await alice.post('entrance/submit', sqlJob('alice', 'select 1', { params: { variable: { 'not a name': 1 } } }));
      assertEnvelope(badVar, 1, 400);
      assert.equal(sluiceCode(badVar), 'SLUICE_REQUEST_INVALID', 'Sluice validation errors come through');
      const unknownEngine = await alice.post('entrance/submit', {
        executionContent: { code: 'show tables', runType: 'hql' },
        labels: { engineType: 'hive-2.3.3' },
      });
      assertEnvelope(unknownEngine, 1, 400);
      assert.equal(sluiceCode(unknownEngine), 'SLUICE_JOB_ENGINE_UNKNOWN');
      assert.match(unknownEngine.body.message, /SLUICE_LINKIS_ENGINE_MAP/);
      const jdbcNoSource = await alice.post('entrance/submit', { executionContent: { code: 'select 1', runType: 'jdbc' }, labels: { engineType: 'jdbc-4' } });
      assert.match(jdbcNoSource.body.message, /linkis\.datasource/);
    });
  });

  describe('job history', () => {
    it('returns a job as QueryTaskVO with epoch-millisecond dates and Linkis ids', async () => {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Linkis variable, substituted by the server
      const code = 'select ${x} as x';
      const { execID, taskID } = await alice.submit(sqlJob('alice', code, { params: { variable: { x: 5 } }, source: { scriptPath: 'report.sql' } }));
      await alice.waitFinal(execID);
      const r = await alice.get(`jobhistory/${taskID}/get`);
      assertEnvelope(r, 0, 200, `/api/jobhistory/${taskID}/get`);
      const t = r.body.data.task as Record<string, unknown>;
      assert.equal(t.taskID, taskID);
      assert.equal(t.status, 'Succeed');
      assert.equal(t.umUser, 'alice');
      assert.equal(t.executeUser, 'alice');
      assert.equal(t.executionCode, code, 'the code as submitted');
      assert.equal(t.engineType, 'duckdb');
      assert.equal(t.executeApplicationName, 'duckdb');
      assert.equal(t.requestApplicationName, 'IDE');
      assert.equal(t.runType, 'sql');
      assert.equal(t.progress, '1.0');
      assert.equal(t.strongerExecId, execID);
      assert.equal(t.execId, `IDE_alice_duckdb_${taskID}`);
      assert.equal(t.resultLocation, `file:///sluice/result/alice/${taskID}`);
      assert.equal(t.logPath, `file:///sluice/log/alice/${taskID}.log`);
      assert.equal(t.sourceTailor, 'report.sql');
      assert.equal(t.errCode, null);
      for (const k of ['createdTime', 'updatedTime', 'engineStartTime']) {
        assert.equal(typeof t[k], 'number', k);
        assert.ok((t[k] as number) > 1.6e12 && (t[k] as number) <= Date.now(), `${k} is epoch ms`);
      }
      assert.ok((t.updatedTime as number) >= (t.createdTime as number));
      assert.deepEqual(t.labels, ['engineType:duckdb-1.5', 'userCreator:alice-IDE', 'codeType:sql']);
      assert.equal((await alice.get(`jobhistory/${execID}/get`)).body.data.task && true, true, 'an execID works too');
    });

    it('reports a failed job with a numeric errCode and the Sluice code in errDesc', async () => {
      const { execID, taskID } = await alice.submit(sqlJob('alice', 'select * from no_such_table'));
      assert.equal(await alice.waitFinal(execID), 'Failed');
      const t = (await alice.get(`jobhistory/${taskID}/get`)).body.data.task as Record<string, unknown>;
      assert.equal(t.status, 'Failed');
      assert.equal(t.errCode, 60024);
      assert.match(t.errDesc as string, /^SLUICE_ENGINE_QUERY_FAILED: .*no_such_table/);
      const hidden = await bob.get(`jobhistory/${taskID}/get`);
      assertEnvelope(hidden, 1, 400);
      assert.match(hidden.body.message, /The corresponding job was not found, or there may be no permission to view the job/);
    });

    it('lists by page with the total count, filters, and only the caller’s jobs', async () => {
      const me = LinkisClient.withToken(s.url, 'carol', (await s.ts.stack.tokens.create({ user: 'carol' })).token);
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) {
        const { execID, taskID } = await me.submit(
          sqlJob('carol', `select ${i}`, { labels: { engineType: 'duckdb-1.5', userCreator: i % 2 ? 'carol-odd' : 'carol-even' } }),
        );
        await me.waitFinal(execID);
        ids.push(taskID);
      }
      const p1 = await me.get('jobhistory/list?pageNow=1&pageSize=2');
      assertEnvelope(p1, 0, 200, '/api/jobhistory/list');
      assert.deepEqual(
        (p1.body.data.tasks as { taskID: number }[]).map((t) => t.taskID),
        [ids[4], ids[3]],
      );
      assert.equal(p1.body.data.totalPage, 5, 'Linkis puts the total row count in totalPage');
      const p3 = await me.get('jobhistory/list?pageNow=3&pageSize=2');
      assert.deepEqual(
        (p3.body.data.tasks as { taskID: number }[]).map((t) => t.taskID),
        [ids[0]],
      );
      const odd = await me.get('jobhistory/list?creator=odd&pageSize=10');
      assert.deepEqual(
        (odd.body.data.tasks as { taskID: number }[]).map((t) => t.taskID),
        [ids[3], ids[1]],
      );
      const one = await me.get(`jobhistory/list?taskID=${ids[2]}`);
      assert.deepEqual(
        (one.body.data.tasks as { taskID: number }[]).map((t) => t.taskID),
        [ids[2]],
      );
      const none = await me.get(`jobhistory/list?status=Failed&startDate=${Date.now() - 3_600_000}`);
      assert.deepEqual(none.body.data.tasks, []);
      assert.equal(sluiceCode(await me.get('jobhistory/list?status=Exploded')), 'SLUICE_REQUEST_INVALID');
      const bobs = await bob.get('jobhistory/list?pageSize=100');
      assert.ok((bobs.body.data.tasks as { umUser: string }[]).every((t) => t.umUser === 'bob'));
    });

    it('lists by runType, shows an admin everyone only with isAdminView, and serves the undone, by-ids and extra-info lists', async () => {
      const dave = LinkisClient.withToken(s.url, 'dave', (await s.ts.stack.tokens.create({ user: 'dave' })).token);
      const root = LinkisClient.withToken(s.url, 'root', s.ts.tokens.admin);
      const sql = await dave.submit(sqlJob('dave', 'select 1'));
      const sh = await dave.submit({ executionContent: { code: 'echo hi', runType: 'shell' }, labels: { engineType: 'shell-1', userCreator: 'dave-IDE' } });
      await dave.waitFinal(sql.execID);
      await dave.waitFinal(sh.execID);
      const ids = (r: LinkisResponse, key = 'tasks') => (r.body.data[key] as { taskID: number }[]).map((t) => t.taskID);
      assert.deepEqual(ids(await dave.get('jobhistory/list?runType=shell')), [sh.taskID]);
      assert.deepEqual(ids(await dave.get('jobhistory/list?runType=sql')), [sql.taskID]);
      assert.equal(sluiceCode(await dave.get('jobhistory/list?creator=bad%20name')), 'SLUICE_REQUEST_INVALID');

      // root is an admin: its own jobs by default, dave's with isAdminView=true&proxyUser=dave.
      assert.deepEqual(ids(await root.get('jobhistory/list?pageSize=100')), []);
      assert.deepEqual(ids(await root.get('jobhistory/list?isAdminView=true&proxyUser=dave')), [sh.taskID, sql.taskID]);
      assert.ok(((await root.get('jobhistory/list?isAdminView=true&pageSize=100')).body.data.totalPage as number) >= 2);
      // isAdminView means nothing to a non-admin.
      assert.deepEqual(ids(await bob.get('jobhistory/list?isAdminView=true&proxyUser=dave')), []);

      const running = await dave.submit({
        executionContent: { code: 'sleep 30', runType: 'shell' },
        labels: { engineType: 'shell-1', userCreator: 'dave-IDE' },
      });
      const undone = await dave.get('jobhistory/listundonetasks');
      assertEnvelope(undone, 0, 200, '/api/jobhistory/listundonetasks');
      assert.deepEqual(ids(undone), [running.taskID]);
      assert.equal((await dave.get('jobhistory/listundone')).body.data.totalPage, 1);
      assert.deepEqual(ids(await dave.get(`jobhistory/listundonetasks?startTaskID=${running.taskID + 1}`)), []);
      await dave.get(`entrance/${running.execID}/kill`);
      await dave.waitFinal(running.execID);
      assert.deepEqual(ids(await dave.get('jobhistory/listundonetasks')), []);

      const byIds = await dave.get(`jobhistory/list-taskids?taskID=${sql.taskID},${sh.taskID},999999`);
      assertEnvelope(byIds, 0, 200, '/api/jobhistory/list-taskids');
      assert.deepEqual(ids(byIds, 'jobHistoryList').sort(), [sql.taskID, sh.taskID].sort());
      assert.deepEqual(ids(await bob.get(`jobhistory/list-taskids?taskID=${sql.taskID}`), 'jobHistoryList'), [], "not another user's");
      assert.match((await dave.get('jobhistory/list-taskids?taskID=1;2')).body.message, /TaskID contains illegal characters/);

      const extra = await dave.get(`jobhistory/job-extra-info?jobId=${sh.taskID}`);
      assertEnvelope(extra, 0, 200, '/api/jobhistory/job-extra-info');
      const metrics = extra.body.data.metricsMap as Record<string, unknown>;
      assert.equal(metrics.executionCode, 'echo hi');
      assert.match(metrics.runtime as string, /^\d+\.\ds$/);
      assert.match((await bob.get(`jobhistory/job-extra-info?jobId=${sh.taskID}`)).body.message, /no permission to view the job/);
    });
  });

  describe('filesystem', () => {
    let taskID: number;
    let resultLocation: string;
    let logPath: string;

    before(async () => {
      const code =
        "select range as n, 'r' || range as s, case when range % 3 = 0 then null else range end as maybe, 1.25::decimal(5,2) as dec from range(12) order by n; select 'second' as which";
      const r = await alice.submit(sqlJob('alice', code));
      await alice.waitFinal(r.execID);
      taskID = r.taskID;
      const t = (await alice.get(`jobhistory/${taskID}/get`)).body.data.task as Record<string, string>;
      resultLocation = t.resultLocation as string;
      logPath = t.logPath as string;
    });

    it('lists the result directory as Linkis does: one _N.dolphin per result set', async () => {
      const r = await alice.get(`filesystem/getDirFileTrees?path=${encodeURIComponent(resultLocation)}`);
      assertEnvelope(r, 0, 200, '/api/filesystem/getDirFileTrees');
      const tree = r.body.data.dirFileTrees as Record<string, unknown> & { children: Record<string, unknown>[] };
      assert.equal(tree.name, String(taskID));
      assert.equal(tree.path, resultLocation);
      assert.equal(tree.isLeaf, false);
      assert.equal(tree.parentPath, null);
      assert.deepEqual(
        tree.children.map((c) => [c.name, c.path, c.isLeaf, c.parentPath]),
        [
          ['_0.dolphin', `${resultLocation}/_0.dolphin`, true, resultLocation],
          ['_1.dolphin', `${resultLocation}/_1.dolphin`, true, resultLocation],
        ],
      );
      const props = tree.children[0]?.properties as { size: string; modifytime: string };
      assert.match(props.size, /^\d+$/);
      assert.match(props.modifytime, /^\d{13}$/);
      const outside = await alice.get('filesystem/getDirFileTrees?path=hdfs:///tmp/linkis/result/1');
      assertEnvelope(outside, 1, 400);
      assert.equal((outside.body.data.errorMsg as { errCode: number }).errCode, 80010);
      assert.equal(sluiceCode(await bob.get(`filesystem/getDirFileTrees?path=${encodeURIComponent(resultLocation)}`)), 'SLUICE_AUTH_FORBIDDEN');
    });

    it('opens a result set in pages with column metadata and text cells', async () => {
      const pages: string[][][] = [];
      for (let page = 1; page <= 3; page++) {
        const r = await alice.get(
          `filesystem/openFile?path=${encodeURIComponent(`${resultLocation}/_0.dolphin`)}&page=${page}&pageSize=5&nullValue=LINKIS_NULL`,
        );
        assertEnvelope(r, 0, 200, '/api/filesystem/openFile');
        assert.deepEqual(r.body.data.metadata, [
          { columnName: 'n', comment: 'NULL', dataType: 'bigint' },
          { columnName: 's', comment: 'NULL', dataType: 'string' },
          { columnName: 'maybe', comment: 'NULL', dataType: 'bigint' },
          { columnName: 'dec', comment: 'NULL', dataType: 'decimal' },
        ]);
        assert.equal(r.body.data.type, '2');
        assert.equal(r.body.data.totalLine, 12);
        assert.equal(r.body.data.page, page);
        assert.equal(r.body.data.totalPage, 3);
        pages.push(r.body.data.fileContent as string[][]);
      }
      assert.deepEqual(
        pages.map((p) => p.length),
        [5, 5, 2],
      );
      assert.deepEqual(pages[0]?.[0], ['0', 'r0', 'NULL', '1.25']);
      assert.deepEqual(pages[2]?.[1], ['11', 'r11', '11', '1.25']);
      const blank = await alice.get(`filesystem/openFile?path=${encodeURIComponent(`${resultLocation}/_0.dolphin`)}&pageSize=1&nullValue=BLANK`);
      assert.deepEqual(blank.body.data.fileContent, [['0', 'r0', '', '1.25']]);
      const cols = await alice.get(`filesystem/openFile?path=${encodeURIComponent(`${resultLocation}/_0.dolphin`)}&pageSize=2&columnPage=2&columnPageSize=1`);
      assert.deepEqual(cols.body.data.metadata, [{ columnName: 's', comment: 'NULL', dataType: 'string' }]);
      assert.deepEqual(cols.body.data.fileContent, [['r0'], ['r1']]);
      const masked = await alice.get(
        `filesystem/openFile?path=${encodeURIComponent(`${resultLocation}/_0.dolphin`)}&pageSize=1&maskedFieldNames=S,maybe&enableLimit=true`,
      );
      assert.deepEqual(
        (masked.body.data.metadata as { columnName: string }[]).map((m) => m.columnName),
        ['n', 'dec'],
        'maskedFieldNames drops those columns',
      );
      assert.deepEqual(masked.body.data.fileContent, [['0', '1.25']]);
      assert.equal(masked.body.data.totalColumn, 2);
      const second = await alice.get(`filesystem/openFile?path=${encodeURIComponent(`${resultLocation}/_1.dolphin`)}`);
      assert.deepEqual(second.body.data.fileContent, [['second']]);

      const tooBig = await alice.get(`filesystem/openFile?path=${encodeURIComponent(`${resultLocation}/_0.dolphin`)}&pageSize=20000`);
      assertEnvelope(tooBig, 1, 400);
      assert.equal((tooBig.body.data.errorMsg as { errCode: number }).errCode, 80034);
      const dir = await alice.get(`filesystem/openFile?path=${encodeURIComponent(resultLocation)}`);
      assertEnvelope(dir, 1, 400);
      const missing = await alice.get(`filesystem/openFile?path=${encodeURIComponent(`${resultLocation}/_7.dolphin`)}`);
      assert.equal(sluiceCode(missing), 'SLUICE_RESULT_NOT_FOUND');
    });

    it('opens the log as [error, warn, info, all] and downloads a result as CSV', async () => {
      const r = await alice.get(`filesystem/openLog?path=${encodeURIComponent(logPath)}&proxyUser=alice&logLevel=all`);
      assertEnvelope(r, 0, 200, '/api/filesystem/openLog');
      const log = r.body.data.log as string[];
      assert.equal(log.length, 4);
      assert.equal(log[0], '');
      assert.match(log[3] ?? '', /Statement 1\/2/);
      assert.match(log[3] ?? '', /Congratulations\. Your job completed with status Success\.$/);
      assert.equal(sluiceCode(await alice.get('filesystem/openLog?path=file:///etc/passwd')), 'SLUICE_REQUEST_INVALID');

      const failed = await alice.submit(sqlJob('alice', 'select nope'));
      await alice.waitFinal(failed.execID);
      const flog = (await alice.get(`filesystem/openLog?path=${encodeURIComponent(`file:///sluice/log/alice/${failed.taskID}.log`)}`)).body.data
        .log as string[];
      assert.match(flog[0] ?? '', /^ERROR SLUICE_ENGINE_QUERY_FAILED/);
      assert.match(flog[3] ?? '', /Sorry\. Your job completed with a status Failed\./);

      const res = await fetch(
        `${s.url}/api/rest_j/v1/filesystem/resultsetToExcel?path=${encodeURIComponent(`${resultLocation}/_0.dolphin`)}&outputFileType=csv`,
        {
          headers: alice.headers,
        },
      );
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
      const csv = (await res.text()).trim().split(/\r?\n/);
      assert.equal(csv[0], 'n,s,maybe,dec');
      assert.equal(csv.length, 13);
    });
  });
});
