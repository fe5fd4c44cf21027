import { randomUUID } from 'node:crypto';
import { type BrowsePage, type BrowsePath, type DataSourceConnection, type EngineConnector, type Principal, SluiceError } from '@sluice/core';
import { withTransaction } from '@sluice/infra';
import { z } from 'zod';
import type { DataSourceRow, DataSourceStore, VersionRow } from './datasource-store.ts';
import { type Envelope, openSecrets, rewrapEnvelope, sealSecrets } from './envelope.ts';
import type { Keyring } from './master-keys.ts';
import { DATASOURCE_TYPES, type DataSourceTypeDef, dataSourceType, keyDefinitions } from './types-registry.ts';

/** What a user may do with a data source. */
export type Permission = 'read' | 'use' | 'manage';

/** The public view of a data source. Secret fields are never in it: only which ones are set. */
export interface DataSourceView {
  id: string;
  name: string;
  type: string;
  engine: string;
  owner: string;
  description: string;
  latestVersion: number;
  publishedVersion: number | null;
  expired: boolean;
  /** Non-secret parameters of the published version (or the latest, when none is published). */
  params: Record<string, unknown>;
  /** Secret fields that have a value. */
  secretsSet: string[];
  permissions: { use: boolean; manage: boolean };
  createdAt: string;
  updatedAt: string;
}

/** Records per master key id. */
export interface KeyUsage {
  keyId: string;
  /** New data keys are wrapped under this one. */
  active: boolean;
  /** This process has the key (so it can open, and re-wrap, what it wraps). */
  configured: boolean;
  /** Sealed records whose data key this key wraps. */
  records: number;
}

export interface KeyStatus {
  activeKeyId: string;
  keys: KeyUsage[];
}

export interface KeyRotation {
  activeKeyId: string;
  /** Records re-wrapped by this run. */
  rewrapped: number;
  /** Records left alone because their key is not configured here. */
  notConfigured: number;
  before: KeyUsage[];
  after: KeyUsage[];
}

export interface VersionView {
  version: number;
  comment: string;
  createdBy: string;
  createdAt: string;
  published: boolean;
  params: Record<string, unknown>;
  secretsSet: string[];
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

function aad(id: string, version: number): string {
  return `${id}:${version}`;
}

function invalidParams(err: z.ZodError): SluiceError {
  const issues = err.issues.map((i) => ({ path: ['params', ...i.path].join('.'), message: i.message }));
  return new SluiceError('SLUICE_REQUEST_INVALID', { summary: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues });
}

/** What a principal may do with a data source, given their share of it (null: none). */
function permissionsFrom(p: Principal, ds: DataSourceRow, share: 'use' | 'manage' | null): { read: boolean; use: boolean; manage: boolean } {
  if (p.admin || ds.owner === p.user) return { read: true, use: true, manage: true };
  return { read: share !== null, use: share !== null, manage: share === 'manage' };
}

/**
 * The data-source registry: typed parameters validated by the type's schema, versions with publish
 * and expire, owner/admin/shared access, and secrets sealed with envelope encryption. Secret values
 * leave this class only inside a {@link DataSourceConnection} handed to a connector.
 */
export class DataSourceService {
  constructor(
    private readonly store: DataSourceStore,
    private readonly ring: Keyring,
    private readonly connectorFor: (engine: string) => EngineConnector | undefined,
    private readonly opts: {
      testTimeoutMs: number;
      /** Parameter schemas defined by the connectors; they win over the registry's own. */
      connectorParams?: (type: string) => { schema: z.ZodObject; secretFields: readonly string[] } | undefined;
    } = { testTimeoutMs: 10_000 },
  ) {}

  /** Every type with its parameters as JSON Schema and as Linkis-style key definitions. */
  types(): {
    name: string;
    displayName: string;
    classifier: string;
    engine: string;
    description: string;
    secretFields: readonly string[];
    jsonSchema: unknown;
    keyDefinitions: ReturnType<typeof keyDefinitions>;
  }[] {
    return DATASOURCE_TYPES.map((base) => this.typeOf(base.name)).map((t) => ({
      name: t.name,
      displayName: t.displayName,
      classifier: t.classifier,
      engine: t.engine,
      description: t.description,
      secretFields: t.secretFields,
      jsonSchema: z.toJSONSchema(t.params, { io: 'input', unrepresentable: 'any' }),
      keyDefinitions: keyDefinitions(t),
    }));
  }

