import { loadConfig, SluiceError } from '@sluice/core';
import { ALL_ROLES, type Role, startStack } from './stack.ts';

/**
 * `npm start`: runs Sluice. With no arguments every role runs in this process (the embedded default
 * when DATABASE_URL is unset); `npm run start:gateway` and friends pass one role.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const roles = (args.length ? args : ALL_ROLES) as Role[];
  for (const r of roles) {
    if (!ALL_ROLES.includes(r)) {
      process.stderr.write(`unknown role "${r}"; roles: ${ALL_ROLES.join(', ')}\n`);
      process.exit(2);
    }
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`sluice: ${(err as Error).message}\n`);
    process.exit(78); // EX_CONFIG
  }
  const stack = await startStack(config, { roles });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    stack.log.info({ signal }, 'shutting down');
    stack.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));

  if (stack.url && roles.length === ALL_ROLES.length) {
    // A fresh token per start; the previous start-up token stops working.
    await stack.tokens.revoke({ name: 'startup' });
    const { token } = await stack.tokens.create({ user: config.SLUICE_ADMIN_USER, name: 'startup', admin: true });
    const mode = config.embedded ? `embedded PostgreSQL under ${config.home}` : 'external PostgreSQL';
    process.stderr.write(
      [
        '',
        `Sluice is running at ${stack.url}  (${mode}; queue on ${config.queueBackend}; engines: ${config.SLUICE_ENGINES.join(', ')})`,
        `API docs: ${stack.url}/docs`,
        `PostgreSQL protocol: psql "host=${stack.pgAddress?.host} port=${stack.pgAddress?.port} dbname=duckdb user=${config.SLUICE_ADMIN_USER}" (password: the token)`,
        '',
        'Token for this run (user admin; shown once, revoked at the next start):',
        `  export SLUICE_URL=${stack.url}`,
        `  export SLUICE_TOKEN=${token}`,
        '',
        'Try it:',
        `  curl -s -X POST $SLUICE_URL/api/v1/jobs -H "Authorization: Bearer $SLUICE_TOKEN" -H 'content-type: application/json' \\`,
        `       -d '{"code": "select 42 as answer, current_date as today"}'`,
        '  curl -s $SLUICE_URL/api/v1/jobs/<id>/results/0 -H "Authorization: Bearer $SLUICE_TOKEN"',
        '',
      ].join('\n'),
    );
  }
}

main().catch((err) => {
  const msg = err instanceof SluiceError ? err.message : (err as Error).stack;
  process.stderr.write(`sluice: failed to start: ${msg}\n`);
  process.exit(1);
});
