import { createDuckdbConnector } from '@sluice/engine-conn-duckdb';
import { EngineManager } from '@sluice/engine-manager';
import { EngineCatalog } from '@sluice/engines';
import { Admission, EntranceService, JobStore, Scheduler } from '@sluice/entrance';
import { buildGateway, TokenStore } from '@sluice/gateway';
import { createLogger, openInfra } from '@sluice/infra';
import { EXTRA_MIGRATIONS } from '@sluice/standalone';
import { ApiClient, type TestEnv } from '../../../../test/support/test-stack.ts';
import { createSparkConnector, type SparkConnectorOptions } from '../../src/index.ts';

/** A running Sluice (gateway, entrance scheduler, engine manager) whose catalog has the spark connector. */
export interface SparkStack {
  url: string;
  manager: EngineManager;
  api: (user: 'alice' | 'bob') => ApiClient;
  stop(): Promise<void>;
}

/**
 * Starts Sluice the way apps/standalone/src/stack.ts does, on the test environment's database and
 * queue, with an engine catalog of the spark and duckdb connectors built from connector options given
 * here rather than from SLUICE_SPARK_* settings (test/spark-share.test.ts runs the deployment's own
 * stack and catalog instead).
 */
export async function startSparkStack(env: TestEnv, spark: SparkConnectorOptions, overrides: Record<string, string> = {}): Promise<SparkStack> {
  const config = env.config(overrides);
  const log = createLogger({ name: 'sluice-spark-test', level: config.SLUICE_LOG_LEVEL });
  const infra = await openInfra(config, { migrations: EXTRA_MIGRATIONS, application: 'sluice-spark-test' });
  const stoppers: (() => Promise<void>)[] = [];
  try {
    const catalog = new EngineCatalog([createSparkConnector(spark), createDuckdbConnector()], 'duckdb');
    const store = new JobStore(infra.db, infra.bus, { maxRunningPerGroup: config.SLUICE_MAX_RUNNING_PER_GROUP });
    const admission = new Admission(store, infra.queue);
    const entrance = new EntranceService(config, store, infra.queue, infra.bus, infra.results, catalog, admission);
    const tokens = new TokenStore(infra.db);
    const manager = new EngineManager({ config, db: infra.db, store, bus: infra.bus, queue: infra.queue, results: infra.results, catalog, log });
    await manager.start();
    stoppers.push(() => manager.stop());
    const scheduler = new Scheduler(config, infra.db, store, infra.queue, infra.bus, admission, log);
    await scheduler.start();
    stoppers.push(() => scheduler.stop());
    const app = await buildGateway({
      config,
      entrance,
      tokens,
      bus: infra.bus,
      log,
      version: 'test',
      ready: async () => {
        await infra.db.query('SELECT 1');
      },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    stoppers.push(() => app.close());
    const address = app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const token = async (user: string) => (await tokens.create({ user, admin: false, name: `test-${user}` })).token;
    const clients = { alice: new ApiClient(url, await token('alice')), bob: new ApiClient(url, await token('bob')) };
    return {
      url,
      manager,
      api: (user) => clients[user],
      async stop() {
        for (const stop of stoppers.reverse()) await stop().catch(() => {});
        await infra.close();
      },
    };
  } catch (err) {
    for (const stop of stoppers.reverse()) await stop().catch(() => {});
    await infra.close();
    throw err;
  }
}
