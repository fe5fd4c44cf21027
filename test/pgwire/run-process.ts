import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';

/** The outcome of a child process. */
export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a program without blocking the event loop (the server under test runs in this process). */
export function runProcess(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string | undefined>; timeoutMs?: number; onSpawn?: (pid: number) => void; input?: string } = {},
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (child.pid) opts.onSpawn?.(child.pid);
    child.stdin.end(opts.input ?? '');
  });
}

/** Key=value lines of a probe's output; repeated keys collect into arrays under `key[]`. */
export function keyValues(stdout: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const k = line.slice(0, eq);
    out.set(k, [...(out.get(k) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

let clients: { jar: string; pythonPath: string; classes: string } | undefined;

/**
 * Makes sure psql, pgJDBC (compiled probe included) and psycopg are present, via
 * scripts/pgwire-clients.sh, which caches them under .cache/pgwire-clients.
 */
export function ensureClients(): { jar: string; pythonPath: string; classes: string } {
  if (clients) return clients;
  const root = path.resolve(import.meta.dirname, '../..');
  const text = execFileSync('bash', [path.join(root, 'scripts/pgwire-clients.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const env = new Map<string, string>();
  for (const m of text.matchAll(/^export (\w+)=(.*)$/gm)) env.set(m[1] as string, m[2] as string);
  const jar = env.get('PGWIRE_PGJDBC_JAR') as string;
  const classes = path.join(root, '.cache/pgwire-clients/classes');
  execFileSync('javac', ['-d', classes, '-cp', jar, path.join(root, 'test/pgwire/PgJdbcProbe.java')], { stdio: 'inherit' });
  clients = { jar, pythonPath: env.get('PGWIRE_PYTHONPATH') as string, classes };
  return clients;
}
