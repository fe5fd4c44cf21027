import { readFileSync, readFileSync as readPem } from 'node:fs';
import v8 from 'node:v8';
import { type Config, SluiceError } from '@sluice/core';
import { DATASOURCE_MIGRATION, DataSourceService, DataSourceStore, dataSourceRoutes, loadKeyring } from '@sluice/datasource-service';
import { EngineManager, InteractiveRunner } from '@sluice/engine-manager';
import { connectorParamsFor, EngineCatalog } from '@sluice/engines';
import { Admission, EntranceService, JobStore, LineageRecorder, Scheduler } from '@sluice/entrance';
import { buildGateway, linkisPlugin, PGWIRE_SCRAM_MIGRATION, PgScramVerifierStore, startPgwireServer, TokenStore } from '@sluice/gateway';
import { createLogger, type Infra, type Migration, openInfra, type PinoLogger } from '@sluice/infra';
import {
  createTransport,
  LINEAGE_MIGRATIONS,
  LineageDispatcher,
  LineageExtractor,
  type LineageTransport,
  lineageRoutes,
  transportConfigFromEnv,
} from '@sluice/metadata-hook';
import type { FastifyInstance } from 'fastify';

/** The parts of Sluice one process can run. */
export type Role = 'gateway' | 'entrance' | 'engine-manager';
export const ALL_ROLES: readonly Role[] = ['gateway', 'entrance', 'engine-manager'];

/** Every schema change beyond the core tables, in the order they apply. */
export const EXTRA_MIGRATIONS: readonly Migration[] = [DATASOURCE_MIGRATION, ...LINEAGE_MIGRATIONS, PGWIRE_SCRAM_MIGRATION];

/** The lineage transport the configuration picks; invalid settings stop start-up naming the setting. */
function lineageTransport(config: Config): LineageTransport | undefined {
  const env: Record<string, string | undefined> = {
    SLUICE_LINEAGE_TRANSPORT: config.SLUICE_LINEAGE_TRANSPORT,
    SLUICE_LINEAGE_URL: config.SLUICE_LINEAGE_URL,
    SLUICE_LINEAGE_ENDPOINT: config.SLUICE_LINEAGE_ENDPOINT,
    SLUICE_LINEAGE_API_KEY: config.SLUICE_LINEAGE_API_KEY,
    SLUICE_LINEAGE_TIMEOUT_MS: String(config.SLUICE_LINEAGE_TIMEOUT_MS),
    SLUICE_LINEAGE_FILE: config.SLUICE_LINEAGE_FILE,
    SLUICE_ATLAS_USERNAME: config.SLUICE_ATLAS_USERNAME,
    SLUICE_ATLAS_PASSWORD: config.SLUICE_ATLAS_PASSWORD,
  };
  try {
    const c = transportConfigFromEnv(env as NodeJS.ProcessEnv);
    return c ? createTransport(c) : undefined;
  } catch (err) {
    throw new SluiceError('SLUICE_CONFIG_INVALID', { setting: 'SLUICE_LINEAGE_TRANSPORT', reason: (err as Error).message });
  }
}

