import { SluiceError } from '@sluice/core';
import type { FastifyError, FastifyInstance } from 'fastify';
import { LinkisContext, type LinkisDeps } from './context.ts';
import { loadEngineMap } from './engine-map.ts';
import { LINKIS_REST_PREFIX, linkisMethod, sendLinkis } from './envelope.ts';
import { linkisErrorMessage, NO_LOGIN_MESSAGE } from './error-envelope.ts';
import { authenticateLinkis } from './linkis-auth.ts';
import { registerDataSourceRoutes } from './routes/datasource-routes.ts';
import { registerEntranceRoutes } from './routes/entrance-routes.ts';
import { registerFilesystemRoutes } from './routes/filesystem-routes.ts';
import { registerJobHistoryRoutes } from './routes/jobhistory-routes.ts';
import { registerMetadataRoutes } from './routes/metadata-routes.ts';
import { registerUnsupportedRoutes } from './routes/unsupported-routes.ts';
import { registerUserRoutes } from './routes/user-routes.ts';
import { SessionTickets } from './session-ticket.ts';
import { LinkisPushHub } from './ws/linkis-push-hub.ts';
import { LinkisWsSession } from './ws/linkis-ws-session.ts';

/** Path of the Linkis WebSocket. */
export const LINKIS_WS_PATH = '/ws/api/entrance/connect';

function fastifyErrorToSluice(err: FastifyError): unknown {
  if (err instanceof SluiceError) return err;
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new SluiceError('SLUICE_REQUEST_TOO_LARGE', { limit: 'the gateway body limit' });
  if (err.statusCode && err.statusCode < 500) return new SluiceError('SLUICE_REQUEST_INVALID', { summary: err.message });
  return err;
}

/**
 * The Linkis-compatible front door as a Fastify plugin: REST under `/api/rest_j/v1` with Linkis'
 * envelope, auth (token headers, login with a Sluice token as the password, session cookie), ids and
 * formats, and the WebSocket at `/ws/api/entrance/connect`. Every call goes through the entrance and
 * the data-source service. The engine map (`SLUICE_LINKIS_ENGINE_MAP`) is read here, so a bad value
 * stops start-up with SLUICE_CONFIG_INVALID naming it.
 */
export function linkisPlugin(deps: LinkisDeps): (app: FastifyInstance) => Promise<void> {
  const engines = loadEngineMap(deps.env ?? process.env);
  const tickets = SessionTickets.fromMasterKeys(deps.config.SLUICE_MASTER_KEYS);
  const ctx = new LinkisContext(deps, engines, tickets);

  return async (app) => {
    const hub = new LinkisPushHub(ctx, deps.waitingSizeIntervalMs);
    ctx.onSubmitted = (job, instance) => hub.submitted(job, instance);
    app.addHook('onClose', async () => {
      await hub.close();
      await ctx.progress.close();
    });
    await app.register(
      async (scope) => {
        // Linkis lets user/login take the password in the query string; keep it out of request logs.
        scope.addHook('onRequest', async (req) => {
          const url = req.raw.url ?? '';
          if (/[?&](?:password|passwdEncrypt)=/.test(url)) req.raw.url = url.replace(/([?&](?:password|passwdEncrypt)=)[^&]*/g, '$1[redacted]');
        });
        scope.removeAllContentTypeParsers();
        // Linkis clients send JSON, form posts, empty bodies with a JSON content type, and GETs with bodies.
        scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
          const text = String(body).trim();
          if (!text) return done(null, undefined);
          try {
            done(null, JSON.parse(text));
          } catch {
            done(new SluiceError('SLUICE_REQUEST_MALFORMED_JSON', {}), undefined);
          }
        });
        scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
          done(null, Object.fromEntries(new URLSearchParams(String(body))));
        });
        scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, String(body)));

        scope.setErrorHandler((err: FastifyError, req, reply) => {
          const e = fastifyErrorToSluice(err);
          if (!(e instanceof SluiceError) || e.status >= 500) req.log.error({ err }, 'linkis request failed');
          return sendLinkis(reply, linkisErrorMessage(linkisMethod(req.url), e, req.id));
        });
        scope.setNotFoundHandler((req, reply) =>
          sendLinkis(
            reply,
            linkisErrorMessage(linkisMethod(req.url), new SluiceError('SLUICE_ROUTE_NOT_FOUND', { method: req.method, url: req.url.split('?')[0] }), req.id),
          ),
        );

        registerUserRoutes(scope, ctx);
        registerEntranceRoutes(scope, ctx);
        registerJobHistoryRoutes(scope, ctx);
        registerFilesystemRoutes(scope, ctx);
        registerDataSourceRoutes(scope, ctx);
        registerMetadataRoutes(scope, ctx);
        registerUnsupportedRoutes(scope, ctx);
      },
      { prefix: LINKIS_REST_PREFIX },
    );

    app.get(LINKIS_WS_PATH, { websocket: true }, (socket, req) => {
      const early: [Buffer, boolean][] = [];
      const hold = (data: Buffer, isBinary: boolean) => early.push([data, isBinary]);
      socket.on('message', hold);
      authenticateLinkis(deps.tokens, tickets, req.headers).then(
        (caller) => {
          socket.off('message', hold);
          new LinkisWsSession(socket, caller.principal, ctx, hub, ctx.instance(req));
          for (const [data, isBinary] of early) socket.emit('message', data, isBinary);
        },
        (err) => {
          const msg = linkisErrorMessage(null, err);
          socket.send(JSON.stringify({ ...msg, message: msg.status === -1 ? msg.message || NO_LOGIN_MESSAGE : msg.message }));
          socket.close(4001, 'not logged in');
        },
      );
    });
  };
}
