import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DriverWatchdog } from '../../src/driver-watchdog.ts';
import type { SparkInstall } from '../../src/spark-install.ts';

/**
 * bin/spark-submit of the stand-in: in its working directory it leaves `ran`, its arguments one per
 * line in `args.txt`, and its pid and what its stdin is in `started.txt`. Given the Connect server class it
 * announces a server and sleeps like a driver; otherwise it prints a line and exits 0 like a batch
 * application.
 */
const SPARK_SUBMIT = `#!/usr/bin/env bash
touch ran
printf '%s\\n' "$@" > args.txt
echo "$$ $(readlink /proc/$$/fd/0)" > started.txt
case " $* " in
  *SparkConnectServer*) echo "Spark Connect server started at: 127.0.0.1:15002" >&2; exec sleep 300 ;;
esac
echo "stand-in application ran"
`;

/**
 * For a suite: a stand-in Spark made before its tests (`install()`), and temporary directories
 * (`tempDir(prefix)`) removed after them, with the stand-in's own.
 */
export function standInSuite(): { install: () => SparkInstall; tempDir: (prefix: string) => Promise<string> } {
  let spark: { dir: string; install: SparkInstall } | undefined;
  const dirs: string[] = [];
  before(async () => {
    spark = await standInSpark();
    dirs.push(spark.dir);
  });
  after(async () => {
    await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  return {
    install: () => {
      if (!spark) throw new Error('the stand-in Spark is made before the suite runs');
      return spark.install;
    },
    tempDir: async (prefix) => {
      const dir = await mkdtemp(path.join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
  };
}

/** A directory with a stand-in bin/spark-submit, and an install that points at it. */
export async function standInSpark(): Promise<{ dir: string; install: SparkInstall }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sluice-spark-stand-in-'));
  await mkdir(path.join(dir, 'bin'));
  await writeFile(path.join(dir, 'bin', 'spark-submit'), SPARK_SUBMIT);
  await chmod(path.join(dir, 'bin', 'spark-submit'), 0o755);
  return {
    dir,
    install: { sparkHome: dir, javaHome: dir, python: 'python3', connectJar: path.join(dir, 'spark-connect_2.13-4.1.4.jar'), sparkVersion: '4.1.4' },
  };
}

/** What the stand-in left in `workDir`, or undefined when it never ran. */
export function standInRun(workDir: string): { args: string[]; pid: number; stdin: string } | undefined {
  try {
    const [pid, stdin] = readFileSync(path.join(workDir, 'started.txt'), 'utf8').trim().split(' ');
    const args = readFileSync(path.join(workDir, 'args.txt'), 'utf8').split('\n').slice(0, -1);
    return { args, pid: Number(pid), stdin: stdin ?? '' };
  } catch {
    return undefined;
  }
}

/**
 * A real driver watchdog whose guard() is held until release() (then confirmed by the watchdog
 * process as usual; `confirmed` lists the groups whose guard resolved), or, built with `fail`, fails
 * after 300 ms: long enough for an ungated program to have run.
 */
export class HeldWatchdog extends DriverWatchdog {
  readonly asked: number[] = [];
  readonly confirmed: number[] = [];
  private open!: () => void;
  private readonly held = new Promise<void>((resolve) => {
    this.open = resolve;
  });

  constructor(private readonly fail?: Error) {
    super();
  }

  override guard(pgid: number): Promise<void> {
    this.asked.push(pgid);
    const fail = this.fail;
    if (fail) return sleep(300).then(() => Promise.reject(fail));
    return this.held
      .then(() => super.guard(pgid))
      .then(() => {
        this.confirmed.push(pgid);
      });
  }

  release(): void {
    this.open();
  }
}

export { processAlive as alive, until } from '@sluice/testkit';
