import type { EventBus } from '@sluice/core';
import { Redis } from 'ioredis';
import { NO_HOLD, PublishHold, type PublishHoldOptions } from './publish-hold.ts';
import { assertTopic, serializeMessage } from './serialize-message.ts';
import { TopicHandlers } from './topic-handlers.ts';

/** Largest message the Redis bus accepts (Redis itself takes far more; events should stay small). */
export const REDIS_BUS_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * An {@link EventBus} on Redis pub/sub: one publishing and one subscribing connection per bus, every
 * topic multiplexed on the subscriber as channel `${prefix}:${topic}`, messages as JSON. ioredis
 * re-subscribes by itself after a reconnect.
 */
export async function createRedisEventBus(opts: {
  redisUrl: string;
  prefix: string;
  onError?: (err: Error) => void;
  hold?: PublishHoldOptions;
}): Promise<EventBus> {
  if (!opts.prefix) throw new Error('bus prefix must not be empty');
  const onError = opts.onError ?? ((err: Error) => console.error('[sluice bus]', err));
  const channelPrefix = `${opts.prefix}:`;
  // Named so `CLIENT LIST` shows which bus holds which connection.
  // Auto-pipelining: publishes issued in the same tick (a job's last log, result and status) go out in one write.
  const pub = new Redis(opts.redisUrl, { connectionName: `${opts.prefix}:bus:pub`, enableAutoPipelining: true });
  const sub = new Redis(opts.redisUrl, { connectionName: `${opts.prefix}:bus:sub` });
  for (const c of [pub, sub]) c.on('error', (err: Error) => onError(err));
  const handlers = new TopicHandlers(onError);
  /** SUBSCRIBE in flight or done, per topic; dropped when the topic's last handler goes. */
  const subscribed = new Map<string, Promise<unknown>>();
  let closed = false;

  const quitAll = async () => {
    await Promise.allSettled([pub, sub].map((c) => c.quit().catch(() => c.disconnect())));
  };
  try {
    await Promise.all([pub.ping(), sub.ping()]);
  } catch (e) {
    await quitAll();
    throw e;
  }

  sub.on('message', (channel: string, raw: string) => {
    if (!channel.startsWith(channelPrefix)) return;
    const topic = channel.slice(channelPrefix.length);
    if (!handlers.has(topic)) return;
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch (e) {
      onError(new Error(`bus message on ${channel} is not JSON: ${(e as Error).message}`));
      return;
    }
    handlers.dispatch(topic, message);
  });

  const assertOpen = () => {
    if (closed) throw new Error('the event bus is closed');
  };
  // Sends issued in one turn of the event loop leave in one write (auto-pipelining above).
  const hold = new PublishHold(opts.hold ?? NO_HOLD, (topic, json) => pub.publish(channelPrefix + topic, json).then(() => {}), onError);

  return {
    maxMessageBytes: REDIS_BUS_MAX_MESSAGE_BYTES,

    async publish(topic, message) {
      assertOpen();
      assertTopic(topic);
      const json = serializeMessage(message, REDIS_BUS_MAX_MESSAGE_BYTES, 'the Redis bus');
      await hold.publish(topic, json);
    },

    async subscribe(topic, handler) {
      assertOpen();
      assertTopic(topic);
      const token = handlers.add(topic, handler);
      let ready = subscribed.get(topic);
      if (!ready) {
        ready = sub.subscribe(channelPrefix + topic);
        subscribed.set(topic, ready);
      }
      const release = async () => {
        if (handlers.remove(topic, token) && subscribed.get(topic) === ready) {
          subscribed.delete(topic);
          // Commands on one connection run in order, so a later SUBSCRIBE of the same topic wins.
          if (!closed) await sub.unsubscribe(channelPrefix + topic);
        }
      };
      try {
        // The reply to SUBSCRIBE means Redis has registered the channel: later publishes arrive.
        await ready;
      } catch (e) {
        await release().catch(() => {});
        throw e;
      }
      let done = false;
      return async () => {
        if (done) return;
        done = true;
        await release();
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      await hold.drain();
      handlers.clear();
      subscribed.clear();
      await quitAll();
    },
  };
}
