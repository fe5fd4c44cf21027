import { buildGateway } from '@sluice/gateway';
import type { PinoLogger } from '@sluice/infra';
import type { FastifyInstance } from 'fastify';
import { type LinkisDeps, linkisPlugin } from '../../apps/gateway/src/linkis/index.ts';
import { startTestStack, type TestEnv, type TestStack } from '../support/test-stack.ts';

/** A test deployment whose gateway also serves the Linkis front door (the stack does not mount it yet). */
export interface LinkisStack {
  ts: TestStack;
  app: FastifyInstance;
  /** Base URL of the gateway with the Linkis plugin. */
  url: string;
  stop(): Promise<void>;
}

/** A gateway with the Linkis plugin, mounted on a running test stack's parts. */
export interface LinkisGateway {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/**
 * Builds a gateway on 127.0.0.1 with `linkisPlugin` mounted, fed with the stack's own parts (entrance,
 * tokens, bus, data sources, store), as the lead will wire it in apps/standalone/src/stack.ts.
 */
export async function mountLinkisGateway(
  ts: TestStack,
  linkis: Partial<Pick<LinkisDeps, 'env' | 'instance' | 'waitingSizeIntervalMs'>> = {},
): Promise<LinkisGateway> {
  const { stack } = ts;
  const app = await buildGateway({
    config: stack.config,
    entrance: stack.entrance,
    tokens: stack.tokens,
    bus: stack.infra.bus,
    log: stack.log,
    plugins: [
      linkisPlugin({
        config: stack.config,
        entrance: stack.entrance,
        tokens: stack.tokens,
        bus: stack.infra.bus,
        log: stack.log,
        dataSources: stack.dataSources,
        store: stack.store,
        env: linkis.env ?? {},
        instance: linkis.instance,
        waitingSizeIntervalMs: linkis.waitingSizeIntervalMs,
      }),
    ],
    ready: async () => {},
    version: 'test',
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  return { app, url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, close: () => app.close() };
}

/** Starts the entrance and an engine manager on the test environment, and a gateway with the Linkis front door. */
export async function startLinkisStack(
  env: TestEnv,
  opts: { overrides?: Record<string, string>; linkis?: Partial<Pick<LinkisDeps, 'env' | 'instance' | 'waitingSizeIntervalMs'>>; log?: PinoLogger } = {},
): Promise<LinkisStack> {
  const ts = await startTestStack(env, { roles: ['entrance', 'engine-manager'], overrides: opts.overrides, log: opts.log });
  const gw = await mountLinkisGateway(ts, opts.linkis);
  return {
    ts,
    app: gw.app,
    url: gw.url,
    async stop() {
      await gw.close();
      await ts.stop();
    },
  };
}

/** A parsed Linkis response. */
export interface LinkisResponse {
  http: number;
  body: { method: string | null; status: number; message: string; data: Record<string, unknown> };
  headers: Headers;
}

/** A raw HTTP client for Linkis routes: real requests, whatever auth headers the test gives. */
export class LinkisClient {
  constructor(
    readonly url: string,
    readonly headers: Record<string, string> = {},
  ) {}

  /** A client that authenticates with Linkis' token headers. */
  static withToken(url: string, user: string, token: string): LinkisClient {
    return new LinkisClient(url, { 'Token-User': user, 'Token-Code': token });
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<LinkisResponse> {
    const res = await fetch(`${this.url}/api/rest_j/v1/${path.replace(/^\//, '')}`, {
      method,
      headers: { ...this.headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { http: res.status, body: JSON.parse(text), headers: res.headers };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, undefined, headers);
  }

  post(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request('POST', path, body, headers);
  }

  /** Submits through `entrance/submit` and returns execID and taskID. */
  async submit(body: Record<string, unknown>): Promise<{ execID: string; taskID: number; response: LinkisResponse }> {
    const r = await this.post('entrance/submit', body);
    if (r.body.status !== 0) throw new Error(`submit failed: ${JSON.stringify(r.body)}`);
    return { execID: r.body.data.execID as string, taskID: r.body.data.taskID as number, response: r };
  }

  /** Polls `entrance/{execID}/status` until a final state. */
  async waitFinal(execID: string, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.get(`entrance/${execID}/status`);
      const status = r.body.data.status as string;
      if (['Succeed', 'Failed', 'Cancelled', 'Timeout'].includes(status)) return status;
      if (Date.now() > deadline) throw new Error(`job ${execID} still ${status}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }
}

/** A Linkis submit body for the SQL engine. */
export function sqlJob(user: string, code: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    executionContent: { code, runType: 'sql' },
    params: { variable: {}, configuration: { runtime: {}, startup: {} } },
    labels: { engineType: 'duckdb-1.5', userCreator: `${user}-IDE` },
    ...extra,
  };
}
