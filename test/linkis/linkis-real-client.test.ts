import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestEnv, testEnv } from '../support/test-stack.ts';
import { type LinkisStack, startLinkisStack } from './linkis-stack.ts';

const root = path.resolve(import.meta.dirname, '../..');

/** The JDK to compile and run with: JAVA_HOME, else the machine's JDK 17, else what is on PATH. */
function jdkTool(name: 'java' | 'javac'): string {
  for (const home of [process.env.JAVA_HOME, '/usr/lib/jvm/java-17-openjdk-amd64']) {
    if (home && existsSync(path.join(home, 'bin', name))) return path.join(home, 'bin', name);
  }
  return name;
}

function run(cmd: string, args: string[], timeoutMs: number): string {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} … failed (${r.status ?? r.signal}):\n${r.stderr}\n${r.stdout}`.slice(0, 8000));
  return r.stdout;
}

/** Runs a process without blocking the event loop; kills it after `timeoutMs`. */
function runAsync(cmd: string, args: string[], timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('the official Linkis Java SDK (org.apache.linkis:linkis-computation-client from Maven Central) against Sluice', () => {
  let env: TestEnv;
  let s: LinkisStack;
  let classes: string;
  const facts = new Map<string, unknown>();
  let stderr = '';

  before(async () => {
    // Fetches the jars on first use (cached in .cache/linkis-clients), then compiles the driver.
    const classpath = run('bash', ['scripts/linkis-clients.sh'], 600_000).trim();
    assert.match(classpath, /linkis-computation-client-[\d.]+\.jar/);
    classes = mkdtempSync(path.join(os.tmpdir(), 'sluice-linkis-java-'));
    run(jdkTool('javac'), ['-d', classes, '-cp', classpath, path.join(root, 'test/linkis/java/LinkisClientDriver.java')], 120_000);

    env = await testEnv('redis');
    s = await startLinkisStack(env);
    // Asynchronously: the gateway answering the driver runs in this very process.
    const r = await runAsync(
      jdkTool('java'),
      ['-cp', `${classes}${path.delimiter}${classpath}`, 'LinkisClientDriver', s.url, 'alice', s.ts.tokens.alice, 'bob', s.ts.tokens.bob],
      300_000,
    );
    stderr = r.stderr;
    assert.equal(r.status, 0, `the driver exited ${r.status}:\n${r.stderr.slice(-4000)}`);
    for (const line of r.stdout.split('\n')) {
      const m = /^LK ([\w.]+)=(.*)$/.exec(line);
      if (m) facts.set(m[1] as string, JSON.parse(m[2] as string));
    }
  });
  after(async () => {
    await s?.stop();
    await env?.cleanup();
    if (classes) rmSync(classes, { recursive: true, force: true });
  });

  const fact = <T>(key: string): T => {
    assert.ok(
      facts.has(key),
      `the driver reported ${key}; errors: ${JSON.stringify([...facts].filter(([k]) => k.endsWith('.error')))}\n${stderr.slice(-3000)}`,
    );
    return facts.get(key) as T;
  };

  it('ran every scenario without an error', () => {
    for (const scenario of ['token', 'static', 'wrongUser']) assert.equal(fact(`${scenario}.done`), true);
    assert.deepEqual(
      [...facts.keys()].filter((k) => k.endsWith('.error')),
      [],
    );
  });

  it('token auth (Token-User + Token-Code): submit, poll status and log, read job info', async () => {
    const taskID = fact<string>('token.taskID');
    const execID = fact<string>('token.execID');
    assert.match(taskID, /^\d+$/);
    assert.match(execID, new RegExp(`^exec_id018\\d{3}linkis-cg-entrance127\\.0\\.0\\.1:\\d+LINKISCLI_alice_duckdb_${taskID}$`));
    const statuses = fact<string[]>('token.statuses');
    assert.equal(statuses[statuses.length - 1], 'Succeed');
    assert.match(fact<string>('token.entranceLog'), /Statement 1\/1: SELECT\nCongratulations\. Your job completed with status Success\.$/);
    assert.equal(fact('token.progress'), 1);
    const task = fact<Record<string, unknown>>('token.task');
    assert.equal(task.taskID, Number(taskID));
    assert.equal(task.status, 'Succeed');
    assert.equal(task.umUser, 'alice');
    assert.match(task.executionCode as string, /range \* \$\{factor\} as m/);
    assert.equal(task.resultLocation, `file:///sluice/result/alice/${taskID}`);
    assert.equal(task.logPath, `file:///sluice/log/alice/${taskID}.log`);
    assert.equal(task.progress, 1);
    assert.equal(task.strongerExecId, execID);
    assert.ok(Math.abs((task.createdTime as number) - Date.now()) < 600_000, 'createdTime read as epoch milliseconds');
    assert.ok((task.updatedTime as number) >= (task.createdTime as number));
    const job = await s.ts.stack.entrance.get({ user: 'alice', admin: false }, taskID);
    assert.equal(job.creator, 'LINKISCLI');
    assert.equal(job.labels['linkis.scriptPath'], 'LinkisCli');
  });

  it('reads result sets page by page, typed by the column metadata', () => {
    const taskID = fact<string>('token.taskID');
    assert.deepEqual(fact('token.resultSets'), [`file:///sluice/result/alice/${taskID}/_0.dolphin`]);
    const pages =
      fact<{ metadata: { columnName: string; dataType: string }[]; rows: string[][]; type: string; totalLine: number; page: number }[]>('token.pages');
    assert.deepEqual(
      pages[0]?.metadata.map((m) => [m.columnName, m.dataType]),
      [
        ['n', 'bigint'],
        ['m', 'bigint'],
        ['s', 'string'],
        ['z', 'int'],
        ['even', 'boolean'],
      ],
    );
    assert.deepEqual(
      pages.map((p) => [p.type, p.page, p.totalLine, p.rows.length]),
      [
        ['2', 1, 7, 5],
        ['2', 2, 7, 2],
      ],
    );
    assert.deepEqual(pages[0]?.rows[1], ['Long:1', 'Long:10', 'String:row 1', '<null>', 'Boolean:false'], 'variables substituted, nulls null, values typed');
    assert.deepEqual(pages[1]?.rows[1], ['Long:6', 'Long:60', 'String:row 6', '<null>', 'Boolean:true']);
  });

  it('opens the finished log and lists the job in job history', () => {
    const log = fact<string[]>('token.openLog');
    assert.equal(log.length, 4);
    assert.match(log[3] ?? '', /Congratulations\. Your job completed with status Success\.$/);
    const list = fact<{ taskIDs: number[]; totalPage: number }>('token.list');
    assert.ok(list.taskIDs.includes(Number(fact<string>('token.taskID'))), JSON.stringify(list));
    assert.ok(list.totalPage >= list.taskIDs.length);
  });

  it('sees a failed job as Failed with errCode and errDesc, and no result sets', () => {
    const statuses = fact<string[]>('failed.statuses');
    assert.equal(statuses[statuses.length - 1], 'Failed');
    const task = fact<{ status: string; errCode: number; errDesc: string }>('failed.task');
    assert.equal(task.status, 'Failed');
    assert.equal(task.errCode, 60024);
    assert.match(task.errDesc, /^SLUICE_ENGINE_QUERY_FAILED: .*no_such_table/);
    assert.equal(fact('failed.resultSets'), 'UJESJobException');
    assert.match(fact<string>('failed.entranceLog'), /Sorry\. Your job completed with a status Failed/);
  });

  it('kills a running shell job', () => {
    assert.equal(fact('kill.before'), 'Running');
    assert.equal(fact('kill.reply'), 0);
    assert.equal(fact('kill.status'), 'Cancelled');
  });

  it('static auth (user/login with the token as password, then the session cookie) runs an interactive job', async () => {
    assert.equal(fact('static.status'), 'Succeed');
    const sets = fact<{ metadata: { columnName: string; dataType: string }[]; rows: string[][] }[]>('static.resultSets');
    assert.deepEqual(
      sets[0]?.metadata.map((m) => m.dataType),
      ['string', 'bigint', 'double'],
    );
    assert.deepEqual(sets[0]?.rows, [
      ['String:a', 'String:42', 'String:1.5'],
      ['String:b', 'String:7', 'String:2.25'],
    ]);
    assert.match(fact<string>('static.logs'), /Congratulations\. Your job completed with status Success\./);
    const job = await s.ts.stack.entrance.get({ user: 'alice', admin: false }, fact<string>('static.taskID'));
    assert.equal(job.creator, 'JDBCDriver');
    assert.equal(job.user, 'alice');
  });

  it('refuses a token used under another user name', () => {
    assert.match(fact<string>('wrongUser.result'), /Token Authentication Failed, tokenUser: alice/);
  });
});
