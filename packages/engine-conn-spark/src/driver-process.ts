import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { signalGroup, spawnGated } from '@sluice/process-watchdog';
import type { DriverWatchdog } from './driver-watchdog.ts';
import type { DriverSettings } from './launch-params.ts';
import type { SparkInstall } from './spark-install.ts';
import { confArgs, localDriverConf, prepareDirs, submitEnv } from './submit-env.ts';

/** Main class of the Spark Connect server (Spark 4.x). */
export const CONNECT_SERVER_CLASS = 'org.apache.spark.sql.connect.service.SparkConnectServer';

const STARTED = /Spark Connect server started at:?\s*(\S+?):(\d+)/;
const TAIL_LINES = 40;

/** Everything one driver launch needs. */
export interface DriverSpec {
  engineId: string;
  /** SPARK_USER of the driver. */
  user: string;
  /** Whom the engine belongs to, for the application name (default `user`), e.g. `group:etl` on a shared engine. */
  owner?: string;
  workDir: string;
  install: SparkInstall;
  settings: DriverSettings;
  /** Deployment-wide Spark configuration, applied before the job's. */
  baseConf: Record<string, string>;
  ui: boolean;
  logLevel: string;
  port: number;
  watchdog: DriverWatchdog;
  launchTimeoutMs: number;
}

/**
 * One Spark driver running the Spark Connect server, started through spark-submit in its own process
 * group (spark-submit execs the JVM, so the child's pid is the driver's). The connector's watchdog
 * kills the group if the manager dies; spark-submit starts only once the watchdog has confirmed the
 * group. Readiness is the server's own "started at host:port" line.
 */
export class DriverProcess {
  readonly pid: number;
  /** Where the Connect server listens, once started. */
  endpoint = '';
  private readonly tail: string[] = [];
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Why the watchdog could not guard the group, which was then killed before spark-submit ran. */
  private guardError: string | undefined;
  private readonly exitListeners: ((reason: string) => void)[] = [];
  /** Resolves when the JVM has exited. */
  readonly exited: Promise<void>;
  private onLine: ((line: string) => void) | undefined;

  private constructor(
    child: ChildProcess,
    private readonly watchdog: DriverWatchdog,
  ) {
    this.pid = child.pid ?? -1;
    let partial = '';
    const take = (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        this.tail.push(line);
        if (this.tail.length > TAIL_LINES) this.tail.shift();
        this.onLine?.(line);
      }
    };
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        // Anything the driver left in its group (Python workers) goes with it.
        signalGroup(this.pid, 'SIGKILL');
        this.watchdog.unwatch(this.pid);
        const reason = this.exitReason();
        for (const listener of this.exitListeners.splice(0)) listener(reason);
        resolve();
      });
      child.once('error', (err) => {
        if (child.pid !== undefined) return;
        this.exitInfo = { code: null, signal: null };
        this.tail.push(`could not start spark-submit: ${err.message}`);
        for (const listener of this.exitListeners.splice(0)) listener(this.exitReason());
        resolve();
      });
    });
  }

  /** Starts a driver and waits until its Connect server listens. Rejects with the driver's last output. */
  static async start(spec: DriverSpec): Promise<DriverProcess> {
    const dirs = await prepareDirs(spec.workDir, spec.logLevel);
    const { settings, install } = spec;
    const merged = { ...spec.baseConf, ...settings.conf };
    const conf: Record<string, string> = {
      ...merged,
      ...(settings.local ? localDriverConf(dirs, spec.ui, merged) : { 'spark.ui.enabled': String(spec.ui), 'spark.sql.warehouse.dir': dirs.warehouse }),
      'spark.connect.grpc.binding.address': '127.0.0.1',
      'spark.connect.grpc.binding.port': String(spec.port),
    };
    const args = [
      '--master',
      settings.master,
      '--name',
      `sluice-${spec.owner ?? spec.user}-${spec.engineId.slice(0, 8)}`,
      '--driver-memory',
      settings.driverMemory,
      ...settings.submitArgs,
      ...confArgs(conf),
      '--class',
      CONNECT_SERVER_CLASS,
    ];
    await spec.watchdog.start();
    let driver: DriverProcess | undefined;
    const child = spawnGated(path.join(install.sparkHome, 'bin', 'spark-submit'), args, {
      cwd: dirs.root,
      env: submitEnv(install, dirs, spec.user),
      guard: (pgid) => spec.watchdog.guard(pgid),
      onGuardFailed: (err) => {
        if (driver) driver.guardError ??= err.message;
      },
    });
    driver = new DriverProcess(child, spec.watchdog);
    try {
      await driver.ready(spec.launchTimeoutMs);
    } catch (err) {
      await driver.stop(0);
      throw err;
    }
    return driver;
  }

  private ready(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.onLine = undefined;
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(
        () => done(new Error(`the Spark Connect server did not start within ${timeoutMs} ms; last output: ${this.lastOutput()}`)),
        timeoutMs,
      );
      this.onLine = (line) => {
        const m = STARTED.exec(line);
        if (m) {
          this.endpoint = `${m[1]}:${m[2]}`;
          done();
        }
      };
      void this.exited.then(() => done(new Error(`the Spark driver ${this.exitReason()}`)));
    });
  }

  /** True once the JVM has exited. */
  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** The driver's last lines of output, joined, for error messages. */
  lastOutput(lines = 6): string {
    return (
      this.tail
        .filter((l) => l.trim() && !l.startsWith('\t'))
        .slice(-lines)
        .join(' | ') || '(none)'
    );
  }

  /** How the driver ended, with its last output. */
  exitReason(): string {
    if (this.guardError !== undefined) return `was not started: its process group could not be guarded (${this.guardError})`;
    const info = this.exitInfo;
    const how = !info ? 'is running' : info.signal ? `was killed by ${info.signal}` : `exited with code ${info.code}`;
    return `${how}; last output: ${this.lastOutput(3)}`;
  }

  /** Called once when the driver exits, for whatever reason. */
  onExit(listener: (reason: string) => void): void {
    if (this.exitInfo) queueMicrotask(() => listener(this.exitReason()));
    else this.exitListeners.push(listener);
  }

  /** Stops the driver: SIGTERM to its group, SIGKILL after `graceMs`; resolves once it exited. */
  async stop(graceMs: number): Promise<void> {
    if (this.exitInfo) return;
    if (graceMs <= 0) signalGroup(this.pid, 'SIGKILL');
    else signalGroup(this.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), Math.max(0, graceMs));
    await this.exited;
    clearTimeout(timer);
  }
}
