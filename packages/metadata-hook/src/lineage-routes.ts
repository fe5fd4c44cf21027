import { type AnyRouteSpec, route } from '@sluice/core';
import { z } from 'zod';
import { lineageGraph, lineageQuerySchema } from './lineage-graph.ts';

type Queryable = Parameters<typeof lineageGraph>[0];

/**
 * `GET /api/v1/lineage`: the lineage graph built from the events Sluice emitted, so the embedded
 * default shows lineage with no external metadata service.
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
  ];
}
