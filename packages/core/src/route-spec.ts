import type { z } from 'zod';
import type { Principal } from './job.ts';

/** One documented response of a route. */
export interface ResponseSpec {
  status: number;
  description: string;
  schema?: z.ZodType;
  /** Defaults to application/json. */
  contentType?: string;
}

/** The part of an HTTP reply a handler may touch: status, headers, or sending a stream. */
export interface ReplyLike {
  code(status: number): unknown;
  header(name: string, value: string): unknown;
  send(payload?: unknown): unknown;
}

/** What a handler receives: validated input and the caller. */
export interface RouteContext<P, Q, B> {
  principal: Principal;
  params: P;
  query: Q;
  body: B;
  headers: Record<string, string | string[] | undefined>;
  reply: ReplyLike;
}

/**
 * A REST route described once: the same zod schemas validate the request and generate the OpenAPI
 * document, so the two cannot drift apart. Packages declare routes; the gateway mounts them.
 */
export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  operationId: string;
  summary: string;
  /** Longer prose for the OpenAPI operation, when the summary is not enough. */
  description?: string;
  tags: string[];
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  /** Validated by the gateway unless `bodyValidatedByHandler` (e.g. the entrance validates jobs itself). */
  body?: z.ZodType<B>;
  bodyValidatedByHandler?: boolean;
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