/** A running Sluice process. */
export interface Stack {
  config: Config;
  infra: Infra;
  log: PinoLogger;
  store: JobStore;
  entrance: EntranceService;
  tokens: TokenStore;
  catalog: EngineCatalog;
  dataSources: DataSourceService;
  scheduler?: Scheduler;
  manager?: EngineManager;
  /** The pgwire fast path (statements at once on this process's engine manager), when enabled. */
  interactive?: InteractiveRunner;
  app?: FastifyInstance;
  /** Base URL of the HTTP server, when this process runs the gateway. */
  url?: string;
  /** Address of the PostgreSQL wire protocol listener, when this process runs the gateway. */
  pgAddress?: { host: string; port: number };
  stop(): Promise<void>;
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/**
 * Starts the given roles of Sluice in this process on the configured infrastructure: all three for
 * the embedded default, one per process in production.
 */
export async function startStack(config: Config, opts: { roles: readonly Role[]; log?: PinoLogger }): Promise<Stack> {
  const log = opts.log ?? createLogger({ name: 'sluice', level: config.SLUICE_LOG_LEVEL });
  // Result streams make a lot of short-lived garbage; with V8's default growth the heap swells to
  // several times the live data before a full collection (issue 4: RSS under 300 MB while a large
  // result streams). Set for the whole process, before the stack allocates.
  if (config.SLUICE_HEAP_GROWING_PERCENT > 0) v8.setFlagsFromString(`--heap-growing-percent=${config.SLUICE_HEAP_GROWING_PERCENT}`);
  // Checked before anything starts: production without a master key must not come up.
  const keyring = loadKeyring({ masterKeys: config.SLUICE_MASTER_KEYS, embedded: config.embedded, home: config.home });
  const transport = opts.roles.includes('entrance') ? lineageTransport(config) : undefined;
  const infra = await openInfra(config, {
    migrations: EXTRA_MIGRATIONS,
    application: `sluice-${opts.roles.join('+')}`,
    onError: (err) => log.warn({ err: err.message }, 'infrastructure error'),
    log: (line) => log.debug({ pg: line }, 'embedded postgres'),
  });
  const stoppers: (() => Promise<void>)[] = [];
  try {
    const catalog = await EngineCatalog.fromConfig(config);
    const store = new JobStore(infra.db, infra.bus, { maxRunningPerGroup: config.SLUICE_MAX_RUNNING_PER_GROUP });
    const admission = new Admission(store, infra.queue, (err, job) =>
      log.warn({ err: String(err), jobId: job?.jobId }, 'enqueue failed; the reconciler will retry'),
    );
    const dataSources = new DataSourceService(new DataSourceStore(infra.db), keyring, (engine) => catalog.byName(engine), {
      testTimeoutMs: config.SLUICE_DATASOURCE_TEST_TIMEOUT_MS,
      connectorParams: connectorParamsFor,
    });
    // SQL is parsed for lineage in worker threads, off this event loop (ADR 6); closed last, after its users.
    const extractor = new LineageExtractor({
      workers: config.SLUICE_LINEAGE_WORKERS,
      timeoutMs: config.SLUICE_LINEAGE_EXTRACT_TIMEOUT_MS,
      idleMs: config.SLUICE_LINEAGE_WORKER_IDLE_MS,
      onEvent: (e) => (e.type === 'warmed' || e.type === 'idle-stopped' ? log.debug(e, 'lineage worker') : log.warn(e, 'lineage extraction')),
    });
    stoppers.push(() => extractor.close());
    const lineage = new LineageRecorder({ namespace: config.SLUICE_LINEAGE_NAMESPACE, parser: config.SLUICE_LINEAGE_PARSER, extractor });
    if (opts.roles.includes('engine-manager')) lineage.warmUp(config.SLUICE_ENGINES);
    const entrance = new EntranceService(config, store, infra.queue, infra.bus, infra.results, catalog, admission, dataSources);
    // Every new token gets a SCRAM verifier, so PostgreSQL clients can log in with it without TLS.
    const scram = new PgScramVerifierStore(infra.db);
    const tokens = new TokenStore(infra.db, async (token) => {
      await scram.enroll(token);
    });
    const stack: Stack = { config, infra, log, store, entrance, tokens, catalog, dataSources, stop: async () => {} };

    if (opts.roles.includes('engine-manager')) {
      const manager = new EngineManager({
        config,
        db: infra.db,
        store,
        bus: infra.bus,
        queue: infra.queue,
        results: infra.results,
        catalog,
        log,
        dataSources,
        lineage,
      });
      await manager.start();
      stack.manager = manager;
      // Jobs submitted here and admitted at once are claimed for this manager in the submit (ADR 10).
      if (config.SLUICE_RUN_AT_SUBMIT) entrance.runHere(manager.runner);
      stoppers.push(() => manager.stop());
    }
    if (opts.roles.includes('entrance')) {
      const scheduler = new Scheduler(config, infra.db, store, infra.queue, infra.bus, admission, log, lineage);
      await scheduler.start();
      stack.scheduler = scheduler;
      stoppers.push(() => scheduler.stop());
      if (transport) {
        const dispatcher = new LineageDispatcher({ pool: infra.db, transport, logger: log, retentionMs: config.SLUICE_LINEAGE_RETENTION_HOURS * 3_600_000 });
        dispatcher.start();
        stoppers.push(() => dispatcher.stop());
      }
    }
    if (opts.roles.includes('gateway')) {
      const app = await buildGateway({
        config,
        entrance,
        tokens,
        bus: infra.bus,
        log,
        routes: [...dataSourceRoutes(dataSources), ...lineageRoutes(infra.db)],
        // The Linkis-compatible front door: /api/rest_j/v1 and /ws/api/entrance/connect.
        plugins: [
          linkisPlugin({
            config,
            entrance,
            tokens,
            bus: infra.bus,
            log,
            dataSources,
            store,
            env: { SLUICE_LINKIS_ENGINE_MAP: config.SLUICE_LINKIS_ENGINE_MAP },
          }),
        ],
        version: version(),
        ready: async () => {
          await infra.db.query('SELECT 1');
          await infra.queue.counts();
        },
      });
      await app.listen({ host: config.SLUICE_HOST, port: config.SLUICE_PORT });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.SLUICE_PORT;
      stack.app = app;
      stack.url = `http://${config.SLUICE_HOST}:${port}`;
      stoppers.push(() => app.close());
      const tls =
        config.SLUICE_PG_TLS_CERT_FILE && config.SLUICE_PG_TLS_KEY_FILE
          ? { cert: readPem(config.SLUICE_PG_TLS_CERT_FILE), key: readPem(config.SLUICE_PG_TLS_KEY_FILE) }
          : undefined;
      const interactive =
        config.SLUICE_PG_INTERACTIVE && stack.manager
          ? new InteractiveRunner({
              config,
              managerId: stack.manager.id,
              store,
              entrance,
              catalog,
              engines: stack.manager.engines,
              log,
              access: dataSources,
              dataSources,
              lineage,
              bus: infra.bus,
            })
          : undefined;
      stack.interactive = interactive;
      // After the listener has closed (stoppers run in reverse): the records of its last statements are written.
      if (interactive) stoppers.push(() => interactive.close());
      const pgwire = await startPgwireServer({
        host: config.SLUICE_HOST,
        port: config.SLUICE_PG_PORT,
        entrance,
        interactive,
        relay: config.SLUICE_PG_RELAY,
        tokens,
        dataSources,
        bus: infra.bus,
        log,
        scram,
        tls,
        engines: config.SLUICE_ENGINES,
        defaultEngine: config.SLUICE_DEFAULT_ENGINE,
        version: version(),
      });
      stack.pgAddress = pgwire.address;
      stoppers.push(() => pgwire.close());
    }
    stack.stop = async () => {
      for (const s of stoppers.reverse()) await s().catch((err) => log.warn({ err: String(err) }, 'stop failed'));
      // The last states' bus events are on their way; let them leave before the bus closes.
      await store.settled();
      await infra.close();
    };
    return stack;
  } catch (err) {
    for (const s of stoppers.reverse()) await s().catch(() => {});
    await infra.close();
    throw err;
  }
}
