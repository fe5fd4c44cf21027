import type { AddressInfo } from 'node:net';
import { type BrowsePage, type BrowsePath, type Config, type EventBus, type JobView, type Principal, SluiceError } from '@sluice/core';
import type { EntranceApi } from '@sluice/entrance';
import type { PinoLogger } from '@sluice/infra';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenStore } from '../auth/token-store.ts';
import type { EngineMap } from './engine-map.ts';
import { parseJobRef } from './exec-id.ts';
import { authenticateLinkis, sessionCookie } from './linkis-auth.ts';
import { ProgressInfoCache } from './progress-info.ts';
import type { SessionTickets } from './session-ticket.ts';

/** A data source as the data-source service shows it (secrets never included). */
export interface LinkisDataSourceView {
  id: string;
  name: string;
  type: string;
  engine: string;
  owner: string;
  description: string;
  latestVersion: number;
  publishedVersion: number | null;
  expired: boolean;
  params: Record<string, unknown>;
  secretsSet: string[];
  createdAt: string;
  updatedAt: string;
}

/** A data-source version as the data-source service shows it. */
export interface LinkisDataSourceVersion {
  version: number;
  comment: string;
  createdBy: string;
  createdAt: string;
  published: boolean;
  params: Record<string, unknown>;
}

/** The data-source service calls the Linkis data-source-manager and metadataQuery routes map onto. */
export interface LinkisDataSources {
  types(): {
    name: string;
    displayName: string;
    classifier: string;
    engine: string;
    description: string;
    secretFields: readonly string[];
    keyDefinitions: { key: string; name: string; valueType: string; require: boolean; defaultValue: unknown; description: string }[];
  }[];
  get(p: Principal, name: string): Promise<LinkisDataSourceView>;
  list(p: Principal, q: { cursor?: string; limit: number; type?: string }): Promise<{ items: LinkisDataSourceView[]; nextCursor: string | null }>;
  create(p: Principal, body: { name: string; type: string; description?: string; params: unknown; comment?: string }): Promise<LinkisDataSourceView>;
  update(p: Principal, name: string, body: { params: unknown; comment?: string; description?: string }): Promise<LinkisDataSourceView>;
  versions(p: Principal, name: string): Promise<LinkisDataSourceVersion[]>;
  publish(p: Principal, name: string, version: number): Promise<LinkisDataSourceView>;
  expire(p: Principal, name: string): Promise<LinkisDataSourceView>;
  delete(p: Principal, name: string): Promise<void>;
  test(p: Principal, name: string, version?: number): Promise<{ ok: true; serverVersion?: string; latencyMs: number }>;
  browse(p: Principal, name: string, path: BrowsePath, page: { cursor?: string; limit: number }): Promise<BrowsePage>;
}

/** What the Linkis front door needs; everything goes through the entrance and the data-source service. */
export interface LinkisDeps {
  /** Reads `SLUICE_MASTER_KEYS` (session-ticket key), `SLUICE_WS_MAX_BUFFER_BYTES`, `SLUICE_HOST`/`SLUICE_PORT`. */
  config: Pick<Config, 'SLUICE_MASTER_KEYS' | 'SLUICE_WS_MAX_BUFFER_BYTES' | 'SLUICE_HOST' | 'SLUICE_PORT'>;
  entrance: EntranceApi;
  tokens: Pick<TokenStore, 'verify'>;
  bus: EventBus;
  log: PinoLogger;
  /** The data-source service; without it the data-source routes answer with an error. */
  dataSources?: LinkisDataSources;
  /** Reads a job's submitted code for job history's `executionCode` (e.g. the entrance's JobStore); null without it. */
  store?: { get(id: string): Promise<{ submitted_code: string } | null> };
  /** Where `SLUICE_LINKIS_ENGINE_MAP` is read from; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** The instance name put into execIDs; default the listening address `host:port`. */
  instance?: string;
  /** How often the WebSocket pushes a waiting job's queue position (`waitingSize`); default 30 s, as Linkis. */
  waitingSizeIntervalMs?: number;
}

/** Shared state of the Linkis routes: dependencies, engine map, session tickets and helpers. */
export class LinkisContext {
  private listening?: string;
  /** The latest connector progress detail of jobs, for `progressInfo`. */
  readonly progress: ProgressInfoCache;
  /** Called with each job the REST routes submit (the WebSocket pushes it to its user's sockets). */
  onSubmitted: (job: JobView, instance: string) => Promise<void> = async () => {};

  constructor(
    readonly deps: LinkisDeps,
    readonly engines: EngineMap,
    readonly tickets: SessionTickets,
  ) {
    this.progress = new ProgressInfoCache(deps.bus);
  }

  /** The instance part of execIDs (informational: ids are resolved without it). */
  instance(req?: FastifyRequest): string {
    if (this.deps.instance) return this.deps.instance;
    if (!this.listening && req) {
      const addr = req.server.server.address() as AddressInfo | string | null;
      if (addr && typeof addr === 'object') this.listening = `${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
    }
    return this.listening ?? `${this.deps.config.SLUICE_HOST}:${this.deps.config.SLUICE_PORT}`;
  }

  /** Authenticates a request and refreshes a session cookie that passed half its life. */
  async caller(req: FastifyRequest, reply: FastifyReply): Promise<Principal> {
    const c = await authenticateLinkis(this.deps.tokens, this.tickets, req.headers);
    if (c.refreshedTicket) reply.header('set-cookie', sessionCookie(c.refreshedTicket.value, req.protocol === 'https'));
    return c.principal;
  }

  /** Loads the job an execID, taskID or job id names, or throws SLUICE_JOB_NOT_FOUND. */
  async job(principal: Principal, id: string): Promise<JobView> {
    const ref = parseJobRef(id);
    if (!ref) throw new SluiceError('SLUICE_JOB_NOT_FOUND', { jobId: id });
    return this.deps.entrance.get(principal, ref);
  }

  /** The code a job was submitted with, when a store is wired. */
  async code(job: JobView): Promise<string | null> {
    if (!this.deps.store) return null;
    const row = await this.deps.store.get(job.id).catch(() => null);
    return row?.submitted_code ?? null;
  }

  /** The data-source service, or a clear error when this gateway has none. */
  dataSources(): LinkisDataSources {
    if (!this.deps.dataSources) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'this gateway serves no data-source service' });
    return this.deps.dataSources;
  }
}
