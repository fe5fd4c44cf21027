import type { EventBus } from '@sluice/core';
import { createPostgresEventBus } from './postgres-event-bus.ts';
import type { PublishHoldOptions } from './publish-hold.ts';
import { createRedisEventBus } from './redis-event-bus.ts';

/** Options of {@link createEventBus}. */
export interface EventBusOptions {
  backend: 'redis' | 'postgres';
  /** Required for the Redis backend. */
  redisUrl?: string;
  /** Required for the PostgreSQL backend. */
  databaseUrl?: string;
  /** Namespace of channels: Redis channels `${prefix}:${topic}`, PostgreSQL channel `sluice_bus_<prefix>`. */
  prefix: string;
  /** Called with handler and connection errors; default: console.error. */
  onError?: (err: Error) => void;
  /** Topics whose messages may wait up to `holdMs` to leave together; default none. */
  hold?: PublishHoldOptions;
}

/** Creates the event bus of the configured backend; resolves once its connections are up. */
export async function createEventBus(opts: EventBusOptions): Promise<EventBus> {
  if (opts.backend === 'redis') {
    if (!opts.redisUrl) throw new Error('the redis event bus needs redisUrl');
    return createRedisEventBus({ redisUrl: opts.redisUrl, prefix: opts.prefix, onError: opts.onError, hold: opts.hold });
  }
  if (opts.backend === 'postgres') {
    if (!opts.databaseUrl) throw new Error('the postgres event bus needs databaseUrl');
    return createPostgresEventBus({ databaseUrl: opts.databaseUrl, prefix: opts.prefix, onError: opts.onError, hold: opts.hold });
  }
  throw new Error(`unknown event bus backend ${String(opts.backend)}`);
}
