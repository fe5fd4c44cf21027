import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@sluice/core';
import { ALL_ROLES, type Stack, startStack } from '@sluice/standalone';
import { freshDatabase, uniqueSuffix } from '@sluice/testkit';
import { onCleanup } from './cleanup.ts';
import { deleteKeys } from './redis-keys.ts';

/** Queue and bus backend of a deployment under test. */
export type Backend = 'redis' | 'postgres';

/** How many tasks ran on a statement prepared ahead, on a run ahead, and answered without a round trip. */
export interface AheadCounts {
  prepared: number;
  ran: number;
  answered: number;
}

/** A Sluice deployment started for the bench: all roles in this process, on a fresh database. */
export interface BenchDeployment {
  backend: Backend;
  stack: Stack;
  url: string;
  /** One bearer token per bench user, in user order. */
  tokens: string[];
  users: string[];
  /** The environment the configuration was loaded from (DATABASE_URL included; no secrets beyond the local test server's). */
  env: Record<string, string>;
  /** DuckDB engines this manager holds now. */
  engineCount(): number;
  /** Tasks so far, over the engines held now, that ran on work done ahead of them (ADR 13 and 16). */
  aheadCounts(): Promise<AheadCounts>;
  /** Stops the stack, drops the database, deletes the queue's Redis keys and the home directory. */
  stop(): Promise<void>;
}

/**
 * Starts gateway, entrance and engine manager in-process, the way `startStack` does for the embedded
 * default, but on a fresh database of the test server and a unique queue prefix. The PostgreSQL row
 * leaves REDIS_URL unset, like the embedded default. `settings` are the SLUICE_* overrides.
 */
export async function startDeployment(opts: { backend: Backend; redisUrl: string; users: number; settings: Record<string, string> }): Promise<BenchDeployment> {
  const db = await freshDatabase('bench');
  const home = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));
  const prefix = `bench${uniqueSuffix()}`;
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    ...(opts.backend === 'redis' ? { REDIS_URL: opts.redisUrl } : {}),
    SLUICE_QUEUE_BACKEND: opts.backend,
    SLUICE_BUS_BACKEND: opts.backend,
    SLUICE_QUEUE_PREFIX: prefix,
    SLUICE_HOME: home,
    SLUICE_HOST: '127.0.0.1',
    SLUICE_PORT: '0',
    SLUICE_PG_PORT: '0',
    SLUICE_LOG_LEVEL: 'silent',
    // Production mode (DATABASE_URL set) needs a data-source master key: a throw-away one per run.
    SLUICE_MASTER_KEYS: `bench1:${randomBytes(32).toString('base64')}`,
    ...opts.settings,
  };
  const cleanup = async () => {
    await db.drop().catch(() => {});
    await deleteKeys(opts.redisUrl, prefix).catch(() => 0);
    rmSync(home, { recursive: true, force: true });
  };
  let stack: Stack | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await stack?.stop().catch(() => {});
      await cleanup();
    })();
    return stopped;
  };
  const unregister = onCleanup(stop);
  try {
    stack = await startStack(loadConfig(env), { roles: ALL_ROLES });
  } catch (e) {
    await stop();
    unregister();
    throw e;
  }
  const started = stack;
  const users = Array.from({ length: opts.users }, (_, i) => `bench${i + 1}`);
  const tokens: string[] = [];
  for (const user of users) tokens.push((await started.tokens.create({ user, name: 'bench' })).token);
  return {
    backend: opts.backend,
    stack: started,
    url: started.url ?? '',
    tokens,
    users,
    env,
    engineCount: () => started.manager?.engines.list().length ?? 0,
    async aheadCounts() {
      const total: AheadCounts = { prepared: 0, ran: 0, answered: 0 };
      for (const pooled of started.manager?.engines.list() ?? []) {
        const detail = (await pooled.engine.health()).detail ?? '';
        total.prepared += Number(/(\d+) tasks? prepared ahead/.exec(detail)?.[1] ?? 0);
        total.ran += Number(/(\d+) tasks? run ahead/.exec(detail)?.[1] ?? 0);
        total.answered += Number(/(\d+) answered without a round trip/.exec(detail)?.[1] ?? 0);
      }
      return total;
    },
    async stop() {
      await stop();
      unregister();
    },
  };
}
