import { type Principal, SluiceError } from '@sluice/core';
import type { FastifyInstance } from 'fastify';
import type { LinkisContext, LinkisDataSources, LinkisDataSourceVersion, LinkisDataSourceView } from '../context.ts';
import { linkisOk } from '../envelope.ts';
import { addLinkisRoute, bodyOf, intParam, queryOf } from '../linkis-route.ts';

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const PREFIX = '/data-source-manager';

type TypeDef = ReturnType<LinkisDataSources['types']>[number];

/** Linkis numbers data-source types; Sluice names them. The number is the position in the type list, from 1. */
export function typeIds(svc: LinkisDataSources): { byId: Map<number, TypeDef>; idOf: Map<string, number> } {
  const types = svc.types();
  return { byId: new Map(types.map((t, i) => [i + 1, t])), idOf: new Map(types.map((t, i) => [t.name, i + 1])) };
}

/** A type as Linkis' `DataSourceType`. */
export function linkisType(t: TypeDef, id: number): Record<string, unknown> {
  return { id: String(id), name: t.name, description: t.description, option: t.displayName, classifier: t.classifier, icon: null, layers: 0 };
}

/** A data source as Linkis' `DataSource` (`connectParams` without secrets: they are write-only). */
export function linkisDataSource(ds: LinkisDataSourceView, svc: LinkisDataSources): Record<string, unknown> {
  const { byId, idOf } = typeIds(svc);
  const typeId = idOf.get(ds.type) ?? 0;
  const type = byId.get(typeId);
  return {
    id: ds.id,
    dataSourceName: ds.name,
    dataSourceDesc: ds.description,
    dataSourceTypeId: typeId,
    createIdentify: null,
    createSystem: 'sluice',
    connectParams: ds.params,
    parameter: JSON.stringify(ds.params),
    createTime: Date.parse(ds.createdAt),
    modifyTime: Date.parse(ds.updatedAt),
    createUser: ds.owner,
    modifyUser: ds.owner,
    labels: null,
    versionId: ds.latestVersion,
    publishedVersionId: ds.publishedVersion,
    expire: ds.expired,
    dataSourceType: type ? linkisType(type, typeId) : null,
    dataSourceEnv: null,
    engine: ds.engine,
    secretsSet: ds.secretsSet,
  };
}

function linkisVersion(v: LinkisDataSourceVersion, dataSourceId: string): Record<string, unknown> {
  return {
    versionId: v.version,
    dataSourceId,
    connectParams: v.params,
    parameter: JSON.stringify(v.params),
    comment: v.comment,
    createTime: Date.parse(v.createdAt),
    createUser: v.createdBy,
    published: v.published,
  };
}

/** Resolves the `{id}` of a Linkis data-source route: a name, or a Sluice data-source id. */
export async function dataSourceName(svc: LinkisDataSources, p: Principal, id: string): Promise<string> {
  if (NAME.test(id)) return id;
  let cursor: string | undefined;
  for (;;) {
    const page = await svc.list(p, { cursor, limit: 500 });
    const hit = page.items.find((d) => d.id === id);
    if (hit) return hit.name;
    if (!page.nextCursor) throw new SluiceError('SLUICE_DATASOURCE_NOT_FOUND', { name: id });
    cursor = page.nextCursor;
  }
}

/** Linkis connect-param spellings → Sluice parameter names, and text numbers/booleans → values. */
export function sluiceParams(connectParams: Record<string, unknown>): Record<string, unknown> {
  const alias: Record<string, string> = { username: 'user', databaseName: 'database' };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(connectParams)) {
    const key = alias[k] ?? k;
    if (typeof v === 'string' && /^(port|connectTimeoutMs)$/.test(key) && /^\d+$/.test(v)) out[key] = Number(v);
    else if (typeof v === 'string' && /^(tls|readOnly)$/.test(key) && /^(true|false)$/.test(v)) out[key] = v === 'true';
    else out[key] = v;
  }
  return out;
}

/**
 * The `data-source-manager` routes on the data-source service: `type/all`, `key-define/type/{typeId}`,
 * `key-define/{typeName}`, `info` (query), `info/name/{name}`, `publishedInfo/name/{name}`, `info/{id}`,
 * `{id}/versions`, `publish/{id}/{version}`, `info/{id}/expire`, `{id}/{version}/op/connect`,
 * `info/json` (create), `parameter/{id}/json` (new version) and `info/delete/{id}`. `{id}` is a
 * name or a Sluice data-source id (Sluice ids are UUIDs, not numbers).
 */
