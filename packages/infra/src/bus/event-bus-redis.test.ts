import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { requireEnv, uniqueSuffix, waitFor } from '@sluice/testkit';
import { Redis } from 'ioredis';
import { busFixture, eventBusContract } from './event-bus-contract.ts';

const fx = busFixture('redis');
eventBusContract('redis', fx);

describe('event bus on redis', () => {
  test('topics map to channels prefix:topic on one subscriber connection, released when their last handler goes', async () => {
    const prefix = `t_${uniqueSuffix()}`;
    const admin = new Redis(requireEnv('REDIS_URL'));
    try {
      const bus = await fx.open(prefix);
      const offs = [];
      for (const t of ['a', 'b', 'c']) offs.push(await bus.subscribe(t, () => {}));
      offs.push(await bus.subscribe('a', () => {}));
      const channels = async () => ((await admin.pubsub('CHANNELS', `${prefix}:*`)) as string[]).sort();
      assert.deepEqual(await channels(), [`${prefix}:a`, `${prefix}:b`, `${prefix}:c`]);
      const numsub = (await admin.pubsub('NUMSUB', `${prefix}:a`)) as [string, number];
      assert.equal(Number(numsub[1]), 1, 'two handlers of topic a share one Redis subscription');
      const names = ((await admin.client('LIST')) as string)
        .split('\n')
        .map((line) => /\bname=(\S*)/.exec(line)?.[1])
        .filter((n) => n?.startsWith(`${prefix}:`))
        .sort();
      assert.deepEqual(names, [`${prefix}:bus:pub`, `${prefix}:bus:sub`], 'a bus holds one publisher and one subscriber connection');
      await offs[0]?.(); // a still has a handler
      assert.deepEqual(await channels(), [`${prefix}:a`, `${prefix}:b`, `${prefix}:c`]);
      await offs[3]?.();
      await offs[1]?.();
      await waitFor(async () => (await channels()).length === 1, { what: 'channels a and b to be unsubscribed' });
      assert.deepEqual(await channels(), [`${prefix}:c`]);
    } finally {
      await admin.quit();
    }
  });

  test('a message of more than maxMessageBytes is rejected', async () => {
    const bus = await fx.open();
    await assert.rejects(bus.publish('big', 'x'.repeat(bus.maxMessageBytes + 1)), /more than the \d+ bytes/);
  });
});
