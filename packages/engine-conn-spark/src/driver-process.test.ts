import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { alive, HeldWatchdog, standInRun, standInSuite, until } from '../test/support/stand-in-spark.ts';
import { CONNECT_SERVER_CLASS, DriverProcess, type DriverSpec } from './driver-process.ts';
import type { DriverWatchdog } from './driver-watchdog.ts';

/** A conf value that breaks naive quoting. */
const ODD_VALUE = `a "b" $HOME 'c' \\d`;

describe('driver process: guarded start', () => {
  const suite = standInSuite();

  async function specOf(watchdog: DriverWatchdog): Promise<DriverSpec> {
    const workDir = await suite.tempDir('sluice-spark-driver-');
    return {
      engineId: 'guarded-engine',
      user: 'alice',
      workDir,
      install: suite.install(),
      settings: { master: 'local[1]', local: true, driverMemory: '512m', driverCores: 1, submitArgs: [], conf: {} },
      baseConf: { 'spark.sql.odd': ODD_VALUE },
      ui: false,
      logLevel: 'WARN',
      port: 15002,
      watchdog,
      launchTimeoutMs: 20_000,
    };
  }

  it('runs none of spark-submit before the watchdog confirms the group, then execs it with its arguments', async () => {
    const watchdog = new HeldWatchdog();
    const spec = await specOf(watchdog);
    try {
      const starting = DriverProcess.start(spec);
      await until('the guard to be asked', () => watchdog.asked.length > 0);
      await sleep(300);
      assert.equal(existsSync(path.join(spec.workDir, 'ran')), false, 'nothing ran while the guard was pending');
      watchdog.release();
      const driver = await starting;
      try {
        assert.equal(driver.endpoint, '127.0.0.1:15002');
        assert.equal(driver.pid, watchdog.asked[0], 'the guarded group is the driver’s');
        assert.deepEqual(watchdog.watched, [driver.pid]);
        const ran = standInRun(spec.workDir);
        assert.ok(ran, 'spark-submit ran');
        assert.equal(ran.pid, driver.pid, 'spark-submit runs in the gate’s process (exec)');
        assert.equal(ran.stdin, '/dev/null');
        assert.deepEqual(ran.args.slice(0, 2), ['--master', 'local[1]']);
        assert.deepEqual(ran.args.slice(-2), ['--class', CONNECT_SERVER_CLASS]);
        assert.ok(ran.args.includes(`spark.sql.odd=${ODD_VALUE}`), 'arguments pass through unchanged');
        assert.ok(
          ran.args.some((a) => a.startsWith('spark.driver.extraJavaOptions=-Djava.io.tmpdir=') && a.includes(' -Dderby.system.home=')),
          'an argument with spaces stays one argument',
        );
      } finally {
        await driver.stop(0);
      }
      assert.deepEqual(watchdog.watched, []);
    } finally {
      watchdog.close();
    }
  });

  it('kills the group without running spark-submit when the guard fails, and the start fails', async () => {
    const watchdog = new HeldWatchdog(new Error('no watchdog here'));
    const spec = await specOf(watchdog);
    try {
      await assert.rejects(DriverProcess.start(spec), /the Spark driver was not started: its process group could not be guarded \(no watchdog here\)/);
      const pgid = watchdog.asked[0] as number;
      assert.ok(pgid > 1);
      assert.equal(alive(pgid), false, 'the group is gone');
      await sleep(100);
      assert.equal(existsSync(path.join(spec.workDir, 'ran')), false);
    } finally {
      watchdog.close();
    }
  });
});
