import { ERROR_CODES } from '@sluice/core';
import { z } from 'zod';
import type { AnyRouteSpec } from './route-spec.ts';

const ErrorBodySchema = z.object({
  code: z.enum(Object.keys(ERROR_CODES) as [string, ...string[]]).describe('a code of the error registry (docs/errors.md)'),
  message: z.string(),
  details: z.record(z.string(), z.unknown()),
});

type JsonSchema = Record<string, unknown>;

function toSchema(s: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  delete out.$schema;
  return out;
}

function parameters(s: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!s) return [];
  const schema = toSchema(s, 'input');
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(props).map(([name, p]) => {
    const { description, ...rest } = p;
    return { name, in: where, required: where === 'path' || required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

/** Builds the OpenAPI 3.1 document from the same route table that serves and validates requests. */
export function buildOpenApi(routes: AnyRouteSpec[], info: { version: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    const responses: Record<string, JsonSchema> = {};
    for (const res of r.responses) {
      const key = String(res.status);
      const contentType = res.contentType ?? 'application/json';
      responses[key] ??= { description: res.description, content: {} };
      const entry = responses[key];
      if (entry.description !== res.description) entry.description = `${entry.description as string}; or ${res.description}`;
      (entry.content as JsonSchema)[contentType] = res.schema ? { schema: toSchema(res.schema, 'output') } : { schema: { type: 'string' } };
    }
    for (const [status, description] of [
      ['400', 'invalid request'],
      ['401', 'no or bad token'],
      ['403', 'not allowed'],
      ['404', 'not found'],
    ] as const) {
      responses[status] ??= { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    const op: JsonSchema = {
      operationId: r.operationId,
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: r.tags,
      parameters: [
        ...parameters(r.params, 'path'),
        ...parameters(r.query, 'query'),
        ...(r.headers ?? []).map((h) => ({
          name: h.name,
          in: 'header',
          required: h.required ?? false,
          description: h.description,
          schema: { type: 'string' },
        })),
      ],
      responses,
    };
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: toSchema(r.body, 'input') } } };
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Sluice REST API',
      version: info.version,
      description: 'One front door for compute. Every error is {code, message, details}; codes are listed in docs/errors.md.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a token created with `npm run admin -- token create`' } },
      schemas: { Error: toSchema(ErrorBodySchema, 'output') },
    },
    paths,
  };
}
