import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type pg from 'pg';

const root = path.resolve(import.meta.dirname, '../..');

/** Starts Sluice roles in a real process of their own, as `npm run start:engine-manager` does. */
export function startManagerProcess(env: Record<string, string>, roles: string[] = ['engine-manager']): ChildProcess {
  return spawn(process.execPath, ['--conditions=sluice-source', '--import', 'tsx', 'apps/standalone/src/main.ts', ...roles], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Engine managers that run and heart-beat now. */
export async function managerCount(db: pg.Client): Promise<number> {
  const r = await db.query<{ n: string }>("SELECT count(*) AS n FROM sluice_managers WHERE stopped_at IS NULL AND heartbeat_at > now() - interval '2 seconds'");
  return Number(r.rows[0]?.n ?? 0);
}
