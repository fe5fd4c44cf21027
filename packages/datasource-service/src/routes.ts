import { type AnyRouteSpec, route } from '@sluice/core';
import { z } from 'zod';
import type { DataSourceService } from './datasource-service.ts';

const NameParams = z.object({ name: z.string().min(1).max(64).describe('data source name') });
const ParamsBody = z.record(z.string(), z.unknown()).describe('connection parameters; see GET /api/v1/datasource-types for each type');

const DataSourceViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  engine: z.string(),
  owner: z.string(),
  description: z.string(),
  latestVersion: z.number().int(),
  publishedVersion: z.number().int().nullable(),
  expired: z.boolean(),
  params: z.record(z.string(), z.unknown()).describe('non-secret parameters; secret fields are write-only'),
  secretsSet: z.array(z.string()).describe('secret fields that have a value'),
  permissions: z.object({ use: z.boolean(), manage: z.boolean() }),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const KeyUsageList = z.array(
  z.object({
    keyId: z.string(),
    active: z.boolean().describe('new data keys are wrapped under this key'),
    configured: z.boolean().describe('this gateway has the key in SLUICE_MASTER_KEYS'),
    records: z.number().int().describe('sealed records whose data key this key wraps'),
  }),
);
const KeyStatusSchema = z.object({ activeKeyId: z.string(), keys: KeyUsageList });
const KeyRotationSchema = z.object({
  activeKeyId: z.string(),
  rewrapped: z.number().int().describe('records re-wrapped by this run'),
  notConfigured: z.number().int().describe('records left alone: their key is not configured on this gateway'),
  before: KeyUsageList,
  after: KeyUsageList,
});
const ShareList = z.object({ items: z.array(z.object({ user: z.string(), permission: z.enum(['use', 'manage']) })) });

