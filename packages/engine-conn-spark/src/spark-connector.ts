import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type EngineConnector, type EngineLaunchSpec, type EngineShareRequest, SluiceError } from '@sluice/core';
import { ConnectClient } from './connect-client.ts';
import { type ConnectProtocol, loadConnectProtocol } from './connect-protos.ts';
import { DriverProcess } from './driver-process.ts';
import { DriverWatchdog } from './driver-watchdog.ts';
import { freePort } from './free-port.ts';
import { DEFAULT_SPARK_QUOTA, resolveDriverSettings, type SparkQuota } from './launch-params.ts';
import { checkServerVersion, processWarning } from './protocol-guard.ts';
import { isSharedLevel, type SparkShareLevel, shareLevelOf, sparkShare } from './share-level.ts';
import { SPARK_CODE_TYPES, SparkEngine } from './spark-engine.ts';
import { resolveInstall, type SparkInstall } from './spark-install.ts';
import { parseSparkDataSource } from './spark-params.ts';

/** The Spark version line this connector speaks (Spark Connect as shipped in Spark 4.x). */
export const SPARK_VERSION = '4';

/** Options of {@link createSparkConnector}; the distribution and Java are needed to launch drivers. */
export interface SparkConnectorOptions {
  /** A Spark 4.x distribution: pyspark's bundled one (`…/site-packages/pyspark`) or an Apache binary release. */
  sparkHome?: string;
  /** A JDK 17 or 21. */
  javaHome?: string;
  /** Python for PySpark batch jobs (default `python3`). */
  python?: string;
  /** Master when no data source names one (default `local[2]`). */
  defaultMaster?: string;
  /** Driver heap when the job asks for none (default `1g`). */
  defaultDriverMemory?: string;
  /** Caps on start-up params (defaults: {@link DEFAULT_SPARK_QUOTA}). */
  quota?: Partial<SparkQuota>;
  /** Spark configuration of every engine, set by the deployment (any key). */
  conf?: Record<string, string>;
  /** Spark's web UI (default off: it would open a port on all interfaces). */
  ui?: boolean;
  /** log4j level of the drivers (default `WARN`). */
  logLevel?: string;
  /** Directories `runtimeParams.file` of batch jobs may name (default none: only code sent with the job). */
  batchFileRoots?: string[];
  /** How long a driver may take to start (default 180 s). */
  launchTimeoutMs?: number;
  /** How long close() waits after SIGTERM before SIGKILL (default 10 s). */
  closeGraceMs?: number;
  /** How long a cancelled operation or batch may take to stop (default 3 s). */
  cancelGraceMs?: number;
  /** How long health() waits for the server (default 10 s). */
  healthTimeoutMs?: number;
  /** Most rows in one `rows` event (default 2048). */
  batchRows?: number;
  /** Share level of engines whose job's start-up params name none (default `USER`). */
  shareLevel?: SparkShareLevel;
  /** Whom engines shared beyond one user (GROUP, SERVER) run as: SPARK_USER and their own session's user (default `sluice`). */
  serviceUser?: string;
  /**
   * Where the protocol guard's warnings go (a Spark of another minor version than the generated
   * protocol's); default: a Node.js process warning with code SLUICE_SPARK_PROTOCOL_VERSION.
   */
  warn?: (message: string) => void;
}

/** Whether a failed launch was a port clash (another process took the port in between). */
function portClash(err: unknown): boolean {
  return /BindException|Address already in use|Failed to bind/i.test(String((err as Error)?.message ?? err));
}

/**
 * Creates the `spark` connector. Each engine is a Spark driver running the Spark Connect server,
 * launched through spark-submit with the job's start-up params (within quota) on the master of the
 * job's `spark` data source (default local mode), bound to 127.0.0.1, guarded by a watchdog that
 * kills it if the manager dies. A data source with `connectUrl` instead opens a session on that
 * remote Connect server. SQL runs over Spark Connect (gRPC, stubs generated at build time; a server
 * of another major Spark version is refused, another minor version warned about once);
 * `pyspark`/`py`/`python` and `jar` tasks run through spark-submit. `shareFor` tells the pool who
 * shares an engine (share levels CONNECTION, USER, GROUP, SERVER; see share-level.ts).
 */
