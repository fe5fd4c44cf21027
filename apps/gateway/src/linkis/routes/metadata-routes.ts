import { type BrowseItem, type BrowsePath, type Principal, SluiceError } from '@sluice/core';
import type { FastifyInstance } from 'fastify';
import type { LinkisContext, LinkisDataSources } from '../context.ts';
import { linkisOk } from '../envelope.ts';
import { addLinkisRoute, queryOf } from '../linkis-route.ts';

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

/**
 * `metadataQuery` by data-source name, on the data-source service's browse: `getDatabases` (the
 * schemas of the source's catalog, or `catalog.schema` when it spans catalogs), `getTables`,
 * `getColumns` and `getConnectionInfo` (non-secret parameters). Partitions and table properties have no
 * Sluice equivalent and answer with an error.
 */
export function registerMetadataRoutes(scope: FastifyInstance, ctx: LinkisContext): void {
  addLinkisRoute(scope, 'GET', '/metadataQuery/:action', async (req, reply) => {
    const principal = await ctx.caller(req, reply);
    const svc = ctx.dataSources();
    const q = queryOf(req);
    const action = (req.params as { action: string }).action;
    const method = `/api/metadataQuery/${action}`;
    const name = required(q, 'dataSourceName');
    switch (action) {
      case 'getConnectionInfo': {
        const ds = await svc.get(principal, name);
        return linkisOk(method, { info: { ...ds.params, type: ds.type } });
      }
      case 'getDatabases': {
        const fixed = await fixedCatalog(svc, principal, name);
        if (fixed !== null) {
          const schemas = await browseAll(svc, principal, name, { level: 'schemas', catalog: fixed });
          return linkisOk(method, { dbs: schemas.map((s) => s.name) });
        }
        const dbs: string[] = [];
        for (const c of await browseAll(svc, principal, name, { level: 'catalogs' })) {
          for (const s of await browseAll(svc, principal, name, { level: 'schemas', catalog: c.name })) dbs.push(`${c.name}.${s.name}`);
          if (dbs.length >= MAX_BROWSE_ITEMS) break;
        }
        return linkisOk(method, { dbs });
      }
      case 'getTables': {
        const at = await locate(svc, principal, name, required(q, 'database'));
        const tables = await browseAll(svc, principal, name, { level: 'tables', ...at });
        return linkisOk(method, { tables: tables.map((t) => t.name) });
      }
      case 'getColumns': {
        const at = await locate(svc, principal, name, required(q, 'database'));
        const columns = await browseAll(svc, principal, name, { level: 'columns', ...at, table: required(q, 'table') });
        return linkisOk(method, {
          columns: columns.map((c, i) => ({
            index: i + 1,
            primaryKey: false,
            name: c.name,
            type: c.type ?? 'string',
            length: 0,
            colComment: c.comment ?? null,
            isNullable: c.nullable ?? true,
          })),
        });
      }
      default:
        throw new SluiceError('SLUICE_REQUEST_INVALID', {
          summary: `metadataQuery/${action} is not supported by Sluice (supported: getConnectionInfo, getDatabases, getTables, getColumns)`,
        });
    }
  });
}
