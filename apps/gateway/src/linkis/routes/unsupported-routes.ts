import { SluiceError } from '@sluice/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LinkisContext } from '../context.ts';
import { linkisOk } from '../envelope.ts';
import { addLinkisRoute } from '../linkis-route.ts';

/**
 * Linkis services Sluice has no counterpart for, with what a client should do instead. Their routes
 * answer with the Linkis error envelope (status 1, HTTP 400) naming the service and the reason, rather
 * than a generic "no route", so a client's log says why.
 */
export const UNSUPPORTED_SERVICES: Readonly<Record<string, string>> = Object.freeze({
  linkisManager:
    'Sluice starts and reuses engines itself and does not expose them: LinkisManager engine calls (once mode, linkis-cli --mode once, LinkisManagerClient) are not supported; submit through entrance/submit',
  engineplugin: 'Sluice engines are connectors configured on the server; engine plugins cannot be managed over the Linkis API',
  configuration: 'Sluice has no per-user engine configuration service; pass settings per job in params.configuration (startup, runtime)',
  variable: 'Sluice has no global variable store; pass variables per job in params.variable',
  udf: 'Sluice has no UDF manager',
  bml: 'Sluice has no BML material store; send code inline (executionContent.code)',
  cs: 'Sluice has no context service',
  contextservice: 'Sluice has no context service',
  application: 'Sluice has no DSS application registry',
  errorcode: 'Sluice error codes are documented in docs/errors.md; there is no error-code service',
  microservice: 'Sluice has no microservice registry over the Linkis API',
  'basedata-manager': 'Sluice has no Linkis base-data manager',
  query: 'Sluice job history is served under jobhistory/',
  datasource: 'Sluice has no Hive metastore browser: browse a data source with metadataQuery (by name) or metadatamanager (by name or id)',
});

/** `filesystem` calls besides the served ones: Sluice has no user file system, only job results and logs. */
const FILESYSTEM_UNSUPPORTED =
  'Sluice has no user file system: filesystem serves only job results (getDirFileTrees, openFile, resultsetToExcel) and logs (openLog)';

/**
 * The error routes of unsupported Linkis services and `filesystem` operations, and the gateway's own
 * `gateway/heartbeat`.
 */
export function registerUnsupportedRoutes(scope: FastifyInstance, ctx: LinkisContext): void {
  const methods = ['GET', 'POST', 'PUT', 'DELETE'] as const;
  for (const [service, reason] of Object.entries(UNSUPPORTED_SERVICES)) {
    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      await ctx.caller(req, reply);
      throw new SluiceError('SLUICE_ROUTE_NOT_FOUND', { method: req.method, url: req.url.split('?')[0], service }, `Linkis ${service}: ${reason}`);
    };
    addLinkisRoute(scope, [...methods], `/${service}`, handler);
    addLinkisRoute(scope, [...methods], `/${service}/*`, handler);
  }
  addLinkisRoute(scope, [...methods], '/filesystem/*', async (req, reply) => {
    await ctx.caller(req, reply);
    const op = (req.params as { '*': string })['*'];
    throw new SluiceError(
      'SLUICE_ROUTE_NOT_FOUND',
      { method: req.method, url: req.url.split('?')[0], service: 'filesystem' },
      `filesystem/${op}: ${FILESYSTEM_UNSUPPORTED}`,
    );
  });
  // The Linkis gateway answers this itself, without login (load balancers probe it).
  addLinkisRoute(scope, ['GET', 'POST'], '/gateway/heartbeat', async (req) =>
    linkisOk('/api/gateway/heartbeat', { gatewayList: [ctx.instance(req)], isHealthy: true }),
  );
}
