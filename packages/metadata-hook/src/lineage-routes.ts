import { type AnyRouteSpec, route, SluiceError } from '@sluice/core';
import { z } from 'zod';
import { lineageGraph, lineageQuerySchema } from './lineage-graph.ts';
import { listDeadLetters, outboxStats } from './outbox-store.ts';

type Queryable = Parameters<typeof lineageGraph>[0];

const outboxQuerySchema = z.object({
  limit: z.coerce.number().int().min(0).max(1000).default(100).describe('dead letters listed, newest first'),
});

/**
 * `GET /api/v1/lineage`: the lineage graph built from the events Sluice emitted, so the embedded
 * default shows lineage with no external metadata service.
 * `GET /api/v1/lineage/outbox` (admins): the outbox counts and the dead letters, for operators.
 */
export function lineageRoutes(db: Queryable): AnyRouteSpec[] {
  return [
    route({
      method: 'GET',
      url: '/api/v1/lineage',
      operationId: 'getLineage',
      summary: 'Lineage graph of a dataset, upstream or downstream, from the events Sluice emitted',
      tags: ['lineage'],
      query: lineageQuerySchema,
      responses: [
        {
          status: 200,
          description: 'nodes (datasets and jobs) and edges',
          schema: z.object({ nodes: z.array(z.record(z.string(), z.unknown())), edges: z.array(z.record(z.string(), z.unknown())), truncated: z.boolean() }),
        },
      ],
      handler: ({ query }) => lineageGraph(db, query),
    }),
    route({
      method: 'GET',
      url: '/api/v1/lineage/outbox',
      operationId: 'getLineageOutbox',
      summary: 'Lineage delivery state (admins): pending, delivered and dead-lettered counts, and the dead letters',
      tags: ['lineage'],
      query: outboxQuerySchema,
      responses: [
        {
          status: 200,
          description: 'counts, and the events the receiver refused for good (without their payload)',
          schema: z.object({
            pending: z.number(),
            delivered: z.number(),
            deadLettered: z.number(),
            oldestPendingAt: z.string().nullable(),
            deadLetters: z.array(z.record(z.string(), z.unknown())),
          }),
        },
        { status: 403, description: 'not an admin' },
      ],
      handler: async ({ principal, query }) => {
        if (!principal.admin) throw new SluiceError('SLUICE_AUTH_FORBIDDEN', { action: 'read the lineage outbox' });
        const stats = await outboxStats(db);
        const deadLetters = query.limit > 0 ? await listDeadLetters(db, query.limit) : [];
        return { ...stats, oldestPendingAt: stats.oldestPendingAt?.toISOString() ?? null, deadLetters };
      },
    }),
  ];
}
