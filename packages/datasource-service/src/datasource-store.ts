import { type Pool, type PoolClient, queryPrepared } from '@sluice/infra';
import type { Envelope } from './envelope.ts';

/** Schema of the data-source registry (migration 100). */
export const DATASOURCE_MIGRATION = {
  version: 100,
  name: 'data sources, versions, shares, audit',
  sql: `
CREATE TABLE sluice_datasources (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  type text NOT NULL,
  owner text NOT NULL,
  description text NOT NULL DEFAULT '',
  latest_version int NOT NULL,
  published_version int,
  expired_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE sluice_datasource_versions (
  datasource_id text NOT NULL REFERENCES sluice_datasources (id) ON DELETE CASCADE,
  version int NOT NULL,
  params jsonb NOT NULL,
  secrets jsonb,
  comment text NOT NULL DEFAULT '',
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (datasource_id, version)
);
CREATE TABLE sluice_datasource_shares (
  datasource_id text NOT NULL REFERENCES sluice_datasources (id) ON DELETE CASCADE,
  username text NOT NULL,
  permission text NOT NULL CHECK (permission IN ('use', 'manage')),
  PRIMARY KEY (datasource_id, username)
);
CREATE INDEX sluice_datasource_shares_user ON sluice_datasource_shares (username);
CREATE TABLE sluice_datasource_audit (
  id bigserial PRIMARY KEY,
  datasource_id text NOT NULL,
  datasource_name text NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}',
  at timestamptz NOT NULL DEFAULT now()
);
`,
} as const;

/** A data source row. */
export interface DataSourceRow {
  id: string;
  name: string;
  type: string;
  owner: string;
  description: string;
  latest_version: number;
  published_version: number | null;
  expired_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** A version row: non-secret parameters in clear, secrets sealed. */
export interface VersionRow {
  datasource_id: string;
  version: number;
  params: Record<string, unknown>;
  secrets: Envelope | null;
  comment: string;
  created_by: string;
  created_at: Date;
}

/** SQL of the registry. No rules here: permissions and validation live in the service. */
export class DataSourceStore {
  constructor(readonly db: Pool) {}

  async byName(name: string, c: Pool | PoolClient = this.db, lock = false): Promise<DataSourceRow | null> {
    const r = await c.query<DataSourceRow>(`SELECT * FROM sluice_datasources WHERE name = $1${lock ? ' FOR UPDATE' : ''}`, [name]);
    return r.rows[0] ?? null;
  }

  /**
   * What running a job on a data source reads, in one round trip: the row, `user`'s share of it, and
   * with `withPublished` its published version. Null when no data source has that name.
   */
  async forUse(
    name: string,
    user: string,
    withPublished: boolean,
  ): Promise<{ ds: DataSourceRow; share: 'use' | 'manage' | null; published: VersionRow | null } | null> {
    const r = await queryPrepared<DataSourceRow & { share_permission: 'use' | 'manage' | null; v_version: number | null } & Record<`v_${string}`, unknown>>(
      this.db,
      `SELECT d.*, s.permission AS share_permission,
              v.version AS v_version, v.params AS v_params, v.secrets AS v_secrets, v.comment AS v_comment,
              v.created_by AS v_created_by, v.created_at AS v_created_at
       FROM sluice_datasources d
       LEFT JOIN sluice_datasource_shares s ON s.datasource_id = d.id AND s.username = $2
       LEFT JOIN sluice_datasource_versions v ON $3::boolean AND v.datasource_id = d.id AND v.version = d.published_version
       WHERE d.name = $1`,
      [name, user, withPublished],
    );
    const row = r.rows[0];
    if (!row) return null;
    const { share_permission, v_version, v_params, v_secrets, v_comment, v_created_by, v_created_at, ...ds } = row;
    const published: VersionRow | null =
      v_version === null
        ? null
        : {
            datasource_id: ds.id,
            version: v_version,
            params: v_params as Record<string, unknown>,
            secrets: v_secrets as Envelope | null,
            comment: v_comment as string,
            created_by: v_created_by as string,
            created_at: v_created_at as Date,
          };
    return { ds: ds as DataSourceRow, share: share_permission, published };
  }

  async version(id: string, version: number, c: Pool | PoolClient = this.db): Promise<VersionRow | null> {
    const r = await c.query<VersionRow>('SELECT * FROM sluice_datasource_versions WHERE datasource_id = $1 AND version = $2', [id, version]);
    return r.rows[0] ?? null;
  }

  async versions(id: string): Promise<VersionRow[]> {
    const r = await this.db.query<VersionRow>('SELECT * FROM sluice_datasource_versions WHERE datasource_id = $1 ORDER BY version', [id]);
    return r.rows;
  }

  async shareOf(id: string, user: string): Promise<'use' | 'manage' | null> {
    const r = await this.db.query<{ permission: 'use' | 'manage' }>(
      'SELECT permission FROM sluice_datasource_shares WHERE datasource_id = $1 AND username = $2',
      [id, user],
    );
    return r.rows[0]?.permission ?? null;
  }

  async shares(id: string): Promise<{ user: string; permission: 'use' | 'manage' }[]> {
    const r = await this.db.query<{ username: string; permission: 'use' | 'manage' }>(
      'SELECT username, permission FROM sluice_datasource_shares WHERE datasource_id = $1 ORDER BY username',
      [id],
    );
    return r.rows.map((x) => ({ user: x.username, permission: x.permission }));
  }

  /** Data sources a user can see (owner, shared, or all for admins), by name, keyset-paged. */
  async list(user: string, admin: boolean, opts: { after?: string; limit: number; type?: string }): Promise<DataSourceRow[]> {
    const r = await this.db.query<DataSourceRow>(
      `SELECT d.* FROM sluice_datasources d
       WHERE ($1::boolean OR d.owner = $2 OR EXISTS (SELECT 1 FROM sluice_datasource_shares s WHERE s.datasource_id = d.id AND s.username = $2))
         AND ($3::text IS NULL OR d.name > $3) AND ($4::text IS NULL OR d.type = $4)
       ORDER BY d.name LIMIT $5`,
      [admin, user, opts.after ?? null, opts.type ?? null, opts.limit],
    );
    return r.rows;
  }

  async audit(c: Pool | PoolClient, ds: { id: string; name: string }, actor: string, action: string, detail: Record<string, unknown> = {}): Promise<void> {
    await c.query('INSERT INTO sluice_datasource_audit (datasource_id, datasource_name, actor, action, detail) VALUES ($1, $2, $3, $4, $5)', [
      ds.id,
      ds.name,
      actor,
      action,
      JSON.stringify(detail),
    ]);
  }

  async auditLog(id: string): Promise<{ actor: string; action: string; detail: Record<string, unknown>; at: Date }[]> {
    const r = await this.db.query<{ actor: string; action: string; detail: Record<string, unknown>; at: Date }>(
      'SELECT actor, action, detail, at FROM sluice_datasource_audit WHERE datasource_id = $1 ORDER BY id',
      [id],
    );
    return r.rows;
  }

  /** Jobs that reference a data source and have not finished. */
  async activeJobsUsing(name: string): Promise<number> {
    const r = await this.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM sluice_jobs WHERE data_source = $1 AND state IN ('Inited', 'Scheduled', 'Running', 'WaitForRetry')",
      [name],
    );
    return Number(r.rows[0]?.n ?? 0);
  }
}
