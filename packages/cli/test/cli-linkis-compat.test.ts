import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ApiClient, startTestStack, type TestEnv, type TestStack, testEnv } from '../../../test/support/test-stack.ts';
import { type CliEnv, cliSandbox, runCli, sh } from './cli-process.ts';

// The patterns of DolphinScheduler's Linkis task (Constants.LINKIS_TASK_ID_REGEX / LINKIS_STATUS_REGEX),
// and what it does with a match: group().substring(11).
const DS_TASK_ID = /"taskID": "\d+/;
const DS_STATUS = /"status": "\w+/;
const dsFind = (re: RegExp, text: string) => re.exec(text)?.[0].substring(11);

describe('linkis-cli compatibility, as DolphinScheduler drives it', () => {
  let env: TestEnv;
  let ts: TestStack;
  let alice: ApiClient;
  let asAlice: CliEnv;
  let box: ReturnType<typeof cliSandbox>;

  before(async () => {
    env = await testEnv('postgres');
    ts = await startTestStack(env);
    alice = ts.api(ts.tokens.alice);
    box = cliSandbox();
    asAlice = { ...box, url: ts.url, token: ts.tokens.alice };
  });
  after(async () => {
    await ts?.stop();
    await env?.cleanup();
    rmSync(box.root, { recursive: true, force: true });
  });

  /** What LinkisTask.submitApplication runs: `linkis-cli --async true <params>`, with linkis-cli renamed. */
  async function dsSubmit(params: string): Promise<{ taskId: string; execId: string; stdout: string }> {
    const r = await runCli(`sluice --async true ${params}`, asAlice);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    const taskId = dsFind(DS_TASK_ID, r.stdout);
    assert.ok(taskId && /^\d+$/.test(taskId), `the DolphinScheduler regex finds the taskID in:\n${r.stdout}`);
    assert.equal(dsFind(DS_TASK_ID, lines[lines.length - 1] as string), taskId, 'also in the last line alone (older DolphinScheduler executors)');
    assert.match(r.stdout, new RegExp(`^JobId:${taskId}\\nTaskId:${taskId}\\nExecId:[0-9A-Z]{26}$`, 'm'));
    const execId = /ExecId:([0-9A-Z]{26})/.exec(r.stdout)?.[1] as string;
    return { taskId, execId, stdout: r.stdout };
  }

  /** What LinkisTask.trackApplicationStatus runs: `linkis-cli --status <taskId>`, then the status regex. */
  async function dsStatus(taskId: string): Promise<string | undefined> {
    const r = await runCli(`sluice --status ${taskId}`, asAlice);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(info.taskID, taskId);
    assert.equal(dsFind(DS_TASK_ID, r.stdout), taskId);
    return dsFind(DS_STATUS, r.stdout);
  }

  it('--async prints a taskID the DS regex finds, and --status <taskID> reports SUCCEED', async () => {
    const { taskId, execId } = await dsSubmit('-engineType duckdb-1.5 -codeType sql -code "select 7 as seven"');
    assert.equal((await alice.waitFor(execId)).state, 'Succeed');
    assert.equal(await dsStatus(taskId), 'SUCCEED');
  });

  it("accepts the DS plugin's glued parameters (-engineType duckdb-1.5-codeType sql-code …)", async () => {
    // LinkisTask.buildParamConfigContent: props + " " + value for each row, with no blank between rows.
    const rows = [
      ['-engineType', 'duckdb-1.5'],
      ['-codeType', 'sql'],
      ['-code', '"select 6 * 7 as answer"'],
      ['-labelMap', 'parentJobName=wf.task'],
    ];
    const glued = rows.map(([prop, value]) => `${prop} ${value}`).join('');
    assert.match(glued, /duckdb-1\.5-codeType sql-code/);
    const { taskId, execId } = await dsSubmit(glued);
    const job = await alice.waitFor(execId);
    assert.equal(job.state, 'Succeed');
    assert.equal(job.engineType, 'duckdb-1.5');
    assert.equal(job.codeType, 'sql');
    assert.equal((job.labels as Record<string, string>).parentJobName, 'wf.task');
    const result = await runCli(`sluice --result ${taskId} --format csv`, asAlice);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'answer\n42\n');
  });

  it('--status reports FAILED and RUNNING, the names the DS plugin maps to exit codes', async () => {
    const failed = await dsSubmit('-engineType duckdb -code "select * from missing_table"');
    await alice.waitFor(failed.execId);
    assert.equal(await dsStatus(failed.taskId), 'FAILED');
    const running = await dsSubmit(`-engineType shell -code ${sh('echo up; sleep 60')}`);
    await alice.waitFor(running.execId, ['Running']);
    assert.equal(await dsStatus(running.taskId), 'RUNNING');

    // LinkisTask.cancelApplication: `linkis-cli --kill <taskId>`.
    const kill = await runCli(`sluice --kill ${running.taskId}`, asAlice);
    assert.equal(kill.code, 0, kill.stderr);
    assert.match(kill.stderr, new RegExp(`kill successful: taskID=${running.taskId}, status=CANCELLED`));
    assert.equal(dsFind(DS_STATUS, kill.stdout), 'CANCELLED');
    assert.equal((await alice.job(running.execId)).body.state, 'Cancelled');
    assert.equal(await dsStatus(running.taskId), 'CANCELLED');
    const again = await runCli(`sluice --kill ${running.taskId}`, asAlice);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /kill aborted: job \d+ has already ended \(CANCELLED\)/);
  });

  it('--log and --result by taskID, and log/result/status/kill by job id, sluice style', async () => {
    const { taskId, execId } = await dsSubmit(`-engineType shell -code ${sh('echo alpha; echo beta')}`);
    await alice.waitFor(execId);
    const log = await runCli(`sluice --log ${taskId}`, asAlice);
    assert.equal(log.code, 0, log.stderr);
    assert.match(log.stdout, /^alpha\nbeta$/m);
    const byId = await runCli(`sluice log ${execId}`, asAlice);
    assert.equal(byId.stdout, log.stdout);
    const status = await runCli(`sluice status ${execId.toLowerCase()}`, asAlice);
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { execId: string }).execId, execId);

    const sql = await dsSubmit('-engineType duckdb -code "select range as n from range(2)"');
    await alice.waitFor(sql.execId);
    const out = mkdtempSync(path.join(os.tmpdir(), 'sluice-result-'));
    try {
      const table = await runCli(`sluice result ${sql.execId}`, asAlice);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^ n\s*\n-+\n\s+0\n\s+1\n\(2 rows\)$/m);
      const files = await runCli(`sluice --result ${sql.taskId} -outPath ${sh(out)}`, asAlice);
      assert.equal(files.code, 0, files.stderr);
      assert.deepEqual(readdirSync(out), [`alice-task-${sql.taskId}-result-0.csv`]);
      assert.equal(readFileSync(path.join(out, `alice-task-${sql.taskId}-result-0.csv`), 'utf8'), 'n\n0\n1\n');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }

    const sleeper = await dsSubmit(`-engineType shell -code ${sh('sleep 60')}`);
    await alice.waitFor(sleeper.execId, ['Running']);
    const kill = await runCli(`sluice kill ${sleeper.execId}`, asAlice);
    assert.equal(kill.code, 0, kill.stderr);
    assert.equal((await alice.job(sleeper.execId)).body.state, 'Cancelled');
  });

  it("a taskID of another user's job is refused; an admin token sees it", async () => {
    const { taskId, execId } = await dsSubmit('-code "select 1"');
    await alice.waitFor(execId);
    const bob = await runCli(`sluice --status ${taskId}`, { ...asAlice, token: ts.tokens.bob });
    assert.equal(bob.code, 3);
    assert.match(bob.stderr, /cannot read the job: SLUICE_AUTH_FORBIDDEN: /);
    const root = await runCli(`sluice --status ${taskId}`, { ...asAlice, token: ts.tokens.admin });
    assert.equal(root.code, 0, root.stderr);
    assert.equal(dsFind(DS_STATUS, root.stdout), 'SUCCEED');
    const unknown = await runCli('sluice --status 999999', asAlice);
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, /SLUICE_JOB_NOT_FOUND: no job with taskID 999999/);
  });
});
