import type { RunEvent } from './run-event.ts';
import { answerExcerpt, type LineageTransport, TransportError } from './transport.ts';

/** Apache Atlas v2 entity API settings. */
export interface AtlasTransportOptions {
  /** Base URL, e.g. `http://atlas:21000`. */
  url: string;
  /** Basic authentication (Atlas' default file/LDAP authentication). */
  username?: string;
  password?: string;
  /** Bearer token (Knox / Kerberos-fronted deployments). Never logged. */
  token?: string;
  /** Atlas type of datasets; `DataSet` by default (use e.g. `hive_table` where that model fits). */
  datasetType?: string;
  /** Atlas type of the job; `Process` by default. */
  processType?: string;
  timeoutMs?: number;
}

/** An Atlas entity in an `/api/atlas/v2/entity/bulk` request. */
export interface AtlasEntity {
  typeName: string;
  guid: string;
  attributes: Record<string, unknown>;
}

/**
 * Maps a completed run to Atlas entities: one dataset entity per input and output (qualifiedName
 * `name@namespace`) and one process entity (qualifiedName `jobName@jobNamespace`) with `inputs` and
 * `outputs`. Atlas keeps no run states, so only COMPLETE events are sent; the others are accepted
 * and dropped.
 */
export function atlasEntities(event: RunEvent, datasetType = 'DataSet', processType = 'Process'): AtlasEntity[] {
  let guid = 0;
  const ref = new Map<string, string>();
  const entities: AtlasEntity[] = [];
  const dataset = (d: { namespace: string; name: string }) => {
    const qn = `${d.name}@${d.namespace}`;
    let g = ref.get(qn);
    if (!g) {
      g = String(--guid);
      ref.set(qn, g);
      entities.push({ typeName: datasetType, guid: g, attributes: { qualifiedName: qn, name: d.name } });
    }
    return { guid: g, typeName: datasetType };
  };
  const inputs = event.inputs.map(dataset);
  const outputs = event.outputs.map(dataset);
  const sql = event.job.facets?.sql as { query?: string } | undefined;
  entities.push({
    typeName: processType,
    guid: String(--guid),
    attributes: {
      qualifiedName: `${event.job.name}@${event.job.namespace}`,
      name: event.job.name,
      inputs,
      outputs,
      ...(sql?.query ? { description: sql.query.slice(0, 4000) } : {}),
    },
  });
  return entities;
}

/** Posts completed runs to Atlas' `POST /api/atlas/v2/entity/bulk`. */
export class AtlasTransport implements LineageTransport {
  readonly kind = 'atlas';
  constructor(private readonly opts: AtlasTransportOptions) {}

  async send(event: RunEvent): Promise<void> {
    if (event.eventType !== 'COMPLETE') return;
    if (event.inputs.length === 0 && event.outputs.length === 0) return;
    const target = new URL('api/atlas/v2/entity/bulk', this.opts.url.endsWith('/') ? this.opts.url : `${this.opts.url}/`).toString();
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    else if (this.opts.username !== undefined)
      headers.authorization = `Basic ${Buffer.from(`${this.opts.username}:${this.opts.password ?? ''}`).toString('base64')}`;
    const body = JSON.stringify({ entities: atlasEntities(event, this.opts.datasetType, this.opts.processType) });
    let res: Response;
    try {
      res = await fetch(target, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
      throw new TransportError(`POST ${target} failed: ${cause}`);
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      const basic = this.opts.username !== undefined ? Buffer.from(`${this.opts.username}:${this.opts.password ?? ''}`).toString('base64') : undefined;
      throw new TransportError(`POST ${target} answered ${res.status}: ${answerExcerpt(text, [this.opts.token, this.opts.password, basic])}`, res.status);
    }
  }
}
