import type { EventBus } from '@sluice/core';
import pg from 'pg';
import { notifyChannel } from './notify-channel.ts';
import { NO_HOLD, PublishHold, type PublishHoldOptions } from './publish-hold.ts';
import { assertTopic, serializeMessage } from './serialize-message.ts';
import { TopicHandlers } from './topic-handlers.ts';

/** Largest message the PostgreSQL bus accepts: NOTIFY payloads must stay under 8000 bytes, with room for the envelope. */
export const POSTGRES_BUS_MAX_MESSAGE_BYTES = 7900;
/** NOTIFY's own payload limit (bytes, exclusive). */
const NOTIFY_PAYLOAD_LIMIT = 8000;

/** Options of {@link createPostgresEventBus}. */
export interface PostgresEventBusOptions {
  databaseUrl: string;
  prefix: string;
  onError?: (err: Error) => void;
  /** First reconnect delay after the listening connection drops; doubles up to `maxReconnectDelayMs`. Default 100. */
  reconnectDelayMs?: number;
  /** Default 5000. */
  maxReconnectDelayMs?: number;
  /** Topics whose messages may wait a little to leave with others (see {@link PublishHold}); default none. */
  hold?: PublishHoldOptions;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * Sends NOTIFY payloads in publish order: a payload published while a send is out waits for the
 * next one, which carries everything queued meanwhile in one statement. NOTIFYs of one transaction
 * are delivered in the order they were issued, and `unnest` yields the array in order, so one
 * publisher's messages arrive in the order it published them (what the Redis bus gives by using one
 * connection), at one round trip per batch instead of one per message.
 */
class NotifyBatcher {
  private queue: { payload: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  private sending = false;

  constructor(private readonly sendBatch: (payloads: string[]) => Promise<void>) {}

  send(payload: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ payload, resolve, reject });
      if (!this.sending) {
        // Start on the next microtask, so that everything sent in this turn joins the first statement.
        this.sending = true;
        queueMicrotask(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.sendBatch(batch.map((x) => x.payload));
          for (const x of batch) x.resolve();
        } catch (e) {
          for (const x of batch) x.reject(e as Error);
        }
      }
    } finally {
      this.sending = false;
    }
  }
}

/**
 * An {@link EventBus} on PostgreSQL LISTEN/NOTIFY. Every topic of a prefix shares ONE channel
 * ({@link notifyChannel}); payloads are `{"t": topic, "m": message}` and dispatched by topic in this
 * process. A dedicated client LISTENs (its `application_name` is the channel name); when its
 * connection drops it reconnects with exponential backoff and LISTENs again. Messages published while
 * it is away are lost, as the port allows (subscribers catch up from the store).
 */
