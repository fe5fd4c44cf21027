import { SluiceError } from '@sluice/core';
import { z } from 'zod';

/** The setting that overrides the Linkis engine-type mapping (read raw until it joins the config schema). */
export const ENGINE_MAP_SETTING = 'SLUICE_LINKIS_ENGINE_MAP';

/** Runtime/start-up parameters that name the data source of a job, in the order they are read. */
export const DATA_SOURCE_PARAMS: readonly string[] = ['linkis.datasource', 'wds.linkis.datasource', 'wds.linkis.engine.runtime.datasource'];

/** Linkis SQL-family code types, run as `sql` by Sluice's SQL connectors. */
export const SQL_CODE_TYPES: Readonly<Record<string, string>> = Object.freeze({ hql: 'sql', tsql: 'sql', psql: 'sql', jdbc: 'sql', fql: 'sql', hive: 'sql' });

/** How one Linkis engine type runs on Sluice. */
export const EngineMapEntrySchema = z
  .object({
    engine: z
      .string()
      .regex(/^[a-z][a-z0-9_]*(-[0-9A-Za-z._]+)?$/, 'a Sluice engine type: name or name-version, e.g. duckdb or duckdb-1.5')
      .describe('Sluice engine type; without a version the connector default runs'),
    dataSource: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'a data-source name')
      .optional()
      .describe('data source every job of this type runs on'),
    dataSourceParams: z.array(z.string().min(1).max(128)).max(16).optional().describe('runtime or start-up parameters that name the data source'),
    requireDataSource: z.boolean().optional().describe('refuse jobs that name no data source'),
    codeTypes: z.record(z.string().min(1).max(32), z.string().min(1).max(32)).optional().describe('Linkis code type → Sluice code type'),
  })
  .strict();

/** How one Linkis engine type runs on Sluice. */
export type EngineMapEntry = z.infer<typeof EngineMapEntrySchema>;

const PATTERN = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.*-]+$/, 'a Linkis engineType pattern: letters, digits, . _ - and * wildcards, e.g. spark-3* or jdbc-4');

/** The setting's shape: pattern → entry, or null to remove a default. */
export const EngineMapSettingSchema = z.record(PATTERN, EngineMapEntrySchema.nullable());

/**
 * The default mapping. Keys are patterns on the Linkis label `type-version` (`*` matches anything, and
 * `name-*` also matches a bare `name`). Types without a Sluice engine (hive, python, …) are absent and
 * fail with a clear error until the setting maps them.
 */
export const DEFAULT_ENGINE_MAP: Readonly<Record<string, EngineMapEntry>> = Object.freeze({
  'duckdb-*': { engine: 'duckdb', codeTypes: { ...SQL_CODE_TYPES } },
  'shell-*': { engine: 'shell' },
  'jdbc-*': { engine: 'jdbc', dataSourceParams: [...DATA_SOURCE_PARAMS], requireDataSource: true, codeTypes: { ...SQL_CODE_TYPES } },
  'trino-*': { engine: 'trino', dataSourceParams: [...DATA_SOURCE_PARAMS], requireDataSource: true, codeTypes: { ...SQL_CODE_TYPES } },
  'presto-*': { engine: 'presto', dataSourceParams: [...DATA_SOURCE_PARAMS], requireDataSource: true, codeTypes: { ...SQL_CODE_TYPES } },
  'spark-*': { engine: 'spark', dataSourceParams: [...DATA_SOURCE_PARAMS], codeTypes: { ...SQL_CODE_TYPES } },
  'flink-*': { engine: 'flink', dataSourceParams: [...DATA_SOURCE_PARAMS], codeTypes: { ...SQL_CODE_TYPES } },
});

/** Where a Linkis job runs on Sluice: the fields of a Sluice submission. */
export interface EngineRoute {
  engineType: string;
  codeType: string;
  dataSource?: string;
  /** The pattern that matched, for messages. */
  pattern: string;
}

function globBody(pattern: string): string {
  return pattern
    .toLowerCase()
    .split('*')
    .map((p) => p.replace(/[.+?^${}()|[\]\\-]/g, '\\$&'))
    .join('.*');
}

function globToRegExp(pattern: string): RegExp {
  // `name-*` also matches the bare name (the legacy execute API names engines without a version).
  const bare = pattern.endsWith('-*') ? `|${globBody(pattern.slice(0, -2))}` : '';
  return new RegExp(`^(?:${globBody(pattern)}${bare})$`);
}

