import type { Principal } from '@sluice/core';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';

/** One documented response of a route. */
export interface ResponseSpec {
  status: number;
  description: string;
  schema?: z.ZodType;
  /** Defaults to application/json. */
  contentType?: string;
}

/** What a handler receives: validated input and the caller. */
export interface RouteContext<P, Q, B> {
  principal: Principal;
  params: P;
  query: Q;
  body: B;
  headers: Record<string, string | string[] | undefined>;
  reply: FastifyReply;
}

/**
 * A REST route described once: the same zod schemas validate the request and generate the OpenAPI
 * document, so the two cannot drift apart.
 */
export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  operationId: string;
  summary: string;
  tags: string[];
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Request headers worth documenting (e.g. Idempotency-Key). */
  headers?: { name: string; description: string; required?: boolean }[];
  responses: ResponseSpec[];
  handler(ctx: RouteContext<P, Q, B>): Promise<unknown>;
}

/** Erases the generic parameters for storage in a route table. */
// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous table of routes needs an erased type
export type AnyRouteSpec = RouteSpec<any, any, any>;

/** Builds a route spec with its handler's types inferred from the schemas. */
export function route<P, Q, B>(spec: RouteSpec<P, Q, B>): RouteSpec<P, Q, B> {
  return spec;
}