  private typeOf(name: string): DataSourceTypeDef {
    const t = dataSourceType(name);
    if (!t)
      throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `type: unknown data-source type "${name}"`, known: DATASOURCE_TYPES.map((x) => x.name) });
    const own = this.opts.connectorParams?.(name);
    return own ? { ...t, params: own.schema, secretFields: own.secretFields } : t;
  }

  /** Splits validated parameters into clear and secret parts. */
  private split(t: DataSourceTypeDef, params: Record<string, unknown>): { clear: Record<string, unknown>; secrets: Record<string, unknown> } {
    const clear: Record<string, unknown> = {};
    const secrets: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(params)) {
      if (t.secretFields.includes(k)) {
        if (v !== undefined) secrets[k] = v;
      } else clear[k] = v;
    }
    return { clear, secrets };
  }

  private validate(t: DataSourceTypeDef, params: unknown): Record<string, unknown> {
    const parsed = t.params.safeParse(params ?? {});
    if (!parsed.success) throw invalidParams(parsed.error);
    return parsed.data as Record<string, unknown>;
  }

  private async permissionsOf(p: Principal, ds: DataSourceRow): Promise<{ read: boolean; use: boolean; manage: boolean }> {
    if (p.admin || ds.owner === p.user) return permissionsFrom(p, ds, null);
    return permissionsFrom(p, ds, await this.store.shareOf(ds.id, p.user));
  }

  /** Loads a data source and checks the principal may `need` it. Unknown and invisible look alike. */
  private async authorize(p: Principal, name: string, need: Permission): Promise<DataSourceRow> {
    const ds = NAME.test(name) ? await this.store.byName(name) : null;
    if (!ds) throw new SluiceError('SLUICE_DATASOURCE_NOT_FOUND', { name });
    const perms = await this.permissionsOf(p, ds);
    if (!perms.read) throw new SluiceError('SLUICE_DATASOURCE_NOT_FOUND', { name });
    if (!perms[need]) throw new SluiceError('SLUICE_AUTH_FORBIDDEN', { action: `${need} data source ${name}`, name });
    return ds;
  }

  private async view(p: Principal, ds: DataSourceRow): Promise<DataSourceView> {
    const perms = await this.permissionsOf(p, ds);
    const v = await this.store.version(ds.id, ds.published_version ?? ds.latest_version);
    return {
      id: ds.id,
      name: ds.name,
      type: ds.type,
      engine: this.typeOf(ds.type).engine,
      owner: ds.owner,
      description: ds.description,
      latestVersion: ds.latest_version,
      publishedVersion: ds.published_version,
      expired: ds.expired_at !== null,
      params: v?.params ?? {},
      secretsSet: v ? this.secretKeys(ds, v) : [],
      permissions: { use: perms.use, manage: perms.manage },
      createdAt: ds.created_at.toISOString(),
      updatedAt: ds.updated_at.toISOString(),
    };
  }

  private secretKeys(ds: DataSourceRow, v: VersionRow): string[] {
    if (!v.secrets) return [];
    return Object.keys(openSecrets(this.ring, v.secrets, aad(ds.id, v.version))).sort();
  }

  async create(p: Principal, body: { name: string; type: string; description?: string; params: unknown; comment?: string }): Promise<DataSourceView> {
    if (!NAME.test(body.name))
      throw new SluiceError('SLUICE_REQUEST_INVALID', {
        summary: 'name: a letter, then letters, digits or _ (at most 64)',
        issues: [{ path: 'name', message: 'invalid name' }],
      });
    const t = this.typeOf(body.type);
    const { clear, secrets } = this.split(t, this.validate(t, body.params));
    const id = randomUUID();
    const ds = await withTransaction(this.store.db, async (c) => {
      const exists = await this.store.byName(body.name, c);
      if (exists)
        throw new SluiceError('SLUICE_REQUEST_INVALID', {
          summary: `name: a data source named ${body.name} already exists`,
          issues: [{ path: 'name', message: 'already exists' }],
        });
      const r = await c.query<DataSourceRow>(
        'INSERT INTO sluice_datasources (id, name, type, owner, description, latest_version) VALUES ($1, $2, $3, $4, $5, 1) RETURNING *',
        [id, body.name, t.name, p.user, body.description ?? ''],
      );
      const env = Object.keys(secrets).length ? sealSecrets(this.ring, secrets, aad(id, 1)) : null;
      await c.query('INSERT INTO sluice_datasource_versions (datasource_id, version, params, secrets, comment, created_by) VALUES ($1, 1, $2, $3, $4, $5)', [
        id,
        JSON.stringify(clear),
        env ? JSON.stringify(env) : null,
        body.comment ?? 'created',
        p.user,
      ]);
      await this.store.audit(c, { id, name: body.name }, p.user, 'create', { type: t.name, version: 1, secretsSet: Object.keys(secrets) });
      return r.rows[0] as DataSourceRow;
    }).catch((e) => {
      // Two creators racing for one name: the unique index decides, the user gets the same clear error.
      if ((e as { code?: string }).code === '23505')
        throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `name: a data source named ${body.name} already exists` });
      throw e;
    });
    return this.view(p, ds);
  }

  async get(p: Principal, name: string): Promise<DataSourceView> {
    return this.view(p, await this.authorize(p, name, 'read'));
  }

  async list(p: Principal, q: { cursor?: string; limit: number; type?: string }): Promise<{ items: DataSourceView[]; nextCursor: string | null }> {
    const rows = await this.store.list(p.user, p.admin, { after: q.cursor, limit: q.limit + 1, type: q.type });
    const page = rows.slice(0, q.limit);
    return { items: await Promise.all(page.map((r) => this.view(p, r))), nextCursor: rows.length > q.limit ? (page[page.length - 1]?.name ?? null) : null };
  }

  /**
   * Adds a new version. Secret fields left out keep their previous values, so a client never has to
   * read a secret back (it cannot) to change another field.
   */
  async update(p: Principal, name: string, body: { params: unknown; comment?: string; description?: string }): Promise<DataSourceView> {
    const ds = await this.authorize(p, name, 'manage');
    const t = this.typeOf(ds.type);
    const row = await withTransaction(this.store.db, async (c) => {
      const cur = (await this.store.byName(name, c, true)) as DataSourceRow;
      const prev = await this.store.version(cur.id, cur.latest_version, c);
      const prevSecrets = prev?.secrets ? openSecrets(this.ring, prev.secrets, aad(cur.id, prev.version)) : {};
      const merged = { ...prevSecrets, ...(body.params as Record<string, unknown>) };
      const { clear, secrets } = this.split(t, this.validate(t, merged));
      const version = cur.latest_version + 1;
      const env = Object.keys(secrets).length ? sealSecrets(this.ring, secrets, aad(cur.id, version)) : null;
      await c.query('INSERT INTO sluice_datasource_versions (datasource_id, version, params, secrets, comment, created_by) VALUES ($1, $2, $3, $4, $5, $6)', [
        cur.id,
        version,
        JSON.stringify(clear),
        env ? JSON.stringify(env) : null,
        body.comment ?? '',
        p.user,
      ]);
      const r = await c.query<DataSourceRow>(
        'UPDATE sluice_datasources SET latest_version = $2, description = coalesce($3, description), updated_at = now() WHERE id = $1 RETURNING *',
        [cur.id, version, body.description ?? null],
      );
      const changedSecrets = Object.keys(body.params as Record<string, unknown>).filter((k) => t.secretFields.includes(k));
      await this.store.audit(c, cur, p.user, 'update', { version, comment: body.comment ?? '', secretsChanged: changedSecrets });
      return r.rows[0] as DataSourceRow;
    });
    return this.view(p, row);
  }

  async versions(p: Principal, name: string): Promise<VersionView[]> {
    const ds = await this.authorize(p, name, 'read');
    return (await this.store.versions(ds.id)).map((v) => ({
      version: v.version,
      comment: v.comment,
      createdBy: v.created_by,
      createdAt: v.created_at.toISOString(),
      published: ds.published_version === v.version,
      params: v.params,
      secretsSet: this.secretKeys(ds, v),
    }));
  }

  async publish(p: Principal, name: string, version: number): Promise<DataSourceView> {
    const ds = await this.authorize(p, name, 'manage');
    if (!(await this.store.version(ds.id, version))) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `version: ${name} has no version ${version}` });
    const row = await withTransaction(this.store.db, async (c) => {
      const r = await c.query<DataSourceRow>('UPDATE sluice_datasources SET published_version = $2, updated_at = now() WHERE id = $1 RETURNING *', [
        ds.id,
        version,
      ]);
      await this.store.audit(c, ds, p.user, 'publish', { version });
      return r.rows[0] as DataSourceRow;
    });
    return this.view(p, row);
  }

  /** Expires a data source: existing engines finish their jobs, no new job may use it. */
  async expire(p: Principal, name: string): Promise<DataSourceView> {
    const ds = await this.authorize(p, name, 'manage');
    const row = await withTransaction(this.store.db, async (c) => {
      const r = await c.query<DataSourceRow>(
        'UPDATE sluice_datasources SET expired_at = coalesce(expired_at, now()), updated_at = now() WHERE id = $1 RETURNING *',
        [ds.id],
      );
      await this.store.audit(c, ds, p.user, 'expire');
      return r.rows[0] as DataSourceRow;
    });
    return this.view(p, row);
  }

  /** Deletes a data source and its history; refused while unfinished jobs reference it. */
  async delete(p: Principal, name: string): Promise<void> {
    const ds = await this.authorize(p, name, 'manage');
    const active = await this.store.activeJobsUsing(name);
    if (active > 0) throw new SluiceError('SLUICE_DATASOURCE_IN_USE', { name, jobs: active });
    await withTransaction(this.store.db, async (c) => {
      await this.store.audit(c, ds, p.user, 'delete');
      await c.query('DELETE FROM sluice_datasources WHERE id = $1', [ds.id]);
    });
  }

  async share(p: Principal, name: string, user: string, permission: 'use' | 'manage' | null): Promise<{ user: string; permission: 'use' | 'manage' }[]> {
    const ds = await this.authorize(p, name, 'manage');
    await withTransaction(this.store.db, async (c) => {
      if (permission === null) await c.query('DELETE FROM sluice_datasource_shares WHERE datasource_id = $1 AND username = $2', [ds.id, user]);
      else {
        await c.query(
          `INSERT INTO sluice_datasource_shares (datasource_id, username, permission) VALUES ($1, $2, $3)
           ON CONFLICT (datasource_id, username) DO UPDATE SET permission = EXCLUDED.permission`,
          [ds.id, user, permission],
        );
      }
      await this.store.audit(c, ds, p.user, permission ? 'share' : 'unshare', { user, permission });
    });
    return this.store.shares(ds.id);
  }

  async shares(p: Principal, name: string): Promise<{ user: string; permission: 'use' | 'manage' }[]> {
    return this.store.shares((await this.authorize(p, name, 'read')).id);
  }

  async audit(p: Principal, name: string): Promise<{ actor: string; action: string; detail: Record<string, unknown>; at: string }[]> {
    const ds = await this.authorize(p, name, 'manage');
    return (await this.store.auditLog(ds.id)).map((a) => ({ ...a, at: a.at.toISOString() }));
  }

  /** The connection of a version, secrets opened, for a connector. Never returned by the API. */
  private async connection(ds: DataSourceRow, version: number): Promise<DataSourceConnection> {
    return this.connectionOf(ds, version, await this.store.version(ds.id, version));
  }

  private connectionOf(ds: DataSourceRow, version: number, v: VersionRow | null): DataSourceConnection {
    if (!v) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `version: ${ds.name} has no version ${version}` });
    const secrets = v.secrets ? openSecrets(this.ring, v.secrets, aad(ds.id, v.version)) : {};
    return { name: ds.name, type: ds.type, version: v.version, params: { ...v.params, ...secrets }, secretFields: this.typeOf(ds.type).secretFields };
  }

  private browserFor(ds: DataSourceRow): NonNullable<EngineConnector['metadata']> {
    const engine = this.typeOf(ds.type).engine;
    const metadata = this.connectorFor(engine)?.metadata;
    if (!metadata)
      throw new SluiceError('SLUICE_REQUEST_INVALID', {
        summary: `${ds.type} data sources do not support this here: the ${engine} engine is not loaded or cannot browse`,
      });
    return metadata;
  }

  /** Tests the connection of a version (default: the latest) under the configured time limit. */
  async test(p: Principal, name: string, version?: number): Promise<{ ok: true; serverVersion?: string; latencyMs: number }> {
    const ds = await this.authorize(p, name, 'use');
    const browser = this.browserFor(ds);
    const conn = await this.connection(ds, version ?? ds.latest_version);
    try {
      return await browser.testConnection(conn, this.opts.testTimeoutMs);
    } catch (err) {
      throw this.redact(err, conn);
    }
  }

  async browse(p: Principal, name: string, path: BrowsePath, page: { cursor?: string; limit: number }): Promise<BrowsePage> {
    const ds = await this.authorize(p, name, 'read');
    if (ds.published_version === null) throw new SluiceError('SLUICE_DATASOURCE_UNPUBLISHED', { name });
    const conn = await this.connection(ds, ds.published_version);
    try {
      return await this.browserFor(ds).browse(conn, path, page);
    } catch (err) {
      throw this.redact(err, conn);
    }
  }

  /**
   * The data source a principal may run jobs on now, with its published version (and that version's
   * row with `withPublished`); refuses otherwise, as `authorize(…, 'use')` does. One read.
   */
  private async usable(
    p: Principal,
    name: string,
    withPublished: boolean,
  ): Promise<{ ds: DataSourceRow; publishedVersion: number; published: VersionRow | null }> {
    const found = NAME.test(name) ? await this.store.forUse(name, p.user, withPublished) : null;
    if (!found) throw new SluiceError('SLUICE_DATASOURCE_NOT_FOUND', { name });
    const { ds, share, published } = found;
    const perms = permissionsFrom(p, ds, share);
    if (!perms.read) throw new SluiceError('SLUICE_DATASOURCE_NOT_FOUND', { name });
    if (!perms.use) throw new SluiceError('SLUICE_AUTH_FORBIDDEN', { action: `use data source ${name}`, name });
    if (ds.expired_at) throw new SluiceError('SLUICE_DATASOURCE_EXPIRED', { name });
    if (ds.published_version === null) throw new SluiceError('SLUICE_DATASOURCE_UNPUBLISHED', { name });
    return { ds, publishedVersion: ds.published_version, published };
  }

  /**
   * Checks that `user` may run jobs on a data source now: it exists, is published, is not expired and
   * the user may use it. Returns its type's engine. Used at submit and again when the engine opens.
   */
  async checkUse(p: Principal, name: string): Promise<{ type: string; engine: string; publishedVersion: number }> {
    const { ds, publishedVersion } = await this.usable(p, name, false);
    return { type: ds.type, engine: this.typeOf(ds.type).engine, publishedVersion };
  }

  /** The published connection for a job's engine, after the checks of {@link checkUse}, from one read. */
  async connectionForJob(p: Principal, name: string): Promise<DataSourceConnection> {
    const { ds, publishedVersion, published } = await this.usable(p, name, true);
    return this.connectionOf(ds, publishedVersion, published);
  }

  /** Refuses anyone but an admin: key management is deployment-wide. */
  assertAdmin(p: Principal, action: string): void {
    if (!p.admin) throw new SluiceError('SLUICE_AUTH_FORBIDDEN', { action });
  }

  /** How many sealed records each master key id wraps, and which ids this process has. Never key material. */
  async keyStatus(): Promise<KeyStatus> {
    const r = await this.store.db.query<{ kid: string; n: string }>(
      "SELECT secrets->>'kid' AS kid, count(*) AS n FROM sluice_datasource_versions WHERE secrets IS NOT NULL GROUP BY 1 ORDER BY 1",
    );
    const counts = new Map(r.rows.map((x) => [x.kid, Number(x.n)]));
    const ids = [...new Set([this.ring.activeId, ...this.ring.keys.keys(), ...counts.keys()])];
    return {
      activeKeyId: this.ring.activeId,
      keys: ids.map((keyId) => ({ keyId, active: keyId === this.ring.activeId, configured: this.ring.keys.has(keyId), records: counts.get(keyId) ?? 0 })),
    };
  }

  /**
   * Re-wraps every data key that is not under the active master key, in batches. Each record is
   * locked and rewritten in its own short transaction, so jobs keep running (a reader sees the old
   * or the new envelope, and opens either while both keys are configured), several gateways may run
   * it at once, and a run that stops half-way is finished by the next one. Records under a key this
   * process does not have are left alone and counted in `notConfigured`.
   */
  async rotateKeys(opts: { batchSize?: number } = {}): Promise<KeyRotation> {
    const ring = this.ring;
    const before = await this.keyStatus();
    const batchSize = opts.batchSize ?? 200;
    let rewrapped = 0;
    let notConfigured = 0;
    let last: { id: string; version: number } | null = null;
    for (;;) {
      const batch: { datasource_id: string; version: number }[] = (
        await this.store.db.query<{ datasource_id: string; version: number }>(
          `SELECT datasource_id, version FROM sluice_datasource_versions
           WHERE secrets IS NOT NULL AND secrets->>'kid' <> $1 AND ($2::text IS NULL OR (datasource_id, version) > ($2::text, $3::int))
           ORDER BY datasource_id, version LIMIT $4`,
          [ring.activeId, last?.id ?? null, last?.version ?? 0, batchSize],
        )
      ).rows;
      if (batch.length === 0) break;
      for (const { datasource_id, version } of batch) {
        const done = await withTransaction(this.store.db, async (c) => {
          const r = await c.query<{ secrets: Envelope | null }>(
            'SELECT secrets FROM sluice_datasource_versions WHERE datasource_id = $1 AND version = $2 FOR UPDATE',
            [datasource_id, version],
          );
          const env = r.rows[0]?.secrets;
          // Gone, or re-wrapped meanwhile by another gateway: nothing to do.
          if (!env || env.kid === ring.activeId) return 'skip';
          if (!ring.keys.has(env.kid)) return 'missing';
          const next = rewrapEnvelope(ring, env, aad(datasource_id, version));
          await c.query('UPDATE sluice_datasource_versions SET secrets = $3 WHERE datasource_id = $1 AND version = $2', [
            datasource_id,
            version,
            JSON.stringify(next),
          ]);
          return 'rewrapped';
        });
        if (done === 'rewrapped') rewrapped++;
        else if (done === 'missing') notConfigured++;
      }
      const tail = batch[batch.length - 1] as { datasource_id: string; version: number };
      last = { id: tail.datasource_id, version: tail.version };
    }
    return { activeKeyId: ring.activeId, rewrapped, notConfigured, before: before.keys, after: (await this.keyStatus()).keys };
  }

  /** Removes any secret value of `conn` from an error a connector raised (defence in depth). */
  private redact(err: unknown, conn: DataSourceConnection): unknown {
    if (!(err instanceof SluiceError)) return err;
    const secrets = this.typeOf(conn.type)
      .secretFields.map((k) => conn.params[k])
      .filter((v): v is string => typeof v === 'string' && v.length >= 4);
    if (secrets.length === 0) return err;
    const scrub = (s: string) => secrets.reduce((acc, sec) => acc.split(sec).join('******'), s);
    const details = JSON.parse(scrub(JSON.stringify(err.details))) as Record<string, unknown>;
    return new SluiceError(err.code, details, scrub(err.message));
  }
}