export function registerDataSourceRoutes(scope: FastifyInstance, ctx: LinkisContext): void {
  const route = (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    fn: (
      p: Principal,
      svc: LinkisDataSources,
      params: Record<string, string>,
      q: Record<string, string>,
      body: Record<string, unknown>,
    ) => Promise<Record<string, unknown>>,
    message?: string,
  ) =>
    addLinkisRoute(scope, method, `${PREFIX}${url}`, async (req, reply) => {
      const principal = await ctx.caller(req, reply);
      const data = await fn(principal, ctx.dataSources(), req.params as Record<string, string>, queryOf(req), bodyOf(req));
      return linkisOk(`/api${req.url.split('?')[0]?.replace(/^\/api\/rest_j\/v1/, '')}`, data, message);
    });

  route('GET', '/type/all', async (_p, svc) => ({ typeList: [...typeIds(svc).byId].map(([id, t]) => linkisType(t, id)) }));

  const keyDefine = (t: TypeDef, typeId: number) =>
    t.keyDefinitions.map((k, i) => ({
      id: String(typeId * 100 + i + 1),
      key: k.key,
      description: k.description,
      name: k.name,
      defaultValue:
        k.defaultValue === null || k.defaultValue === undefined
          ? null
          : typeof k.defaultValue === 'object'
            ? JSON.stringify(k.defaultValue)
            : String(k.defaultValue),
      valueType: k.valueType,
      scope: null,
      require: k.require,
      valueRegex: null,
      refId: null,
      refValue: null,
      dataSource: null,
    }));
  route('GET', '/key-define/type/:typeId', async (_p, svc, params) => {
    const id = Number(params.typeId);
    const t = typeIds(svc).byId.get(id);
    if (!t) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `typeId: no data-source type ${params.typeId}` });
    return { keyDefine: keyDefine(t, id) };
  });
  route('GET', '/key-define/:typeName', async (_p, svc, params) => {
    const { byId, idOf } = typeIds(svc);
    const id = idOf.get(params.typeName ?? '');
    const t = id === undefined ? undefined : byId.get(id);
    if (!t || id === undefined) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `typeName: unknown data-source type ${params.typeName}` });
    return { keyDefine: keyDefine(t, id) };
  });

  route('GET', '/info', async (p, svc, _params, q) => {
    const pageSize = Math.min(Math.max(1, intParam(q, 'pageSize', 10)), 500);
    const currentPage = Math.max(1, intParam(q, 'currentPage', 1));
    const type = q.typeId ? typeIds(svc).byId.get(Number(q.typeId))?.name : undefined;
    const all: LinkisDataSourceView[] = [];
    let cursor: string | undefined;
    do {
      const page = await svc.list(p, { cursor, limit: 500, ...(type ? { type } : {}) });
      all.push(...page.items.filter((d) => !q.name || d.name.includes(q.name)));
      cursor = page.nextCursor ?? undefined;
    } while (cursor && all.length < 10_000);
    const slice = all.slice((currentPage - 1) * pageSize, currentPage * pageSize);
    return { queryList: slice.map((d) => linkisDataSource(d, svc)), totalPage: all.length };
  });
  route('GET', '/info/name/:name', async (p, svc, params) => ({ info: linkisDataSource(await svc.get(p, params.name ?? ''), svc) }));
  route('GET', '/publishedInfo/name/:name', async (p, svc, params) => {
    const ds = await svc.get(p, params.name ?? '');
    if (ds.publishedVersion === null) throw new SluiceError('SLUICE_DATASOURCE_UNPUBLISHED', { name: ds.name });
    return { info: linkisDataSource(ds, svc) };
  });
  route('GET', '/info/:id', async (p, svc, params) => ({ info: linkisDataSource(await svc.get(p, await dataSourceName(svc, p, params.id ?? '')), svc) }));
  route('GET', '/:id/versions', async (p, svc, params) => {
    const name = await dataSourceName(svc, p, params.id ?? '');
    const ds = await svc.get(p, name);
    return { versions: (await svc.versions(p, name)).map((v) => linkisVersion(v, ds.id)) };
  });
  route(
    'POST',
    '/publish/:id/:versionId',
    async (p, svc, params) => {
      const ds = await svc.publish(p, await dataSourceName(svc, p, params.id ?? ''), Number(params.versionId));
      return { publishedVersionId: ds.publishedVersion };
    },
    'publish success',
  );
  route('PUT', '/info/:id/expire', async (p, svc, params) => ({ expireId: (await svc.expire(p, await dataSourceName(svc, p, params.id ?? ''))).id }));
  route('PUT', '/:id/:version/op/connect', async (p, svc, params) => {
    const r = await svc.test(p, await dataSourceName(svc, p, params.id ?? ''), Number(params.version));
    return { ok: r.ok, serverVersion: r.serverVersion ?? null, latencyMs: r.latencyMs };
  });
  route('POST', '/info/json', async (p, svc, _params, _q, body) => {
    const typeId = Number(body.dataSourceTypeId);
    const type = typeIds(svc).byId.get(typeId)?.name ?? (typeof body.dataSourceType === 'string' ? body.dataSourceType : undefined);
    if (!type) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `dataSourceTypeId: no data-source type ${String(body.dataSourceTypeId)}` });
    const connectParams = typeof body.connectParams === 'object' && body.connectParams ? (body.connectParams as Record<string, unknown>) : {};
    const ds = await svc.create(p, {
      name: String(body.dataSourceName ?? ''),
      type,
      description: typeof body.dataSourceDesc === 'string' ? body.dataSourceDesc : undefined,
      params: sluiceParams(connectParams),
    });
    return { insertId: ds.id };
  });
  route('POST', '/parameter/:id/json', async (p, svc, params, _q, body) => {
    const connectParams = typeof body.connectParams === 'object' && body.connectParams ? (body.connectParams as Record<string, unknown>) : {};
    const ds = await svc.update(p, await dataSourceName(svc, p, params.id ?? ''), {
      params: sluiceParams(connectParams),
      comment: typeof body.comment === 'string' ? body.comment : undefined,
    });
    return { version: ds.latestVersion };
  });
  route('DELETE', '/info/delete/:id', async (p, svc, params) => {
    const name = await dataSourceName(svc, p, params.id ?? '');
    const ds = await svc.get(p, name);
    await svc.delete(p, name);
    return { removeId: ds.id };
  });
}
