import { Redis } from 'ioredis';

/** Deletes every Redis key under `${prefix}:` (SCAN, never KEYS). Returns how many were deleted. */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<number> {
  if (!/^[a-z0-9_]+$/.test(prefix)) throw new Error(`refusing to delete keys of prefix "${prefix}"`);
  const r = new Redis(redisUrl);
  let deleted = 0;
  try {
    let cursor = '0';
    for (let rounds = 0; rounds < 100_000; rounds++) {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) deleted += await r.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    await r.quit().catch(() => r.disconnect());
  }
  return deleted;
}
