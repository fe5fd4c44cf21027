import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type EngineConnector, SluiceError } from '@sluice/core';
import { waitFor } from '@sluice/testkit';
import { createSparkConnector, type SparkEngine } from '../src/index.ts';
import { ensureSpark, testConnectorOptions } from './spark-home.ts';
import { alive, queryRows, rejectionOf, runTask } from './task-runner.ts';

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../../..');

function sluiceError(err: unknown, code: string): SluiceError {
  assert.ok(err instanceof SluiceError, `expected a SluiceError ${code}, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return err;
}

describe('spark engine on a real driver', () => {
  let connector: EngineConnector;
  let engine: SparkEngine;
  let scratch: string;
  let fileRoot: string;

  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'sluice-spark-engine-'));
    fileRoot = path.join(scratch, 'batch-files');
    await exec('mkdir', ['-p', fileRoot]);
    connector = createSparkConnector(await testConnectorOptions({ batchFileRoots: [fileRoot] }));
    engine = (await connector.launch({
      engineId: 'engine-test',
      user: 'alice',
      version: '4',
      workDir: path.join(scratch, 'engine'),
      params: {},
    })) as SparkEngine;
  });

  after(async () => {
    await engine?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('reports progress from the stages Spark runs, rising to 1', async () => {
    const out = await runTask(engine, 'SELECT count(*) AS groups FROM (SELECT id % 100 AS k, count(*) AS c FROM range(0, 5000000, 1, 6) GROUP BY k)');
    assert.deepEqual(out.resultSets[0]?.rows, [['100']]);
    assert.ok(out.progress.length >= 2, `progress events: ${out.progress.join(', ')}`);
    for (let i = 1; i < out.progress.length; i++) assert.ok((out.progress[i] as number) >= (out.progress[i - 1] as number), 'progress never goes back');
    assert.equal(out.progress[out.progress.length - 1], 1);
    // How many partial reports arrive depends on machine load; each one must name the operation.
    const partial = out.events.filter((e) => e.type === 'progress' && e.progress > 0 && e.progress < 1);
    assert.ok(
      partial.every((e) => e.type === 'progress' && typeof e.info?.operationId === 'string'),
      'every partial progress carries the operation id',
    );
  });

  it('runs a script of several statements, each query a result set with Spark type names', async () => {
    const out = await runTask(engine, "SELECT 1 AS a; CREATE OR REPLACE TEMP VIEW t AS SELECT 'x' AS b, CAST(2.50 AS DECIMAL(5,2)) AS d; SELECT * FROM t");
    assert.equal(out.resultSets.length, 2, 'the CREATE VIEW has no result set');
    assert.deepEqual(out.resultSets[0], { columns: [{ name: 'a', type: 'int', nullable: false }], rows: [[1]] });
    assert.deepEqual(
      out.resultSets[1]?.columns.map((c) => c.type),
      ['string', 'decimal(5,2)'],
    );
    assert.deepEqual(out.resultSets[1]?.rows, [['x', '2.50']]);
  });

  it('applies runtimeParams.conf to the task only, then restores the session setting', async () => {
    const before = await queryRows(engine, 'SET spark.sql.shuffle.partitions');
    assert.deepEqual(before, [['spark.sql.shuffle.partitions', '4']]);
    const during = await queryRows(engine, 'SET spark.sql.shuffle.partitions', { conf: { 'spark.sql.shuffle.partitions': 3 } });
    assert.deepEqual(during, [['spark.sql.shuffle.partitions', '3']]);
    assert.deepEqual(await queryRows(engine, 'SET spark.sql.shuffle.partitions'), before);
    const refused = await rejectionOf(runTask(engine, 'SELECT 1', { runtimeParams: { conf: { 'spark.driver.memory': '8g' } } }));
    sluiceError(refused, 'SLUICE_REQUEST_INVALID');
  });

  it('reports a syntax error with its Spark error class and SQLSTATE as a user error', async () => {
    const err = sluiceError(await rejectionOf(runTask(engine, 'SELEC 1')), 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(err.category, 'user');
    assert.equal(err.details.errorClass, 'PARSE_SYNTAX_ERROR');
    assert.equal(err.details.sqlState, '42601');
    assert.match(String(err.details.exception), /ParseException/);
    const divide = sluiceError(await rejectionOf(runTask(engine, 'SELECT 1 / 0')), 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(divide.details.errorClass, 'DIVIDE_BY_ZERO');
  });

  it('refuses code types it does not run', async () => {
    sluiceError(await rejectionOf(runTask(engine, 'println(1)', { codeType: 'scala' })), 'SLUICE_JOB_CODE_TYPE_UNSUPPORTED');
  });

  it('runs a PySpark batch script through spark-submit: its output is the log, exit 0 succeeds', async () => {
    const script = [
      'import sys',
      'from pyspark.sql import SparkSession',
      'spark = SparkSession.builder.getOrCreate()',
      'n = int(sys.argv[1])',
      'print("TOTAL", spark.range(n).groupBy().sum("id").collect()[0][0], flush=True)',
      'spark.stop()',
    ].join('\n');
    const out = await runTask(engine, script, { codeType: 'pyspark', runtimeParams: { args: [1000] } });
    assert.ok(out.logs.includes('TOTAL 499500'), `log: ${out.logs.join(' | ')}`);
    assert.equal(out.logs[out.logs.length - 1], 'The Spark application exited with code 0');
  });

  it('fails a PySpark script that exits 1 with SLUICE_ENGINE_SCRIPT_FAILED, after streaming its output', async () => {
    const lines: string[] = [];
    const err = await rejectionOf(
      runTask(engine, 'import sys\nprint("about to fail", flush=True)\nsys.exit(1)', {
        codeType: 'py',
        onEvent: (e) => e.type === 'log' && lines.push(e.line),
      }),
    );
    const failure = sluiceError(err, 'SLUICE_ENGINE_SCRIPT_FAILED');
    assert.equal(failure.details.exitCode, 1);
    assert.equal(failure.category, 'user');
    assert.ok(lines.includes('about to fail'));
  });

  it('runs a .py file named in runtimeParams only from an allowed directory', async () => {
    const file = path.join(fileRoot, 'job.py');
    await writeFile(file, 'import sys\nprint("FROM FILE", " ".join(sys.argv[1:]))\n');
    const out = await runTask(engine, '', { codeType: 'pyspark', runtimeParams: { file, args: ['a', 'b'] } });
    assert.ok(out.logs.includes('FROM FILE a b'), out.logs.join(' | '));
    const outside = path.join(scratch, 'outside.py');
    await writeFile(outside, 'print(1)\n');
    const err = sluiceError(await rejectionOf(runTask(engine, '', { codeType: 'pyspark', runtimeParams: { file: outside } })), 'SLUICE_REQUEST_INVALID');
    assert.match(err.message, /outside the directories/);
  });

  it('runs a jar with a main class and arguments; its exit code is the outcome', async () => {
    const spark = await ensureSpark();
    const src = path.join(scratch, 'jar-src');
    await exec('mkdir', ['-p', src]);
    await writeFile(
      path.join(src, 'Hello.java'),
      'public class Hello { public static void main(String[] a) { System.out.println("hello from a jar " + a[0]); System.exit(Integer.parseInt(a[1])); } }\n',
    );
    await exec(path.join(spark.javaHome, 'bin', 'javac'), ['-d', src, path.join(src, 'Hello.java')]);
    const jar = path.join(fileRoot, 'hello.jar');
    await exec(path.join(spark.javaHome, 'bin', 'jar'), ['cf', jar, '-C', src, 'Hello.class']);
    const ok = await runTask(engine, '', { codeType: 'jar', runtimeParams: { file: jar, mainClass: 'Hello', args: ['world', '0'] } });
    assert.ok(ok.logs.includes('hello from a jar world'), ok.logs.join(' | '));
    const failed = sluiceError(
      await rejectionOf(runTask(engine, '', { codeType: 'jar', runtimeParams: { file: jar, mainClass: 'Hello', args: ['again', '3'] } })),
      'SLUICE_ENGINE_SCRIPT_FAILED',
    );
    assert.equal(failed.details.exitCode, 3);
  });

  it('cancels a running batch application: its process group is killed', async () => {
    const controller = new AbortController();
    let pid = 0;
    const running = rejectionOf(
      runTask(engine, 'import time\nprint("sleeping", flush=True)\ntime.sleep(600)', {
        codeType: 'pyspark',
        signal: controller.signal,
        onEvent: (e) => {
          const m = e.type === 'log' ? /spark-submit started \(pid (\d+)/.exec(e.line) : null;
          if (m) pid = Number(m[1]);
          if (e.type === 'log' && e.line === 'sleeping') controller.abort();
        },
      }),
    );
    const err = await running;
    sluiceError(err, 'SLUICE_JOB_CANCELLED');
    assert.ok(pid > 0);
    await waitFor(() => !alive(pid), { timeoutMs: 10_000, what: 'the batch driver to exit' });
    assert.equal((await engine.health()).ok, true, 'the engine itself is untouched');
  });

  it('opens a session on a remote Spark Connect server named by a data source; sessions are isolated', async () => {
    await runTask(engine, 'CREATE OR REPLACE TEMP VIEW only_alice AS SELECT 1 AS x');
    const remote = await connector.launch({
      engineId: 'remote-test',
      user: 'bob',
      version: '4',
      workDir: path.join(scratch, 'remote'),
      params: {},
      dataSource: {
        name: 'shared_spark',
        type: 'spark',
        version: 1,
        params: { connectUrl: `sc://${engine.endpoint}`, conf: { 'spark.sql.shuffle.partitions': '7' } },
        secretFields: ['token'],
      },
    });
    try {
      assert.equal(remote.pid, undefined, 'no local process');
      // The protocol guard asked the server its version (AnalyzePlan spark_version); health reports it.
      const health = await remote.health();
      assert.match(health.detail ?? '', new RegExp(`^Spark ${(await ensureSpark()).version.replace(/\./g, '\\.')}, `));
      // current_user() would name the server's user (SPARK_USER of its driver), not the session's.
      assert.deepEqual(await queryRows(remote, 'SELECT 40 + 2 AS v, current_database() AS db'), [[42, 'default']]);
      assert.deepEqual(
        await queryRows(remote, 'SET spark.sql.shuffle.partitions'),
        [['spark.sql.shuffle.partitions', '7']],
        'the data source conf is set on the session',
      );
      assert.deepEqual(await queryRows(engine, 'SET spark.sql.shuffle.partitions'), [['spark.sql.shuffle.partitions', '4']], 'and only on that session');
      const err = sluiceError(await rejectionOf(runTask(remote, 'SELECT * FROM only_alice')), 'SLUICE_ENGINE_QUERY_FAILED');
      assert.equal(err.details.errorClass, 'TABLE_OR_VIEW_NOT_FOUND');
      sluiceError(await rejectionOf(runTask(remote, 'print(1)', { codeType: 'pyspark' })), 'SLUICE_JOB_CODE_TYPE_UNSUPPORTED');
    } finally {
      await remote.close();
    }
    assert.deepEqual(await queryRows(engine, 'SELECT x FROM only_alice'), [[1]], 'closing the remote session leaves the server and other sessions alone');
  });

  it('refuses start-up params over the quota before starting anything', async () => {
    const err = sluiceError(
      await rejectionOf(
        connector.launch({ engineId: 'over', user: 'alice', version: '4', workDir: path.join(scratch, 'over'), params: { driverMemory: '64g' } }),
      ),
      'SLUICE_REQUEST_INVALID',
    );
    assert.match(err.message, /quota/);
  });

  it('fails the launch with SLUICE_ENGINE_LAUNCH_FAILED when no Spark is configured', async () => {
    const bare = createSparkConnector({ sparkHome: path.join(scratch, 'no-spark'), javaHome: '/nonexistent' });
    const err = sluiceError(
      await rejectionOf(bare.launch({ engineId: 'none', user: 'alice', version: '4', workDir: path.join(scratch, 'none'), params: {} })),
      'SLUICE_ENGINE_LAUNCH_FAILED',
    );
    assert.equal(err.retryable, true);
  });

  it('kills the driver when the engine manager dies (kill -9), through the watchdog', async () => {
    const child = spawn(process.execPath, ['--conditions=sluice-source', '--import', 'tsx', path.join(import.meta.dirname, 'fixtures/launch-and-wait.ts')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (t: string) => {
      text += t;
    });
    const { pid } = await waitFor(
      () => {
        const line = text.split('\n').find((l) => l.startsWith('{'));
        return line ? (JSON.parse(line) as { pid: number }) : undefined;
      },
      { timeoutMs: 240_000, what: 'the fixture to launch an engine' },
    );
    assert.ok(alive(pid), 'the driver runs');
    child.kill('SIGKILL');
    await waitFor(() => !alive(pid), { timeoutMs: 20_000, what: `driver ${pid} to die with its manager` });
    await sleep(10);
  });
});
