import { type BrowseItem, type BrowsePath, type Principal, SluiceError } from '@sluice/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LinkisContext, LinkisDataSources } from '../context.ts';
import { linkisMethod, linkisOk } from '../envelope.ts';
import { addLinkisRoute, queryOf } from '../linkis-route.ts';
import { dataSourceName } from './datasource-routes.ts';

/** Entries one metadata call lists at most. */
export const MAX_BROWSE_ITEMS = 10_000;

async function browseAll(svc: LinkisDataSources, p: Principal, name: string, path: BrowsePath): Promise<BrowseItem[]> {
  const out: BrowseItem[] = [];
  let cursor: string | undefined;
  do {
    const page = await svc.browse(p, name, path, { cursor, limit: 1000 });
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && out.length < MAX_BROWSE_ITEMS);
  return out.slice(0, MAX_BROWSE_ITEMS);
}

/**
 * The catalog a Linkis "database" lives in: the data source's own (`catalog` or `database`
 * parameter), else its only catalog; null when it has several (then databases are `catalog.schema`).
 */
async function fixedCatalog(svc: LinkisDataSources, p: Principal, name: string): Promise<string | null> {
  const ds = await svc.get(p, name);
  for (const key of ['catalog', 'database']) {
    const v = ds.params[key];
    if (typeof v === 'string' && v) return v;
  }
  const catalogs = await browseAll(svc, p, name, { level: 'catalogs' });
  return catalogs.length === 1 ? (catalogs[0]?.name ?? null) : null;
}

/** Splits a Linkis database into catalog and schema. */
async function locate(svc: LinkisDataSources, p: Principal, name: string, database: string): Promise<{ catalog: string; schema: string }> {
  const fixed = await fixedCatalog(svc, p, name);
  if (fixed !== null) return { catalog: fixed, schema: database };
  const dot = database.indexOf('.');
  if (dot <= 0) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `database: ${name} has several catalogs; name the database as catalog.schema` });
  return { catalog: database.slice(0, dot), schema: database.slice(dot + 1) };
}

function required(q: Record<string, string>, key: string): string {
  const v = q[key];
  if (!v) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `${key}: required` });
  return v;
}

/** The Linkis `MetaColumnInfo` of a column. */
function columnInfo(c: BrowseItem, i: number): Record<string, unknown> {
  return { index: i + 1, primaryKey: false, name: c.name, type: c.type ?? 'string', length: 0, colComment: c.comment ?? null, isNullable: c.nullable ?? true };
}

/** The browse calls both metadata services answer from, by data-source name. */
const browse = {
  async dbs(svc: LinkisDataSources, p: Principal, name: string): Promise<string[]> {
    const fixed = await fixedCatalog(svc, p, name);
    if (fixed !== null) return (await browseAll(svc, p, name, { level: 'schemas', catalog: fixed })).map((s) => s.name);
    const dbs: string[] = [];
    for (const c of await browseAll(svc, p, name, { level: 'catalogs' })) {
      for (const s of await browseAll(svc, p, name, { level: 'schemas', catalog: c.name })) dbs.push(`${c.name}.${s.name}`);
      if (dbs.length >= MAX_BROWSE_ITEMS) break;
    }
    return dbs;
  },
  async tables(svc: LinkisDataSources, p: Principal, name: string, database: string): Promise<string[]> {
    const at = await locate(svc, p, name, database);
    return (await browseAll(svc, p, name, { level: 'tables', ...at })).map((t) => t.name);
  },
  async columns(svc: LinkisDataSources, p: Principal, name: string, database: string, table: string): Promise<Record<string, unknown>[]> {
    const at = await locate(svc, p, name, database);
    return (await browseAll(svc, p, name, { level: 'columns', ...at, table })).map(columnInfo);
  },
};

const NO_PARTITIONS = 'has no Sluice equivalent (Sluice browses catalogs, schemas, tables and columns; no partitions or table properties)';

/**
 * `metadataQuery` by data-source name, on the data-source service's browse: `getDatabases` (the
 * schemas of the source's catalog, or `catalog.schema` when it spans catalogs), `getTables`,
 * `getColumns` and `getConnectionInfo` (non-secret parameters); and `metadatamanager` by data-source id
 * (a name or a Sluice data-source id): `dbs/{id}`, `tables/{id}/db/{db}`, `columns/{id}/db/{db}/table/{t}`.
 * Partitions and table properties have no Sluice equivalent and answer with an error.
 */
export function registerMetadataRoutes(scope: FastifyInstance, ctx: LinkisContext): void {
  // The Linkis gateway routes the lower-case spelling too.
  for (const service of ['metadataQuery', 'metadataquery'])
    addLinkisRoute(scope, 'GET', `/${service}/:action`, async (req, reply) => {
      const principal = await ctx.caller(req, reply);
      const svc = ctx.dataSources();
      const q = queryOf(req);
      const action = (req.params as { action: string }).action;
      const method = `/api/${service}/${action}`;
      const name = required(q, 'dataSourceName');
      switch (action) {
        case 'getConnectionInfo': {
          const ds = await svc.get(principal, name);
          return linkisOk(method, { info: { ...ds.params, type: ds.type } });
        }
        case 'getDatabases':
          return linkisOk(method, { dbs: await browse.dbs(svc, principal, name) });
        case 'getTables':
          return linkisOk(method, { tables: await browse.tables(svc, principal, name, required(q, 'database')) });
        case 'getColumns':
          return linkisOk(method, { columns: await browse.columns(svc, principal, name, required(q, 'database'), required(q, 'table')) });
        default:
          throw new SluiceError('SLUICE_REQUEST_INVALID', {
            summary: `metadataQuery/${action} ${NO_PARTITIONS} (supported: getConnectionInfo, getDatabases, getTables, getColumns)`,
          });
      }
    });

  const byId = async (req: FastifyRequest, reply: FastifyReply) => {
    const principal = await ctx.caller(req, reply);
    const svc = ctx.dataSources();
    const params = req.params as Record<string, string>;
    return { principal, svc, name: await dataSourceName(svc, principal, params.id ?? ''), params };
  };
  addLinkisRoute(scope, 'GET', '/metadatamanager/dbs/:id', async (req, reply) => {
    const { principal, svc, name } = await byId(req, reply);
    return linkisOk(linkisMethod(req.url), { dbs: await browse.dbs(svc, principal, name) });
  });
  addLinkisRoute(scope, 'GET', '/metadatamanager/tables/:id/db/:db', async (req, reply) => {
    const { principal, svc, name, params } = await byId(req, reply);
    return linkisOk(linkisMethod(req.url), { tables: await browse.tables(svc, principal, name, params.db ?? '') });
  });
  addLinkisRoute(scope, 'GET', '/metadatamanager/columns/:id/db/:db/table/:table', async (req, reply) => {
    const { principal, svc, name, params } = await byId(req, reply);
    return linkisOk(linkisMethod(req.url), { columns: await browse.columns(svc, principal, name, params.db ?? '', params.table ?? '') });
  });
  addLinkisRoute(scope, 'GET', '/metadatamanager/*', async (req, reply) => {
    await ctx.caller(req, reply);
    const what = ((req.params as { '*': string })['*'] ?? '').split('/')[0];
    throw new SluiceError('SLUICE_REQUEST_INVALID', {
      summary: `metadatamanager/${what} ${NO_PARTITIONS} (supported: dbs, tables, columns)`,
    });
  });
}
