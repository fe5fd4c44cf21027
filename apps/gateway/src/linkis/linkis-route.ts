import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { type LinkisMessage, linkisMethod, sendLinkis } from './envelope.ts';

/** A Linkis route handler: returns the envelope, or undefined when it sent the reply itself (a stream). */
export type LinkisHandler = (req: FastifyRequest, reply: FastifyReply) => Promise<LinkisMessage | undefined>;

/** Mounts a handler whose envelope is sent with the HTTP status its Linkis status maps to. */
export function addLinkisRoute(scope: FastifyInstance, method: HTTPMethods | HTTPMethods[], url: string, handler: LinkisHandler): void {
  scope.route({
    method,
    url,
    handler: async (req, reply) => {
      const msg = await handler(req, reply);
      if (msg) return sendLinkis(reply, msg);
      return reply;
    },
  });
}

/** The query string as single strings (the first of repeated keys). */
export function queryOf(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) {
    const one = Array.isArray(v) ? v[0] : v;
    if (typeof one === 'string') out[k] = one;
  }
  return out;
}

/** The parsed body when it is an object (JSON or form), else an empty object. */
export function bodyOf(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  return typeof b === 'object' && b !== null && !Array.isArray(b) ? (b as Record<string, unknown>) : {};
}

/** The Linkis `method` of a request. */
export function methodOf(req: FastifyRequest): string {
  return linkisMethod(req.url);
}

/** An integer query parameter, or the default when absent or not a number. */
export function intParam(q: Record<string, string>, name: string, def: number): number {
  const v = q[name];
  if (v === undefined || v.trim() === '') return def;
  const n = Number(v);
  return Number.isFinite(n) ? Math.trunc(n) : def;
}
