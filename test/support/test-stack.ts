import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { type Config, loadConfig } from '@sluice/core';
import type { PinoLogger } from '@sluice/infra';
import { type Role, type Stack, startStack } from '@sluice/standalone';
import { freshDatabase, requireEnv, type TestDatabase, uniqueSuffix } from '@sluice/testkit';
import pg from 'pg';

export type Backend = 'redis' | 'postgres';

/** The queue/bus backends every cross-app scenario runs on. */
export const BACKENDS: readonly Backend[] = ['redis', 'postgres'];

/** Environment of a test deployment: a fresh database, its own queue prefix and home directory. */
export interface TestEnv {
  db: TestDatabase;
  home: string;
  env: Record<string, string>;
  config(overrides?: Record<string, string>): Config;
  cleanup(): Promise<void>;
}

export async function testEnv(backend: Backend, overrides: Record<string, string> = {}): Promise<TestEnv> {
  const db = await freshDatabase('e2e');
  const home = mkdtempSync(path.join(os.tmpdir(), 'sluice-test-'));
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    REDIS_URL: requireEnv('REDIS_URL'),
    SLUICE_QUEUE_BACKEND: backend,
    SLUICE_BUS_BACKEND: backend,
    SLUICE_QUEUE_PREFIX: `t${uniqueSuffix()}`,
    SLUICE_HOME: home,
    SLUICE_PORT: '0',
    SLUICE_PG_PORT: '0',
    SLUICE_LOG_LEVEL: process.env.SLUICE_TEST_LOG_LEVEL ?? 'silent',
    SLUICE_SCHEDULER_TICK_MS: '200',
    SLUICE_LEASE_MS: '3000',
    SLUICE_HEARTBEAT_MS: '500',
    SLUICE_MASTER_KEYS: `test1:${randomBytes(32).toString('base64')}`,
    ...overrides,
  };
  return {
    db,
    home,
    env,
    config: (more = {}) => loadConfig({ ...env, ...more }),
    async cleanup() {
      await db.drop().catch(() => {});
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A running test deployment plus tokens for two users and an admin. */
export interface TestStack {
  stack: Stack;
  url: string;
  tokens: { alice: string; bob: string; admin: string };
  api: (token: string) => ApiClient;
  stop(): Promise<void>;
}

export async function startTestStack(env: TestEnv, opts: { roles?: Role[]; overrides?: Record<string, string>; log?: PinoLogger } = {}): Promise<TestStack> {
  const stack = await startStack(env.config(opts.overrides), { roles: opts.roles ?? ['gateway', 'entrance', 'engine-manager'], log: opts.log });
  const mk = async (user: string, admin = false) => (await stack.tokens.create({ user, admin, name: `test-${user}` })).token;
  const tokens = { alice: await mk('alice'), bob: await mk('bob'), admin: await mk('root', true) };
  const url = stack.url ?? '';
  return { stack, url, tokens, api: (token) => new ApiClient(url, token), stop: () => stack.stop() };
}

/** What {@link useStackWithDb} sets up: the environment, the stack and a client of its database. */
export interface StackWithDb {
  env: TestEnv;
  ts: TestStack;
  db: pg.Client;
}

/**
 * Registers the suite's `before` and `after`: a fresh environment on `backend`, a test stack on it and
 * a PostgreSQL client of its database, all stopped after the suite. The fields are set once `before`
 * has run.
 */
export function useStackWithDb(backend: Backend, opts: Parameters<typeof startTestStack>[1] = {}): StackWithDb {
  const h = {} as StackWithDb;
  before(async () => {
    h.env = await testEnv(backend);
    h.ts = await startTestStack(h.env, opts);
    h.db = new pg.Client({ connectionString: h.env.db.url });
    await h.db.connect();
  });
  after(async () => {
    await h.db?.end();
    await h.ts?.stop();
    await h.env?.cleanup();
  });
  return h;
}

/** A response: status and parsed JSON body (or text). */
export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** A thin REST client for tests: real HTTP against the real gateway. */
export class ApiClient {
  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  async request<T = Record<string, unknown>>(method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    // A keep-alive socket the server closed while idle resets before the request is read: retry once.
    const send = () =>
      fetch(`${this.url}${p}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
    const res = await send().catch((err: { cause?: { code?: string } }) => {
      if (err?.cause?.code === 'ECONNRESET') return send();
      throw err;
    });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('application/json')) parsed = text ? JSON.parse(text) : null;
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  submit(job: Record<string, unknown>, headers?: Record<string, string>) {
    return this.request<JobBody>('POST', '/api/v1/jobs', job, headers);
  }

  job(id: string) {
    return this.request<JobBody>('GET', `/api/v1/jobs/${id}`);
  }

  /** Polls a job until it reaches one of `states`. */
  async waitFor(id: string, states: string[] = ['Succeed', 'Failed', 'Cancelled', 'Timeout'], timeoutMs = 30_000): Promise<JobBody> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.job(id);
      if (r.status !== 200) throw new Error(`GET job ${id}: ${r.status} ${JSON.stringify(r.body)}`);
      if (states.includes(r.body.state)) return r.body;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${r.body.state} after ${timeoutMs} ms; wanted ${states.join('|')}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }
}

/** The JSON of a job as the API returns it. */
export interface JobBody {
  id: string;
  state: string;
  user: string;
  attempt: number;
  progress: number;
  engineId: string | null;
  engineType: string;
  error: { code: string; message: string; details: Record<string, unknown> } | null;
  resultSets: number;
  logLines: number;
  code?: string;
  message?: string;
  details?: Record<string, unknown>;
  [k: string]: unknown;
}