/** The mapping from Linkis `engineType` labels to Sluice engines and data sources. */
export class EngineMap {
  private readonly entries: { pattern: string; re: RegExp; entry: EngineMapEntry }[];

  /** `overrides` come first (in their order), then the defaults they do not replace or remove. */
  constructor(overrides: Readonly<Record<string, EngineMapEntry | null>> = {}, defaults: Readonly<Record<string, EngineMapEntry>> = DEFAULT_ENGINE_MAP) {
    const all: [string, EngineMapEntry | null][] = [...Object.entries(overrides), ...Object.entries(defaults).filter(([k]) => !(k in overrides))];
    this.entries = all.filter((e): e is [string, EngineMapEntry] => e[1] !== null).map(([pattern, entry]) => ({ pattern, re: globToRegExp(pattern), entry }));
  }

  /** The patterns in the order they are tried. */
  get patterns(): string[] {
    return this.entries.map((e) => e.pattern);
  }

  /** The entry for a Linkis label, exact key first, then the first pattern that matches. */
  entryFor(label: string): { pattern: string; entry: EngineMapEntry } | undefined {
    const l = label.toLowerCase();
    return this.entries.find((e) => e.pattern.toLowerCase() === l) ?? this.entries.find((e) => e.re.test(l));
  }

  /**
   * Resolves a Linkis job: the Sluice engine, the code type and the data source named by the entry or
   * by the job's runtime/start-up parameters. Unknown types and missing data sources are user errors
   * that name what to set.
   */
  resolve(label: string, codeType: string, runtime: Record<string, unknown> = {}, startup: Record<string, unknown> = {}): EngineRoute {
    const found = this.entryFor(label);
    if (!found) {
      throw new SluiceError(
        'SLUICE_JOB_ENGINE_UNKNOWN',
        { engineType: label, known: this.patterns, setting: ENGINE_MAP_SETTING },
        `Unknown engine type "${label}": no Sluice engine is mapped to it (mapped: ${this.patterns.join(', ')}); map it in ${ENGINE_MAP_SETTING}, e.g. {"${label.split('-')[0]}-*": {"engine": "trino", "dataSource": "<name>"}}`,
      );
    }
    const { pattern, entry } = found;
    let dataSource = entry.dataSource;
    for (const key of entry.dataSourceParams ?? []) {
      if (dataSource) break;
      const v = runtime[key] ?? startup[key];
      if (typeof v === 'string' && v.trim()) dataSource = v.trim();
    }
    if (!dataSource && entry.requireDataSource) {
      const keys = entry.dataSourceParams?.length ? entry.dataSourceParams : [...DATA_SOURCE_PARAMS];
      throw new SluiceError('SLUICE_REQUEST_INVALID', {
        summary: `${label} jobs run on a registered data source: set params.configuration.runtime["${keys[0]}"]${keys.length > 1 ? ` (or ${keys.slice(1).join(', ')})` : ''} to its name`,
        engineType: label,
      });
    }
    const ct = codeType.toLowerCase();
    const mapped = entry.codeTypes?.[ct] ?? ct;
    return { engineType: entry.engine, codeType: mapped, ...(dataSource ? { dataSource } : {}), pattern };
  }
}

/**
 * Reads {@link ENGINE_MAP_SETTING} from the environment: a JSON object of pattern → entry (or null to
 * drop a default), validated with zod. A bad value stops start-up with SLUICE_CONFIG_INVALID naming it.
 */
export function loadEngineMap(env: Record<string, string | undefined> = process.env): EngineMap {
  const raw = env[ENGINE_MAP_SETTING];
  if (raw === undefined || raw.trim() === '') return new EngineMap();
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new SluiceError('SLUICE_CONFIG_INVALID', { setting: ENGINE_MAP_SETTING, reason: `not JSON: ${(err as Error).message}` });
  }
  const parsed = EngineMapSettingSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(value)';
    throw new SluiceError('SLUICE_CONFIG_INVALID', {
      setting: ENGINE_MAP_SETTING,
      reason: `${where}: ${issue?.message ?? 'invalid'}; expected {"<linkis engineType pattern>": {"engine": "<sluice engine>", "dataSource"?: "<name>", "dataSourceParams"?: ["…"], "requireDataSource"?: true, "codeTypes"?: {"hql": "sql"}} | null}`,
    });
  }
  return new EngineMap(parsed.data);
}
