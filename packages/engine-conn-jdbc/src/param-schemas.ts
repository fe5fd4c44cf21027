import { z } from 'zod';

/** The data-source types the JDBC engine serves. `mysql` and `mariadb` share one driver. */
export const JDBC_DATASOURCE_TYPES = ['postgresql', 'mysql', 'mariadb', 'clickhouse'] as const;
/** One of {@link JDBC_DATASOURCE_TYPES}. */
export type JdbcDataSourceType = (typeof JDBC_DATASOURCE_TYPES)[number];

/** The database family a data-source type talks to: its driver, SQL dialect and catalogs. */
export type JdbcDialect = 'postgresql' | 'mysql' | 'clickhouse';

/** The dialect of a data-source type. */
export function dialectOf(type: JdbcDataSourceType): JdbcDialect {
  return type === 'mariadb' ? 'mysql' : type;
}

const secret = { writeOnly: true, secret: true } as const;

const host = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9._:-]+$/, 'a host name or IP address')
  .describe('server host name or IP address');
const port = (def: number) => z.number().int().min(1).max(65535).default(def).describe('server port');
const user = z.string().min(1).max(128).describe('user name to connect as');
const password = z.string().min(1).max(1024).optional().describe('password (secret: write-only, never logged)').meta(secret);
const connectTimeoutMs = z.number().int().min(100).max(120_000).default(10_000).describe('connect timeout in milliseconds');
const tls = z.boolean().default(false).describe('connect with TLS');
const tlsMode = z
  .enum(['verify-full', 'verify-ca', 'require'])
  .default('verify-full')
  .describe("with tls: how the server's certificate is checked: verify-full (chain and host name), verify-ca (chain only), require (encrypt only)");
const tlsCa = z.string().min(1).max(65_536).optional().describe('with tls: PEM certificates of the authorities to trust instead of the system ones');
const tlsCert = z.string().min(1).max(65_536).optional().describe('with tls: PEM client certificate (chain) presented to the server, with tlsKey');
const tlsKey = z.string().min(1).max(65_536).optional().describe('with tls: PEM private key of tlsCert (secret: write-only, never logged)').meta(secret);

/** Connection parameters of a `postgresql` data source. */
export const postgresqlParamsSchema = z
  .object({
    host,
    port: port(5432),
    database: z.string().min(1).max(128).describe('database name'),
    user,
    password,
    tls,
    tlsMode,
    tlsCa,
    tlsCert,
    tlsKey,
    sslmode: z
      .enum(['disable', 'require', 'verify-ca', 'verify-full'])
      .optional()
      .describe('libpq-style TLS mode; when set it wins over tls and tlsMode (disable = no TLS)'),
    connectTimeoutMs,
    applicationName: z.string().min(1).max(63).default('sluice').describe('application_name of the sessions'),
    searchPath: z.string().min(1).max(1024).optional().describe('search_path set on every session, e.g. "sales, public"'),
  })
  .strict()
  .refine((p) => (p.tlsCert === undefined) === (p.tlsKey === undefined), {
    message: 'a client certificate needs both tlsCert and tlsKey',
    path: ['tlsKey'],
  });
/** Parsed {@link postgresqlParamsSchema}. */
export type PostgresqlParams = z.infer<typeof postgresqlParamsSchema>;

/** Connection parameters of a `mysql` or `mariadb` data source. */
export const mysqlParamsSchema = z
  .object({
    host,
    port: port(3306),
    database: z.string().min(1).max(64).optional().describe('default database; without it, queries name their databases'),
    user,
    password,
    tls,
    tlsMode,
    tlsCa,
    connectTimeoutMs,
    charset: z
      .string()
      .regex(/^[a-z0-9_]+$/i)
      .default('utf8mb4')
      .describe('connection character set'),
    sessionTimeZone: z
      .string()
      .regex(/^([+-]\d{2}:\d{2}|[A-Za-z_]+(\/[A-Za-z_+-]+)*|SYSTEM)$/, "an offset such as +00:00, a zone name, or 'SYSTEM'")
      .optional()
      .describe('time_zone of the session, which TIMESTAMP values are shown in; default: the server’s'),
  })
  .strict();
/** Parsed {@link mysqlParamsSchema}. */
export type MysqlParams = z.infer<typeof mysqlParamsSchema>;

/** Connection parameters of a `clickhouse` data source (its HTTP interface). */
export const clickhouseParamsSchema = z
  .object({
    host,
    port: port(8123),
    database: z.string().min(1).max(128).default('default').describe('default database'),
    user: user.default('default'),
    password,
    tls: tls.describe('use https'),
    tlsMode,
    tlsCa,
    connectTimeoutMs,
    sessionTimeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(3600)
      .describe('how long an idle session (SET, temporary tables) lives; capped by the server’s max_session_timeout'),
    settings: z
      .record(z.string().regex(/^[a-z][a-z0-9_]*$/, 'a ClickHouse setting name'), z.union([z.string().max(1024), z.number(), z.boolean()]))
      .default({})
      .describe('ClickHouse settings sent with every query, e.g. {"max_threads": 4}'),
  })
  .strict();
/** Parsed {@link clickhouseParamsSchema}. */
export type ClickhouseParams = z.infer<typeof clickhouseParamsSchema>;

/** The parameter schema of each data-source type the JDBC engine serves. */
export const jdbcParamsSchemas = {
  postgresql: postgresqlParamsSchema,
  mysql: mysqlParamsSchema,
  mariadb: mysqlParamsSchema,
  clickhouse: clickhouseParamsSchema,
} as const satisfies Record<JdbcDataSourceType, z.ZodObject>;

/**
 * The secret fields of each type: encrypted at rest, write-only through the API, never logged. They
 * carry `writeOnly: true` in the JSON Schema too.
 */
export const jdbcSecretFields: Readonly<Record<JdbcDataSourceType, readonly string[]>> = {
  postgresql: ['password', 'tlsKey'],
  mysql: ['password'],
  mariadb: ['password'],
  clickhouse: ['password'],
};

/** Parsed parameters of any JDBC type, tagged with their dialect. */
export type JdbcParams =
  | { dialect: 'postgresql'; params: PostgresqlParams }
  | { dialect: 'mysql'; params: MysqlParams }
  | { dialect: 'clickhouse'; params: ClickhouseParams };

/** True when `type` is one the JDBC engine serves. */
export function isJdbcDataSourceType(type: string): type is JdbcDataSourceType {
  return (JDBC_DATASOURCE_TYPES as readonly string[]).includes(type);
}
