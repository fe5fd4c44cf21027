import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import { type Config, type EventBus, SluiceError, toSluiceError } from '@sluice/core';
import type { EntranceApi } from '@sluice/entrance';
import type { PinoLogger } from '@sluice/infra';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from 'fastify';
import { authenticate } from './auth/authenticate.ts';
import type { TokenStore } from './auth/token-store.ts';
import { JobEnds } from './job-ends.ts';
import { jobRoutes } from './rest/job-routes.ts';
import { buildOpenApi } from './rest/openapi.ts';
import type { AnyRouteSpec } from './rest/route-spec.ts';
import { WsSession } from './ws/ws-session.ts';

/** What the gateway needs: it holds no job logic, only protocol adapters over the entrance calls. */
export interface GatewayDeps {
  config: Config;
  entrance: EntranceApi;
  tokens: TokenStore;
  bus: EventBus;
  log: PinoLogger;
  /** Routes of other packages mounted beside the job routes (e.g. the data-source service). */
  routes?: AnyRouteSpec[];
  /** Protocol adapters that need Fastify itself (e.g. the Linkis-compatible API with its own envelope). */
  plugins?: ((app: FastifyInstance) => Promise<void>)[];
  /** Readiness probe of the backing services. */
  ready: () => Promise<void>;
  version: string;
}

/** Every REST route of API v1, for serving and for the OpenAPI generator. */
export function allRoutes(entrance: EntranceApi, extra: AnyRouteSpec[] = [], ends?: JobEnds): AnyRouteSpec[] {
  return [...jobRoutes(entrance, ends), ...extra];
}

function redactUrl(url: string): string {
  return url.replace(/([?&]access_token=)[^&]*/g, '$1[redacted]');
}

/** Builds the Fastify app: REST v1, WebSocket, health, OpenAPI and docs. */
export async function buildGateway(deps: GatewayDeps): Promise<FastifyInstance> {
  const { config, entrance, tokens } = deps;
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // JSON overhead can double the size of code; the code limit itself is checked by the entrance.
    bodyLimit: config.SLUICE_MAX_CODE_BYTES * 4 + 64 * 1024,
    // Requests are logged by the hook below, with tokens in query strings redacted.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => `req-${Math.random().toString(36).slice(2, 10)}`,
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, url: redactUrl(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  await app.register(websocket, { options: { maxPayload: config.SLUICE_MAX_CODE_BYTES * 4 + 64 * 1024 } });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    let e: SluiceError;
    if (err instanceof SluiceError) e = err;
    else if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (err.statusCode === 400 && /JSON/i.test(err.message)))
      e = new SluiceError('SLUICE_REQUEST_MALFORMED_JSON', {});
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      e = new SluiceError('SLUICE_REQUEST_TOO_LARGE', { limit: config.SLUICE_MAX_CODE_BYTES * 4 + 64 * 1024 });
    else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
      e = new SluiceError('SLUICE_REQUEST_INVALID', { summary: err.message });
    else if (err.statusCode && err.statusCode < 500) e = new SluiceError('SLUICE_REQUEST_INVALID', { summary: err.message });
    else {
      e = toSluiceError(err);
      e.details.requestId = req.id;
    }
    if (e.status >= 500) req.log.error({ err }, 'request failed');
    const body =
      e.code === 'SLUICE_INTERNAL'
        ? { code: e.code, message: `Internal error; see the server log for request ${req.id}`, details: { requestId: req.id } }
        : e.toBody();
    reply.code(e.status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new SluiceError('SLUICE_ROUTE_NOT_FOUND', { method: req.method, url: req.url.split('?')[0] });
    reply.code(404).send(e.toBody());
  });

  // One bus subscription serves every request that waits for a job to end.
  const ends = new JobEnds(deps.bus, entrance);
  await ends.start();
  app.addHook('onClose', async () => ends.stop());
  const routes = allRoutes(entrance, deps.routes, ends);
  for (const r of routes) {
    app.route({
      method: r.method as 'GET' | 'POST' | 'PUT' | 'DELETE',
      url: r.url,
      handler: async (req, reply) => {
        const principal = await authenticate(tokens, req.headers);
        const parse = (schema: AnyRouteSpec['params'], value: unknown, where: string) => {
          if (!schema) return value;
          const p = schema.safeParse(value ?? {});
          if (p.success) return p.data;
          const issues = p.error.issues.map((i) => ({ path: [where, ...i.path].join('.'), message: i.message }));
          throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues });
        };
        const params = parse(r.params, req.params, 'params');
        const query = parse(r.query, req.query, 'query');
        if (r.body && (req.body === undefined || req.body === null)) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'a JSON body is required' });
        // Job bodies are validated by the entrance (one schema for every front door); others here.
        const body = r.body && !r.bodyValidatedByHandler ? parse(r.body, req.body, 'body') : req.body;
        return r.handler({ principal, params, query, body, headers: req.headers, reply });
      },
    });
  }

  const openapi = buildOpenApi(routes, { version: deps.version });
  app.get('/openapi.json', async () => openapi);
  app.get('/api/v1/openapi.json', async () => openapi);
  await app.register(swagger, { mode: 'static', specification: { document: openapi as never } });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await deps.ready();
      return { status: 'ready' };
    } catch (err) {
      const e = new SluiceError('SLUICE_NOT_READY', { reason: (err as Error).message });
      return reply.code(503).send(e.toBody());
    }
  });

  for (const plugin of deps.plugins ?? []) await plugin(app);

  app.get('/api/v1/ws', { websocket: true }, (socket, req) => {
    const query = new URLSearchParams(req.url.split('?')[1] ?? '');
    // Frames that arrive while the token is checked are held and replayed to the session.
    const early: [Buffer, boolean][] = [];
    const hold = (data: Buffer, isBinary: boolean) => early.push([data, isBinary]);
    socket.on('message', hold);
    authenticate(tokens, req.headers, query).then(
      (principal) => {
        socket.off('message', hold);
        new WsSession(socket, principal, entrance, deps.bus, config.SLUICE_WS_MAX_BUFFER_BYTES);
        for (const [data, isBinary] of early) socket.emit('message', data, isBinary);
      },
      (err) => {
        const e = toSluiceError(err);
        socket.send(JSON.stringify({ v: 1, type: 'error', error: e.toBody() }));
        socket.close(4001, e.code);
      },
    );
  });
  return app;
}
