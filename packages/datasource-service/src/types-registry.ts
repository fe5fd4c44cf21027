import { z } from 'zod';

const host = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9._:-]+$/, 'a host name or IP address')
  .describe('server host name or IP address');
const port = (def: number) => z.number().int().min(1).max(65535).default(def).describe('server port');
const user = z.string().min(1).max(128).describe('user name to connect as');
const password = z.string().min(1).max(1024).optional().describe('password (secret: write-only)');
const connectTimeoutMs = z.number().int().min(100).max(120_000).default(10_000).describe('connect timeout in milliseconds');

/** How a type's fields map onto the Linkis key definitions (`valueType` of `linkis_ps_dm_datasource_type_key`). */
export type LinkisValueType = 'TEXT' | 'PASSWORD' | 'NUMBER' | 'SELECT' | 'MAP' | 'RADIO';

/** A data-source type: its connector and its connection parameters as a zod schema. */
export interface DataSourceTypeDef {
  /** Type name, e.g. `postgresql`. */
  name: string;
  displayName: string;
  /** Linkis-style classifier, e.g. relational database, query engine. */
  classifier: string;
  /** Engine that runs jobs on this type (`jdbc`, `trino`, `presto`, `flink`, `spark`, `duckdb`). */
  engine: string;
  description: string;
  params: z.ZodObject;
  /** Fields that are secrets: encrypted at rest, write-only through the API, redacted everywhere. */
  secretFields: readonly string[];
}

const relational = (name: string, displayName: string, defPort: number, extra: z.ZodRawShape = {}): DataSourceTypeDef => ({
  name,
  displayName,
  classifier: 'relational database',
  engine: 'jdbc',
  description: `${displayName} through the JDBC engine`,
  params: z
    .object({
      host,
      port: port(defPort),
      database: z.string().min(1).max(128).describe('database name'),
      user,
      password,
      tls: z.boolean().default(false).describe('connect with TLS'),
      connectTimeoutMs,
      ...extra,
    })
    .strict(),
  secretFields: ['password'],
});

const queryEngine = (name: 'trino' | 'presto', displayName: string): DataSourceTypeDef => ({
  name,
  displayName,
  classifier: 'query engine',
  engine: name,
  description: `A ${displayName} cluster through its client REST protocol`,
  params: z
    .object({
      host,
      port: port(8080),
      user: user.optional().describe('user for authentication (the Sluice user is forwarded as the query user)'),
      password: password.describe('password for Basic authentication (secret)'),
      jwt: z.string().min(1).max(8192).optional().describe('JWT for bearer authentication (secret)'),
      catalog: z.string().max(128).optional().describe('default catalog'),
      schema: z.string().max(128).optional().describe('default schema'),
      sessionProperties: z.record(z.string(), z.string()).default({}).describe('session properties set on every session'),
      tls: z.boolean().default(false).describe('use https'),
    })
    .strict(),
  secretFields: ['password', 'jwt'],
});

/** Every data-source type this build knows. */
export const DATASOURCE_TYPES: readonly DataSourceTypeDef[] = [
  relational('postgresql', 'PostgreSQL', 5432, { sslmode: z.enum(['disable', 'require', 'verify-full']).default('disable').describe('TLS mode') }),
  relational('mysql', 'MySQL', 3306),
  relational('mariadb', 'MariaDB', 3306),
  {
    ...relational('clickhouse', 'ClickHouse', 8123),
    classifier: 'olap database',
    params: z
      .object({
        host,
        port: port(8123),
        database: z.string().min(1).max(128).default('default').describe('database name'),
        user: user.default('default'),
        password,
        tls: z.boolean().default(false).describe('use https'),
        connectTimeoutMs,
      })
      .strict(),
  },
  queryEngine('trino', 'Trino'),
  queryEngine('presto', 'Presto'),
  {
    name: 'flink-sql-gateway',
    displayName: 'Flink SQL Gateway',
    classifier: 'stream engine',
    engine: 'flink',
    description: 'A Flink cluster through its SQL Gateway REST API',
    params: z
      .object({
        host,
        port: port(8083),
        sessionProperties: z.record(z.string(), z.string()).default({}).describe('session properties, e.g. execution.runtime-mode'),
        tls: z.boolean().default(false),
      })
      .strict(),
    secretFields: [],
  },
  {
    name: 'spark',
    displayName: 'Spark',
    classifier: 'compute engine',
    engine: 'spark',
    description: 'Spark: a master URL for engines Sluice launches, or a Spark Connect endpoint',
    params: z
      .object({
        master: z.string().max(512).optional().describe('master URL: local[*], spark://host:7077, yarn, k8s://…'),
        connectUrl: z
          .string()
          .max(512)
          .regex(/^sc:\/\//, 'a Spark Connect URL sc://host:port')
          .optional()
          .describe('Spark Connect endpoint'),
        token: z.string().max(8192).optional().describe('Spark Connect bearer token (secret)'),
        conf: z.record(z.string(), z.string()).default({}).describe('Spark configuration'),
      })
      .strict()
      .refine((p) => Boolean(p.master) !== Boolean(p.connectUrl), { message: 'give exactly one of master or connectUrl' }),
    secretFields: ['token'],
  },
  {
    name: 'duckdb-file',
    displayName: 'DuckDB file',
    classifier: 'embedded database',
    engine: 'duckdb',
    description: 'A DuckDB database file on the engine manager host',
    params: z
      .object({
        path: z.string().min(1).max(1024).describe('absolute path of the database file'),
        readOnly: z.boolean().default(true).describe('open read-only'),
      })
      .strict(),
    secretFields: [],
  },
];

const BY_NAME = new Map(DATASOURCE_TYPES.map((t) => [t.name, t]));

/** Looks a type up by name. */
export function dataSourceType(name: string): DataSourceTypeDef | undefined {
  return BY_NAME.get(name);
}

/** Linkis-style key definitions of a type, for UIs that render a form and for the Linkis-compatible API. */
export function keyDefinitions(t: DataSourceTypeDef): {
  key: string;
  name: string;
  valueType: LinkisValueType;
  require: boolean;
  defaultValue: unknown;
  description: string;
}[] {
  const schema = z.toJSONSchema(t.params, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, { type?: string; default?: unknown; description?: string; enum?: unknown[] }>;
    required?: string[];
  };
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([key, p]) => ({
    key,
    name: key,
    valueType: t.secretFields.includes(key)
      ? 'PASSWORD'
      : p.enum
        ? 'SELECT'
        : p.type === 'integer' || p.type === 'number'
          ? 'NUMBER'
          : p.type === 'boolean'
            ? 'RADIO'
            : p.type === 'object'
              ? 'MAP'
              : 'TEXT',
    require: required.has(key),
    defaultValue: p.default ?? null,
    description: p.description ?? '',
  }));
}
