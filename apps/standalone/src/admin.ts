import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '@sluice/core';
import { DataSourceService, DataSourceStore, formatKeyRotation, formatKeyStatus, generateKeyEntry, loadKeyring } from '@sluice/datasource-service';
import { TokenStore } from '@sluice/gateway';
import { createPool, type EmbeddedPg, MIGRATIONS, migrate, startEmbeddedPostgres } from '@sluice/infra';
import { EXTRA_MIGRATIONS } from './stack.ts';

const USAGE = `usage: npm run admin -- <command>
  token create --user <name> [--name <label>] [--admin] [--days <n>]   create a token (printed once)
  token list                                                          list tokens (never their values)
  token revoke --id <id>                                              revoke a token
  keys generate [--id <id>]                                           print a new master-key entry for SLUICE_MASTER_KEYS
  keys status                                                         how many records each master key id wraps
  keys rotate                                                         re-wrap every data-source data key under the first
                                                                      (active) key of SLUICE_MASTER_KEYS; keep the old key
                                                                      listed until this finishes
  (with Sluice running, \`sluice keys status|rotate\` does the same through the API with an admin token)`;

/** Connects to the configured database; for the embedded default, to the running server or a temporary one. */
async function openDb(): Promise<{ url: string; embedded?: EmbeddedPg }> {
  const config = loadConfig();
  if (config.DATABASE_URL) return { url: config.DATABASE_URL };
  const dataDir = path.join(config.home, 'pg', 'data');
  const secretFile = `${dataDir}.password`;
  if (existsSync(secretFile)) {
    const url = `postgres://sluice:${readFileSync(secretFile, 'utf8').trim()}@127.0.0.1:${config.SLUICE_EMBEDDED_PG_PORT}/sluice`;
    const probe = createPool(url, { max: 1 });
    try {
      await probe.query('SELECT 1');
      return { url };
    } catch {
      // not running: start it for the duration of this command
    } finally {
      await probe.end();
    }
  }
  const embedded = await startEmbeddedPostgres({ dataDir, port: config.SLUICE_EMBEDDED_PG_PORT });
  return { url: embedded.url, embedded };
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { user: { type: 'string' }, name: { type: 'string' }, admin: { type: 'boolean' }, days: { type: 'string' }, id: { type: 'string' } },
  });
  const [area, command] = positionals;
  if (area === 'keys' && command === 'generate') {
    process.stdout.write(`${generateKeyEntry(values.id ?? `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`)}\n`);
    return 0;
  }
  if (area === 'keys' && (command === 'rotate' || command === 'status')) return keys(command);
  if (area !== 'token' || !command || !['create', 'list', 'revoke'].includes(command)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (command === 'create' && !values.user) {
    process.stderr.write(`token create needs --user\n${USAGE}\n`);
    return 2;
  }
  const { url, embedded } = await openDb();
  const db = createPool(url, { max: 2, application: 'sluice-admin' });
  try {
    await migrate(db, [...MIGRATIONS, ...EXTRA_MIGRATIONS]);
    const tokens = new TokenStore(db);
    if (command === 'create') {
      const days = values.days === undefined ? undefined : Number(values.days);
      if (days !== undefined && (!Number.isInteger(days) || days <= 0)) {
        process.stderr.write('--days must be a positive integer\n');
        return 2;
      }
      const { token, info } = await tokens.create({ user: values.user as string, name: values.name, admin: values.admin, expiresInDays: days });
      process.stderr.write(`created token ${info.id} for ${info.user}${info.admin ? ' (admin)' : ''}; it is shown once:\n`);
      process.stdout.write(`${token}\n`);
    } else if (command === 'list') {
      for (const t of await tokens.list()) process.stdout.write(`${JSON.stringify(t)}\n`);
    } else {
      if (!values.id) {
        process.stderr.write('token revoke needs --id\n');
        return 2;
      }
      const n = await tokens.revoke({ id: values.id });
      process.stdout.write(`revoked ${n}\n`);
      if (n === 0) return 1;
    }
    return 0;
  } finally {
    await db.end();
    await embedded?.stop();
  }
}

/** `keys status`, or `keys rotate`: re-wraps every stored data key under the active master key, while Sluice keeps running. */
async function keys(command: 'rotate' | 'status'): Promise<number> {
  const config = loadConfig();
  const ring = loadKeyring({ masterKeys: config.SLUICE_MASTER_KEYS, embedded: config.embedded, home: config.home });
  const { url, embedded } = await openDb();
  const db = createPool(url, { max: 2, application: 'sluice-admin' });
  try {
    await migrate(db, [...MIGRATIONS, ...EXTRA_MIGRATIONS]);
    const svc = new DataSourceService(new DataSourceStore(db), ring, () => undefined);
    if (command === 'status') {
      process.stdout.write(`${formatKeyStatus(await svc.keyStatus())}\n`);
      return 0;
    }
    const r = await svc.rotateKeys();
    process.stdout.write(`${formatKeyRotation(r)}\n`);
    return r.after.every((k) => k.active || k.records === 0) ? 0 : 1;
  } finally {
    await db.end();
    await embedded?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`sluice admin: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
