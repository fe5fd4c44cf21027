import { DIALECT_RULES, type Dialect } from './dialect.ts';
import type { DatasetId } from './lineage-types.ts';

/** The session defaults that fill in unqualified names. */
export interface NamingDefaults {
  catalog?: string;
  schema?: string;
}

/**
 * The dataset name of a table reference, per the dialect's OpenLineage naming convention:
 * `catalog.schema.table` (Trino, Presto, Flink), `db.schema.table` (PostgreSQL, DuckDB) and
 * `db.table` (MySQL, Hive, Spark). Missing leading parts come from the session defaults, then the
 * dialect's own defaults (`public`, `main`, `default`, …); a part with no default is left out.
 * Spark's three-part names (`catalog.db.table`) are kept as written.
 */
export function qualifyTableName(parts: readonly string[], dialect: Dialect, defaults: NamingDefaults): string {
  const rules = DIALECT_RULES[dialect];
  const want = rules.nameParts;
  if (parts.length >= want) return parts.join('.');
  const catalog = defaults.catalog ?? rules.defaultCatalog;
  const schema = defaults.schema ?? rules.defaultSchema;
  const out = [...parts];
  if (want === 3) {
    if (out.length === 1 && schema !== undefined) out.unshift(schema);
    if (out.length === 2 && catalog !== undefined) out.unshift(catalog);
  } else if (out.length === 1 && schema !== undefined) {
    out.unshift(schema);
  }
  return out.join('.');
}

const FILE_SCHEMES = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)(\/.*)?$/i;

/**
 * The dataset of a file path (DuckDB `read_parquet('s3://b/k')`, Spark ``parquet.`/p` ``), per the
 * OpenLineage naming spec: `s3://bucket` + key, `hdfs://host:port` + path, `file` + absolute path.
 */
export function fileDataset(path: string): DatasetId {
  const m = FILE_SCHEMES.exec(path);
  if (m) {
    const scheme = (m[1] ?? '').toLowerCase();
    const authority = m[2] ?? '';
    const rest = m[3] ?? '/';
    if (scheme === 'file') return { namespace: 'file', name: rest };
    const key = scheme === 's3' || scheme === 's3a' || scheme === 'gs' || scheme === 'gcs' ? rest.replace(/^\//, '') : rest;
    return { namespace: `${scheme === 's3a' ? 's3' : scheme}://${authority}`, name: key };
  }
  return { namespace: 'file', name: path };
}

/** A Flink connector table's physical dataset, from its `WITH (…)` options; undefined when unknown. */
export function flinkConnectorDataset(options: Record<string, string>): DatasetId | undefined {
  const connector = options.connector?.toLowerCase();
  if (!connector) return undefined;
  if (connector === 'kafka' || connector === 'upsert-kafka') {
    const servers = options['properties.bootstrap.servers']?.split(',')[0]?.trim();
    const topic = options.topic ?? options['topic-pattern'];
    if (!servers || !topic) return undefined;
    return { namespace: `kafka://${servers}`, name: topic };
  }
  if (connector === 'jdbc') {
    const url = options.url;
    const table = options['table-name'];
    if (!url || !table) return undefined;
    const m = /^jdbc:([a-z]+):\/\/([^/?;]+)\/?([^?;]*)/i.exec(url);
    if (!m) return undefined;
    const scheme = (m[1] ?? '').toLowerCase() === 'postgresql' ? 'postgres' : (m[1] ?? '').toLowerCase();
    const db = m[3] ?? '';
    const tableParts = table.split('.');
    const name =
      scheme === 'postgres'
        ? [db, ...(tableParts.length === 1 ? ['public'] : []), ...tableParts].filter(Boolean).join('.')
        : [db, ...tableParts].filter(Boolean).join('.');
    return { namespace: `${scheme}://${m[2]}`, name };
  }
  if (connector === 'filesystem') {
    return options.path ? fileDataset(options.path) : undefined;
  }
  return undefined;
}