export function createSparkConnector(options: SparkConnectorOptions = {}): EngineConnector {
  const quota: SparkQuota = { ...DEFAULT_SPARK_QUOTA, ...options.quota };
  const watchdog = new DriverWatchdog();
  let install: Promise<SparkInstall> | undefined;
  const ui = options.ui ?? false;
  const logLevel = options.logLevel ?? 'WARN';
  const baseConf = options.conf ?? {};
  const defaultLevel = options.shareLevel ?? 'USER';
  const serviceUser = options.serviceUser ?? 'sluice';
  const warn = options.warn ?? processWarning;

  const settingsFor = (spec: EngineLaunchSpec, sparkVersion: string, runAs: string, shared: boolean) => ({
    workDir: path.resolve(spec.workDir),
    user: runAs,
    shared,
    ui,
    logLevel,
    batchRows: options.batchRows ?? 2048,
    cancelGraceMs: options.cancelGraceMs ?? 3000,
    closeGraceMs: options.closeGraceMs ?? 10_000,
    healthTimeoutMs: options.healthTimeoutMs ?? 10_000,
    sparkVersion,
  });

  return {
    name: 'spark',
    versions: [SPARK_VERSION],
    defaultVersion: SPARK_VERSION,
    codeTypes: SPARK_CODE_TYPES,
    dataSourceTypes: ['spark'],
    shareFor(job: EngineShareRequest) {
      return sparkShare(job, defaultLevel);
    },
    async launch(spec: EngineLaunchSpec) {
      if (spec.version !== SPARK_VERSION) throw new SluiceError('SLUICE_JOB_ENGINE_UNKNOWN', { engineType: `spark-${spec.version}` });
      // An engine shared beyond one user runs as the service identity; spec.user is then the group or server owner.
      const shared = isSharedLevel(shareLevelOf(spec.params, defaultLevel));
      const runAs = shared ? serviceUser : spec.user;
      const source = spec.dataSource ? parseSparkDataSource(spec.dataSource) : undefined;
      // Validated before anything starts: a bad request is the job's fault, not a launch failure.
      const settings = resolveDriverSettings(spec.params, {
        quota,
        defaultMaster: options.defaultMaster ?? 'local[2]',
        defaultDriverMemory: options.defaultDriverMemory ?? '1g',
        master: source?.master,
        dataSourceConf: source?.conf,
      });
      let resolved: SparkInstall;
      try {
        install ??= resolveInstall(options);
        install.catch(() => {
          install = undefined;
        });
        resolved = await install;
      } catch (err) {
        throw new SluiceError('SLUICE_ENGINE_LAUNCH_FAILED', { engine: 'spark', reason: (err as Error).message });
      }
      let protocol: ConnectProtocol;
      try {
        protocol = loadConnectProtocol();
      } catch (err) {
        throw new SluiceError('SLUICE_ENGINE_LAUNCH_FAILED', { engine: 'spark', reason: `cannot load the Spark Connect protocol: ${(err as Error).message}` });
      }

      if (source?.connectUrl) {
        const client = new ConnectClient(protocol, { target: source.connectUrl, userId: runAs, token: source.token, tls: source.tls });
        let serverVersion: string;
        try {
          // Also the probe that the server answers.
          serverVersion = await client.sparkVersion(options.healthTimeoutMs ?? 10_000);
        } catch (err) {
          client.close();
          throw new SluiceError('SLUICE_ENGINE_LAUNCH_FAILED', { engine: 'spark', reason: `Spark Connect at ${source.connectUrl}: ${(err as Error).message}` });
        }
        try {
          checkServerVersion(serverVersion, `the Spark Connect server at ${source.connectUrl}`, warn);
          // The session's configuration from the data source and the job; Spark refuses static keys.
          await client.setConf(settings.conf);
        } catch (err) {
          client.close();
          throw err;
        }
        return new SparkEngine(spec.engineId, client, undefined, undefined, settingsFor(spec, serverVersion, runAs, shared));
      }

      // The driver runs the distribution's own Connect server: its version is the jar's, known before any JVM starts.
      checkServerVersion(resolved.sparkVersion, `the Spark distribution at ${resolved.sparkHome}`, warn);
      const engineSettings = settingsFor(spec, resolved.sparkVersion, runAs, shared);

      await mkdir(engineSettings.workDir, { recursive: true });
      let driver: DriverProcess | undefined;
      let lastError: unknown;
      for (let attempt = 0; attempt < 2 && !driver; attempt++) {
        try {
          driver = await DriverProcess.start({
            engineId: spec.engineId,
            user: runAs,
            owner: spec.user,
            workDir: engineSettings.workDir,
            install: resolved,
            settings,
            baseConf,
            ui,
            logLevel,
            port: await freePort(),
            watchdog,
            launchTimeoutMs: options.launchTimeoutMs ?? 180_000,
          });
        } catch (err) {
          lastError = err;
          if (!portClash(err)) break;
        }
      }
      if (!driver) throw new SluiceError('SLUICE_ENGINE_LAUNCH_FAILED', { engine: 'spark', reason: (lastError as Error)?.message ?? String(lastError) });
      const client = new ConnectClient(protocol, { target: driver.endpoint, userId: runAs });
      return new SparkEngine(
        spec.engineId,
        client,
        driver,
        { install: resolved, settings, baseConf, watchdog, fileRoots: options.batchFileRoots ?? [] },
        engineSettings,
      );
    },
  };
}