/** REST routes of the data-source service, mounted by the gateway under /api/v1. */
export function dataSourceRoutes(svc: DataSourceService): AnyRouteSpec[] {
  const tags = ['datasources'];
  return [
    route({
      method: 'GET',
      url: '/api/v1/datasource-types',
      operationId: 'listDataSourceTypes',
      summary: 'Data-source types with their parameters as JSON Schema and Linkis-style key definitions',
      tags,
      responses: [{ status: 200, description: 'types', schema: z.object({ items: z.array(z.record(z.string(), z.unknown())) }) }],
      handler: async () => ({ items: svc.types() }),
    }),
    route({
      method: 'GET',
      url: '/api/v1/datasources',
      operationId: 'listDataSources',
      summary: 'Data sources you own, are shared with, or (admins) all',
      tags,
      query: z.object({
        cursor: z.string().max(64).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
        type: z.string().max(64).optional(),
      }),
      responses: [{ status: 200, description: 'a page', schema: z.object({ items: z.array(DataSourceViewSchema), nextCursor: z.string().nullable() }) }],
      handler: ({ principal, query }) => svc.list(principal, query),
    }),
    route({
      method: 'POST',
      url: '/api/v1/datasources',
      operationId: 'createDataSource',
      summary: 'Register a data source (draft version 1; publish it to use it)',
      tags,
      body: z
        .object({
          name: z.string(),
          type: z.string(),
          description: z.string().max(1024).optional(),
          params: ParamsBody,
          comment: z.string().max(1024).optional(),
        })
        .strict(),
      responses: [{ status: 201, description: 'created', schema: DataSourceViewSchema }],
      async handler({ principal, body, reply }) {
        const view = await svc.create(principal, body);
        reply.code(201);
        return view;
      },
    }),
    route({
      method: 'GET',
      url: '/api/v1/datasources/:name',
      operationId: 'getDataSource',
      summary: 'A data source (secrets never included)',
      tags,
      params: NameParams,
      responses: [{ status: 200, description: 'the data source', schema: DataSourceViewSchema }],
      handler: ({ principal, params }) => svc.get(principal, params.name),
    }),
    route({
      method: 'PUT',
      url: '/api/v1/datasources/:name',
      operationId: 'updateDataSource',
      summary: 'Add a new version (secret fields left out keep their values)',
      tags,
      params: NameParams,
      body: z.object({ params: ParamsBody, comment: z.string().max(1024).optional(), description: z.string().max(1024).optional() }).strict(),
      responses: [{ status: 200, description: 'the data source with its new latest version', schema: DataSourceViewSchema }],
      handler: ({ principal, params, body }) => svc.update(principal, params.name, body),
    }),
    route({
      method: 'DELETE',
      url: '/api/v1/datasources/:name',
      operationId: 'deleteDataSource',
      summary: 'Delete a data source (refused while unfinished jobs use it)',
      tags,
      params: NameParams,
      responses: [{ status: 204, description: 'deleted' }],
      async handler({ principal, params, reply }) {
        await svc.delete(principal, params.name);
        reply.code(204);
        return reply.send();
      },
    }),
    route({
      method: 'GET',
      url: '/api/v1/datasources/:name/versions',
      operationId: 'listDataSourceVersions',
      summary: 'Full version history',
      tags,
      params: NameParams,
      responses: [{ status: 200, description: 'versions', schema: z.object({ items: z.array(z.record(z.string(), z.unknown())) }) }],
      handler: async ({ principal, params }) => ({ items: await svc.versions(principal, params.name) }),
    }),
    route({
      method: 'POST',
      url: '/api/v1/datasources/:name/versions/:version/publish',
      operationId: 'publishDataSourceVersion',
      summary: 'Publish a version: new engines use its parameters',
      tags,
      params: NameParams.extend({ version: z.coerce.number().int().min(1) }),
      responses: [{ status: 200, description: 'published', schema: DataSourceViewSchema }],
      handler: ({ principal, params }) => svc.publish(principal, params.name, params.version),
    }),
    route({
      method: 'POST',
      url: '/api/v1/datasources/:name/expire',
      operationId: 'expireDataSource',
      summary: 'Expire a data source: no new job may use it',
      tags,
      params: NameParams,
      responses: [{ status: 200, description: 'expired', schema: DataSourceViewSchema }],
      handler: ({ principal, params }) => svc.expire(principal, params.name),
    }),
    route({
      method: 'GET',
      url: '/api/v1/datasources/:name/shares',
      operationId: 'listDataSourceShares',
      summary: 'Users it is shared with',
      tags,
      params: NameParams,
      responses: [{ status: 200, description: 'shares', schema: ShareList }],
      handler: async ({ principal, params }) => ({ items: await svc.shares(principal, params.name) }),
    }),
    route({
      method: 'POST',
      url: '/api/v1/datasources/:name/shares',
      operationId: 'shareDataSource',
      summary: 'Share with a user: to use it (run jobs) or to manage it',
      tags,
      params: NameParams,
      body: z.object({ user: z.string().min(1).max(128), permission: z.enum(['use', 'manage']) }).strict(),
      responses: [{ status: 200, description: 'shares', schema: ShareList }],
      handler: async ({ principal, params, body }) => ({ items: await svc.share(principal, params.name, body.user, body.permission) }),
    }),
    route({
      method: 'DELETE',
      url: '/api/v1/datasources/:name/shares/:user',
      operationId: 'unshareDataSource',
      summary: 'Stop sharing with a user',
      tags,
      params: NameParams.extend({ user: z.string().min(1).max(128) }),
      responses: [{ status: 200, description: 'shares', schema: ShareList }],
      handler: async ({ principal, params }) => ({ items: await svc.share(principal, params.name, params.user, null) }),
    }),
    route({
      method: 'GET',
      url: '/api/v1/datasources/:name/audit',
      operationId: 'dataSourceAudit',
      summary: 'Who did what to a data source (never secret values)',
      tags,
      params: NameParams,
      responses: [{ status: 200, description: 'audit entries', schema: z.object({ items: z.array(z.record(z.string(), z.unknown())) }) }],
      handler: async ({ principal, params }) => ({ items: await svc.audit(principal, params.name) }),
    }),
    route({
      method: 'POST',
      url: '/api/v1/datasources/:name/test',
      operationId: 'testDataSource',
      summary: 'Test the connection of a version (default: the latest) under a time limit',
      tags,
      params: NameParams,
      query: z.object({ version: z.coerce.number().int().min(1).optional() }),
      responses: [
        { status: 200, description: 'reachable', schema: z.object({ ok: z.literal(true), serverVersion: z.string().optional(), latencyMs: z.number() }) },
      ],
      handler: ({ principal, params, query }) => svc.test(principal, params.name, query.version),
    }),
    route({
      method: 'GET',
      url: '/api/v1/datasources/:name/browse',
      operationId: 'browseDataSource',
      summary: 'Browse catalogs, schemas, tables and columns of the published version, paged',
      tags,
      params: NameParams,
      query: z
        .object({
          level: z.enum(['catalogs', 'schemas', 'tables', 'columns']),
          catalog: z.string().max(256).optional(),
          schema: z.string().max(256).optional(),
          table: z.string().max(256).optional(),
          cursor: z.string().max(1024).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        })
        .refine((q) => q.level === 'catalogs' || q.catalog, { message: 'catalog is required below the catalogs level', path: ['catalog'] })
        .refine((q) => !['tables', 'columns'].includes(q.level) || q.schema, { message: 'schema is required for tables and columns', path: ['schema'] })
        .refine((q) => q.level !== 'columns' || q.table, { message: 'table is required for columns', path: ['table'] }),
      responses: [
        {
          status: 200,
          description: 'a page of entries',
          schema: z.object({ items: z.array(z.record(z.string(), z.unknown())), nextCursor: z.string().nullable() }),
        },
      ],
      handler: ({ principal, params, query }) =>
        svc.browse(
          principal,
          params.name,
          { level: query.level, catalog: query.catalog ?? '', schema: query.schema ?? '', table: query.table ?? '' } as never,
          { cursor: query.cursor, limit: query.limit },
        ),
    }),
    route({
      method: 'GET',
      url: '/api/v1/admin/keys',
      operationId: 'masterKeyStatus',
      summary: 'Admins: which master key ids wrap how many data-source records (never key material)',
      tags: ['admin'],
      responses: [{ status: 200, description: 'records per key id', schema: KeyStatusSchema }],
      handler: async ({ principal }) => {
        svc.assertAdmin(principal, 'read the master-key status');
        return svc.keyStatus();
      },
    }),
    route({
      method: 'POST',
      url: '/api/v1/admin/keys/rotate',
      operationId: 'rotateMasterKey',
      summary: 'Admins: re-wrap every data key under the active master key of this gateway, while jobs keep running',
      tags: ['admin'],
      responses: [{ status: 200, description: 'records per key id before and after', schema: KeyRotationSchema }],
      handler: async ({ principal }) => {
        svc.assertAdmin(principal, 'rotate the master key');
        return svc.rotateKeys();
      },
    }),
  ];
}
