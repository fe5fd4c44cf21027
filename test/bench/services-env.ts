import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Makes sure DATABASE_URL and REDIS_URL are set, starting PostgreSQL and Redis through
 * scripts/services.sh (as `npm test` does) when they are not. Refuses non-loopback servers: the
 * bench creates and drops databases and floods queues, which belongs on this machine only.
 */
export function ensureServices(): { databaseUrl: string; redisUrl: string; startedServices: boolean } {
  let started = false;
  if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const out = execFileSync('bash', ['scripts/services.sh', 'start'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    for (const line of out.split('\n')) {
      const m = /^export (\w+)=(.*)$/.exec(line.trim());
      if (m?.[1] && m[2] !== undefined && !process.env[m[1]]) process.env[m[1]] = m[2];
    }
    started = true;
  }
  const databaseUrl = process.env.DATABASE_URL ?? '';
  const redisUrl = process.env.REDIS_URL ?? '';
  for (const [name, url] of [
    ['DATABASE_URL', databaseUrl],
    ['REDIS_URL', redisUrl],
  ] as const) {
    const host = url ? new URL(url).hostname : '';
    if (!LOOPBACK.has(host)) throw new Error(`${name} must point at this machine (127.0.0.1) for the bench, got host "${host}"`);
  }
  return { databaseUrl, redisUrl, startedServices: started };
}