export async function createPostgresEventBus(opts: PostgresEventBusOptions): Promise<EventBus> {
  const onError = opts.onError ?? ((err: Error) => console.error('[sluice bus]', err));
  const report = (err: Error) => {
    try {
      onError(err);
    } catch {
      // Never let the error callback break the bus.
    }
  };
  const channel = notifyChannel(opts.prefix);
  const baseDelay = opts.reconnectDelayMs ?? 100;
  const maxDelay = opts.maxReconnectDelayMs ?? 5000;
  const handlers = new TopicHandlers(report);
  const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 4, idleTimeoutMillis: 10_000 });
  pool.on('error', report);

  let closed = false;
  let listener: pg.Client | undefined;
  /** Resolved while a listener is LISTENing; replaced by a pending one while reconnecting. */
  let live = deferred();
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;

  const onNotification = (n: pg.Notification) => {
    if (n.channel !== channel || n.payload === undefined) return;
    let envelope: { t?: unknown; m?: unknown };
    try {
      envelope = JSON.parse(n.payload) as { t?: unknown; m?: unknown };
    } catch (e) {
      report(new Error(`bus payload on ${channel} is not JSON: ${(e as Error).message}`));
      return;
    }
    if (typeof envelope?.t !== 'string') return;
    handlers.dispatch(envelope.t, envelope.m);
  };

  /** Connects one listening client; resolves once it LISTENs, rejects if it could not. */
  const listen = (): Promise<void> => {
    const client = new pg.Client({ connectionString: opts.databaseUrl, application_name: channel, keepAlive: true });
    let dropped = false;
    const drop = (err: Error) => {
      if (dropped) return;
      dropped = true;
      client.removeListener('notification', onNotification);
      client.end().catch(() => {});
      const wasLive = listener === client;
      if (wasLive) listener = undefined;
      if (closed || !wasLive) return;
      report(new Error(`bus listener on ${channel} lost its connection, reconnecting: ${err.message}`));
      live = deferred();
      scheduleReconnect();
    };
    client.on('error', drop);
    client.on('end', () => drop(new Error('connection ended')));
    client.on('notification', onNotification);
    return (async () => {
      try {
        await client.connect();
        await client.query(`LISTEN "${channel}"`);
      } catch (e) {
        dropped = true;
        client.removeListener('notification', onNotification);
        await client.end().catch(() => {});
        throw e;
      }
      if (closed || dropped) {
        await client.end().catch(() => {});
        throw new Error(closed ? 'the event bus is closed' : 'connection dropped while starting to listen');
      }
      listener = client;
      failures = 0;
      live.resolve();
    })();
  };

  const scheduleReconnect = () => {
    if (closed) return;
    const delay = Math.min(maxDelay, baseDelay * 2 ** failures);
    failures++;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      listen().catch((e: Error) => {
        if (closed) return;
        report(new Error(`bus listener on ${channel} could not reconnect: ${e.message}`));
        scheduleReconnect();
      });
    }, delay);
  };

  try {
    await listen();
  } catch (e) {
    await pool.end().catch(() => {});
    throw e;
  }

  const assertOpen = () => {
    if (closed) throw new Error('the event bus is closed');
  };
  let sent = 0;
  const outbox = new NotifyBatcher((payloads) => pool.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) AS x(p)', [channel, payloads]).then(() => {}));
  // Held payloads sent in one turn join one NOTIFY statement.
  const hold = new PublishHold(opts.hold ?? NO_HOLD, (_topic, payload) => outbox.send(payload), report);

  return {
    maxMessageBytes: POSTGRES_BUS_MAX_MESSAGE_BYTES,

    async publish(topic, message) {
      assertOpen();
      assertTopic(topic);
      const json = serializeMessage(message, POSTGRES_BUS_MAX_MESSAGE_BYTES, 'PostgreSQL NOTIFY');
      // `n` makes every payload unique: PostgreSQL delivers identical payloads of one transaction once.
      const payload = `{"t":${JSON.stringify(topic)},"n":${++sent},"m":${json}}`;
      const bytes = Buffer.byteLength(payload);
      if (bytes >= NOTIFY_PAYLOAD_LIMIT) {
        throw new Error(
          `bus payload is ${bytes} bytes with its topic, NOTIFY carries less than ${NOTIFY_PAYLOAD_LIMIT}; use a shorter topic or a smaller message`,
        );
      }
      await hold.publish(topic, payload);
    },

    async subscribe(topic, handler) {
      assertOpen();
      assertTopic(topic);
      const token = handlers.add(topic, handler);
      // One LISTEN serves every topic: the subscription is live as soon as the listener is.
      await live.promise;
      if (closed) throw new Error('the event bus is closed');
      let done = false;
      return async () => {
        if (done) return;
        done = true;
        handlers.remove(topic, token);
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      await hold.drain();
      if (retryTimer) clearTimeout(retryTimer);
      handlers.clear();
      const client = listener;
      listener = undefined;
      // Wake subscribers parked on a reconnect; they find the bus closed.
      live.resolve();
      await Promise.allSettled([client?.end(), pool.end()]);
    },
  };
}
