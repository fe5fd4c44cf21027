import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '@sluice/core';
import { TokenStore } from '@sluice/gateway';
import { createPool, type EmbeddedPg, migrate, startEmbeddedPostgres } from '@sluice/infra';

const USAGE = `usage: npm run admin -- <command>
  token create --user <name> [--name <label>] [--admin] [--days <n>]   create a token (printed once)
  token list                                                          list tokens (never their values)
  token revoke --id <id>                                              revoke a token`;

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
    await migrate(db);
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

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`sluice admin: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
