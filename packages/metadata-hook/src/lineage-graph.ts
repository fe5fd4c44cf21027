import { z } from 'zod';
import type { Queryable } from './outbox-store.ts';

/** Query of `GET /api/v1/lineage?dataset=…&namespace=…&direction=up|down&depth=N`. */
export const lineageQuerySchema = z.object({
  /** Dataset name, e.g. `hive.sales.daily`. */
  dataset: z.string().min(1).max(1000),
  /** Dataset namespace, e.g. `trino://host:8080`; any namespace when left out. */
  namespace: z.string().min(1).max(1000).optional(),
  /** `up`: what the dataset is made from; `down`: what is made from it. */
  direction: z.enum(['up', 'down']).default('up'),
  /** How many jobs away to look (dataset → job → dataset is 1). */
  depth: z.coerce.number().int().min(1).max(20).default(3),
});

/** A parsed lineage query. */
export type LineageQuery = z.infer<typeof lineageQuerySchema>;

/** A dataset or job in the graph. Its id is `dataset:<namespace>:<name>` or `job:<namespace>:<name>`. */
export interface LineageNode {
  id: string;
  type: 'DATASET' | 'JOB';
  namespace: string;
  name: string;
}

/** A directed edge: data flows from `from` to `to`. */
export interface LineageEdge {
  from: string;
  to: string;
  /** The run that last showed this edge, and its event type. */
  lastRunId: string;
  lastEventType: string;
  lastSeen: string;
}

/** The lineage graph around one dataset. */
export interface LineageGraph {
  nodes: LineageNode[];
  edges: LineageEdge[];
  /** True when `maxEdges` cut the graph short. */
  truncated: boolean;
}

interface EdgeRow {
  src_kind: string;
  src_namespace: string;
  src_name: string;
  dst_kind: string;
  dst_namespace: string;
  dst_name: string;
  last_run_id: string;
  last_event_type: string;
  last_seen: Date;
}

const nodeId = (kind: string, ns: string, name: string) => `${kind}:${ns}:${name}`;

/**
 * The lineage around a dataset, from the edges every written event left in `sluice_lineage_edges`
 * (delivered to a metadata service or not). `up` walks towards sources, `down` towards consumers,
 * `depth` jobs far. The start dataset is always a node, even with no edges.
 */
export async function lineageGraph(
  db: Queryable,
  query: { dataset: string; namespace?: string; direction: 'up' | 'down'; depth: number },
  maxEdges = 5000,
): Promise<LineageGraph> {
  const up = query.direction === 'up';
  // Walk towards sources (match the edge's destination) or consumers (match its source).
  const [near, far] = up ? ['dst', 'src'] : ['src', 'dst'];
  const r = await db.query<EdgeRow>(
    `WITH RECURSIVE walk AS (
       SELECT e.*, 1 AS hops FROM sluice_lineage_edges e
       WHERE e.${near}_kind = 'dataset' AND e.${near}_name = $1 AND ($2::text IS NULL OR e.${near}_namespace = $2)
       UNION
       SELECT e.*, w.hops + 1 FROM sluice_lineage_edges e
       JOIN walk w ON e.${near}_kind = w.${far}_kind AND e.${near}_namespace = w.${far}_namespace AND e.${near}_name = w.${far}_name
       WHERE w.hops < $3
     )
     SELECT DISTINCT src_kind, src_namespace, src_name, dst_kind, dst_namespace, dst_name, last_run_id, last_event_type, last_seen
     FROM walk ORDER BY src_kind, src_namespace, src_name, dst_kind, dst_namespace, dst_name LIMIT $4`,
    [query.dataset, query.namespace ?? null, query.depth * 2, maxEdges + 1],
  );
  const rows = r.rows.slice(0, maxEdges);
  const nodes = new Map<string, LineageNode>();
  const addNode = (kind: string, namespace: string, name: string) => {
    const id = nodeId(kind, namespace, name);
    if (!nodes.has(id)) nodes.set(id, { id, type: kind === 'job' ? 'JOB' : 'DATASET', namespace, name });
    return id;
  };
  const starts = rows.filter((e) => (up ? e.dst_kind : e.src_kind) === 'dataset' && (up ? e.dst_name : e.src_name) === query.dataset);
  if (starts.length === 0) addNode('dataset', query.namespace ?? '', query.dataset);
  const edges: LineageEdge[] = rows.map((e) => ({
    from: addNode(e.src_kind, e.src_namespace, e.src_name),
    to: addNode(e.dst_kind, e.dst_namespace, e.dst_name),
    lastRunId: e.last_run_id,
    lastEventType: e.last_event_type,
    lastSeen: e.last_seen.toISOString(),
  }));
  return { nodes: [...nodes.values()], edges, truncated: r.rows.length > maxEdges };
}

/**
 * An invalid lineage query. It carries the shape of Sluice's `SLUICE_REQUEST_INVALID` error (400),
 * so the gateway can turn it into a `SluiceError` with the same code and details.
 */
export class LineageQueryError extends Error {
  readonly code = 'SLUICE_REQUEST_INVALID';
  readonly status = 400;
  constructor(readonly details: { summary: string }) {
    super(`The request is invalid: ${details.summary}`);
    this.name = 'LineageQueryError';
  }
}

/**
 * The handler of `GET /api/v1/lineage`: validates the raw query string object and returns the graph.
 * An invalid query throws {@link LineageQueryError}.
 */
export async function handleLineageRequest(db: Queryable, rawQuery: unknown): Promise<LineageGraph> {
  const parsed = lineageQuerySchema.safeParse(rawQuery ?? {});
  if (!parsed.success) {
    const summary = parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ');
    throw new LineageQueryError({ summary });
  }
  return lineageGraph(db, parsed.data);
}
