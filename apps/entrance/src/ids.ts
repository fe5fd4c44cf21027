import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * Random bytes for ids, drawn from the system's CSPRNG 256 ids at a time (as Node's randomUUID
 * caches its entropy): one call into the system per 256 jobs instead of one per job. Each byte is
 * used once.
 */
const pool = Buffer.alloc(16 * 256);
let poolAt = pool.length;

/**
 * A job id: a ULID (48-bit millisecond time + 80 random bits, Crockford base32), so ids sort by
 * creation time, never collide across instances and are never plain integers (BullMQ forbids those).
 */
export function newJobId(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  if (poolAt + 16 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  let rand = '';
  // 256 is a multiple of 32, so each byte gives 5 uniform bits.
  for (let i = poolAt; i < poolAt + 16; i++) rand += ALPHABET[(pool[i] as number) % 32];
  poolAt += 16;
  return time + rand;
}
