import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ApiClient, type JobBody, startTestStack, type TestEnv, type TestStack, testEnv } from '../../../test/support/test-stack.ts';
import { type CliEnv, cliSandbox, runCli, sh, startCli, submittedJob } from './cli-process.ts';

describe('sluice submit under a real shell', () => {
  let env: TestEnv;
  let ts: TestStack;
  let alice: ApiClient;
  let asAlice: CliEnv;
  let asBob: CliEnv;
  let box: ReturnType<typeof cliSandbox>;

  before(async () => {
    env = await testEnv('postgres');
    ts = await startTestStack(env);
    alice = ts.api(ts.tokens.alice);
    box = cliSandbox();
    asAlice = { ...box, url: ts.url, token: ts.tokens.alice };
    asBob = { ...box, url: ts.url, token: ts.tokens.bob };
  });
  after(async () => {
    await ts?.stop();
    await env?.cleanup();
    rmSync(box.root, { recursive: true, force: true });
  });

  async function jobsOf(api: ApiClient): Promise<JobBody[]> {
    return (await api.request<{ items: JobBody[] }>('GET', '/api/v1/jobs?limit=500')).body.items;
  }

  it('exits 0 on success and prints the log, then the result table', async () => {
    const r = await runCli(`sluice -engineType duckdb-1.5 -codeType sql -code "select 42 as answer, 'forty-two' as word"`, asAlice);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Statement 1\/1/, 'the job log is on stdout');
    assert.match(r.stdout, /^ answer \| word\s*$/m, 'the result header');
    assert.match(r.stdout, /^\s+42 \| forty-two$/m, 'the result row');
    assert.ok(r.stdout.indexOf('Statement 1/1') < r.stdout.indexOf('answer'), 'the log comes before the result');
    assert.match(r.stdout, /\(1 row\)/);
    const seq = /job (\d+) submitted/.exec(r.stderr)?.[1];
    assert.ok(seq, r.stderr);
    const job = (await jobsOf(alice)).find((j) => j.seq === seq);
    assert.equal(job?.state, 'Succeed');
    assert.equal(job?.creator, 'sluice-cli');
  });

  it('exits 1 on a failed job with the error code and message on stderr', async () => {
    const r = await runCli(`sluice -engineType duckdb -code "select * from no_such_table"`, asAlice);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /job \d+ Failed: SLUICE_ENGINE_QUERY_FAILED: .*no_such_table/);
  });

  it('exits 137 when the job is cancelled by someone else, and 124 when it times out', async () => {
    const cli = startCli(`sluice --engine shell --code ${sh('echo started; sleep 60')}`, asAlice);
    const { id } = await submittedJob(cli);
    await cli.waitFor(/^started$/m);
    assert.equal((await alice.request('POST', `/api/v1/jobs/${id}/cancel`)).status, 200);
    const r = await cli.done;
    assert.equal(r.code, 137, r.stderr);
    assert.match(r.stderr, /Cancelled: SLUICE_JOB_CANCELLED/);

    const t = await runCli(`sluice --engine shell --run-timeout 1 --code ${sh('sleep 30')}`, asAlice);
    assert.equal(t.code, 124, t.stderr);
    assert.match(t.stderr, /Timeout: SLUICE_JOB_RUN_TIMEOUT/);
  });

  it('writes one file per result set to -outPath', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'sluice-out-'));
    try {
      const r = await runCli(`sluice -code "select range as n, 'a,b' as s from range(3); select 'x' as only" -outPath ${sh(out)}`, asAlice);
      assert.equal(r.code, 0, r.stderr);
      const seq = /job (\d+) submitted/.exec(r.stderr)?.[1];
      const files = readdirSync(out).sort();
      assert.deepEqual(files, [`alice-task-${seq}-result-0.csv`, `alice-task-${seq}-result-1.csv`]);
      assert.equal(readFileSync(path.join(out, files[0] as string), 'utf8'), 'n,s\n0,"a,b"\n1,"a,b"\n2,"a,b"\n');
      assert.equal(readFileSync(path.join(out, files[1] as string), 'utf8'), 'only\nx\n');
      assert.doesNotMatch(r.stdout, /a,b/, 'the rows went to the files, not stdout');
      assert.match(r.stderr, /result set 0: 3 rows written to/);
      const tsv = await runCli(`sluice -code "select 1 as a, null as b" -outPath ${sh(out)} --format tsv`, asAlice);
      assert.equal(tsv.code, 0, tsv.stderr);
      const tsvFile = readdirSync(out).find((f) => f.endsWith('.tsv'));
      assert.equal(readFileSync(path.join(out, tsvFile as string), 'utf8'), 'a\tb\n1\tNULL\n');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('reads code from a script file, a -codePath and stdin, and passes variables, labels and params', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-code-'));
    try {
      writeFileSync(path.join(dir, 'q.sql'), 'select \u0024{n} * 2 as doubled');
      writeFileSync(path.join(dir, 'job.sh'), 'echo "from the script: $((20 + 1))"');
      const a = await runCli(`cd ${sh(dir)} && sluice -varMap n=21 q.sql --format csv`, asAlice);
      assert.equal(a.code, 0, a.stderr);
      assert.match(a.stdout, /^doubled\n42$/m);
      const b = await runCli(`sluice -codePath ${sh(path.join(dir, 'job.sh'))} -labelMap parentJobName=etl.load -runtimeMap k=v`, asAlice);
      assert.equal(b.code, 0, b.stderr);
      assert.match(b.stdout, /^from the script: 21$/m, 'a .sh file runs on the shell engine');
      const seq = /job (\d+) submitted/.exec(b.stderr)?.[1];
      const job = (await jobsOf(alice)).find((j) => j.seq === seq);
      assert.ok(job, `job ${seq} is listed`);
      assert.equal(job.engineType.split('-')[0], 'shell');
      assert.equal((job.labels as Record<string, string>).parentJobName, 'etl.load');
      const c = await runCli(`echo "select 'piped' as src" | sluice -codePath - --format json`, asAlice);
      assert.equal(c.code, 0, c.stderr);
      assert.match(c.stdout, /^\{"src":"piped"\}$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad flags with a clear message and exit 2, submitting nothing', async () => {
    const before = (await jobsOf(ts.api(ts.tokens.bob))).length;
    const cases: [string, RegExp][] = [
      ['sluice -engineTyp duckdb -code "select 1"', /unknown option -engineTyp \(did you mean -engineType\?\)/],
      ['sluice -code', /option -code needs a value/],
      ['sluice -engineType duckdb', /nothing to run/],
      ['sluice -code "select 1" -codePath x.sql', /only one of -code, -codePath/],
      ['sluice -code "select 1" -varMap oops', /takes key=value/],
      ['sluice -code "select 1" --lease-seconds 1', /5 to 3600/],
      ['sluice -code "select 1" --priority 11', /--priority takes a whole number from 0 to 10/],
      ['sluice -code "select 1" --format xml', /--format takes table, tsv, csv, json/],
      ['sluice -codePath /nonexistent/q.sql', /cannot read the code file \/nonexistent\/q\.sql: ENOENT/],
      ['sluice --status 1 --kill 2', /cannot be combined/],
      ['sluice status abc', /neither a job id .* nor a numeric taskID/],
    ];
    for (const [script, message] of cases) {
      const r = await runCli(script, asBob);
      assert.equal(r.code, 2, `${script}: ${r.stderr}`);
      assert.match(r.stderr, message, script);
    }
    const bare = await runCli('sluice', asBob);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /^usage:/);
    const noToken = await runCli('sluice -code "select 1"', { ...asBob, extra: { SLUICE_TOKEN: '' } });
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /no API token/);
    assert.equal((await jobsOf(ts.api(ts.tokens.bob))).length, before, 'nothing was submitted');
  });

  it('exits 3 with the server error when the server refuses, and 4 when it cannot be reached', async () => {
    const r = await runCli('sluice -engineType nosuch-9 -code "select 1"', asAlice);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /cannot submit the job: SLUICE_JOB_ENGINE_UNKNOWN: /);
    const ds = await runCli('sluice --data-source missing_ds -code "select 1"', asAlice);
    assert.equal(ds.code, 3);
    assert.match(ds.stderr, /SLUICE_DATASOURCE_NOT_FOUND/);
    const bad = await runCli('sluice -code "select 1"', { ...asAlice, extra: { SLUICE_TOKEN: 'slk_not-a-real-token' } });
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /SLUICE_AUTH_INVALID/);
    assert.doesNotMatch(bad.stderr, /slk_not-a-real-token/, 'the token is never printed');
    const down = await runCli('sluice -code "select 1"', { ...asAlice, url: 'http://127.0.0.1:9' });
    assert.equal(down.code, 4);
    assert.match(down.stderr, /Sluice at http:\/\/127\.0\.0\.1:9 is unreachable/);
  });

  it('takes the URL and token from a config file, overridden by the environment', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'sluice-home-'));
    try {
      const file = path.join(home, 'cfg.json');
      writeFileSync(file, JSON.stringify({ url: 'http://127.0.0.1:9', token: ts.tokens.bob }), { mode: 0o600 });
      const viaEnv = await runCli(`sluice -code "select current_user is not null as ok"`, { ...asAlice, extra: { SLUICE_CONFIG: file } });
      assert.equal(viaEnv.code, 0, 'SLUICE_URL and SLUICE_TOKEN win over the file');
      const fileOnly = await runCli(`sluice --url ${sh(ts.url)} -code "select 1 as one"`, {
        ...asAlice,
        extra: { SLUICE_CONFIG: file, SLUICE_TOKEN: '', SLUICE_URL: '' },
      });
      assert.equal(fileOnly.code, 0, fileOnly.stderr);
      const seq = /job (\d+) submitted/.exec(fileOnly.stderr)?.[1];
      assert.ok(
        (await jobsOf(ts.api(ts.tokens.bob))).some((j) => j.seq === seq),
        "the file's token (bob's) was used",
      );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('runs jobs as the token user: -submitUser/-proxyUser naming that user work, another user is refused', async () => {
    const same = await runCli('sluice -submitUser alice -proxyUser alice -code "select 1 as one"', asAlice);
    assert.equal(same.code, 0, same.stderr);
    const differ = await runCli('sluice -submitUser alice -proxyUser bob -code "select 1"', asAlice);
    assert.equal(differ.code, 2);
    assert.match(differ.stderr, /-proxyUser bob asks to run the job as another user than alice.*cannot yet submit on behalf of another user/);
    const other = await runCli(`sluice -proxyUser bob --engine shell --code ${sh('sleep 30')}`, asAlice);
    assert.equal(other.code, 3);
    assert.match(other.stderr, /this token belongs to alice.*job (\d+) was cancelled/);
    const seq = /job (\d+) was cancelled/.exec(other.stderr)?.[1];
    const job = (await jobsOf(alice)).find((j) => j.seq === seq);
    assert.ok(job);
    assert.equal((await alice.waitFor(job.id)).state, 'Cancelled');
  });
});
