/**
 * Code type → language, as Linkis' `linkis.codeType.language.relation` default
 * (`sql=>sql|hql|jdbc|hive|psql|fql|tsql|nebula|ngql|aisql|starrocks, python=>python|py|pyspark|py3,
 * java=>java, scala=>scala, shell=>sh|shell, json=>json|data_calc`), plus `duckdb` (sql) and `bash` (shell).
 */

/** The script languages the interceptors know. */
export type Language = 'sql' | 'python' | 'shell' | 'scala' | 'java' | 'json';

const LANGUAGE_OF: Readonly<Record<string, Language>> = Object.freeze({
  sql: 'sql',
  hql: 'sql',
  jdbc: 'sql',
  hive: 'sql',
  psql: 'sql',
  fql: 'sql',
  tsql: 'sql',
  nebula: 'sql',
  ngql: 'sql',
  aisql: 'sql',
  starrocks: 'sql',
  duckdb: 'sql',
  python: 'python',
  py: 'python',
  pyspark: 'python',
  py3: 'python',
  java: 'java',
  scala: 'scala',
  sh: 'shell',
  shell: 'shell',
  bash: 'shell',
  json: 'json',
  data_calc: 'json',
});

/**
 * SQL code types that get the row limit. Not tsql (SQL Server has no LIMIT) nor nebula/ngql (graph
 * queries, where LIMIT is a pipe clause).
 */
const ROW_LIMIT_TYPES: ReadonlySet<string> = new Set(['sql', 'hql', 'jdbc', 'hive', 'psql', 'fql', 'aisql', 'starrocks', 'duckdb']);

/** Hive/Spark/MySQL-family code types, whose string literals use backslash escapes. */
const BACKSLASH_TYPES: ReadonlySet<string> = new Set(['hql', 'hive', 'starrocks']);

/** Code types whose dialect also has `#` line comments (MySQL protocol). */
const HASH_COMMENT_TYPES: ReadonlySet<string> = new Set(['starrocks']);

/** The language of a code type (case-insensitive), or undefined for an unknown one. */
export function languageOf(codeType: string): Language | undefined {
  return LANGUAGE_OF[codeType.trim().toLowerCase()];
}

/** Whether `applyRowLimit` rewrites code of this type. */
export function isRowLimitCodeType(codeType: string): boolean {
  return ROW_LIMIT_TYPES.has(codeType.trim().toLowerCase());
}

/** Lexical flavour of a SQL code type. */
export function sqlDialectOf(codeType: string): { backslashEscapes: boolean; hashComments: boolean } {
  const t = codeType.trim().toLowerCase();
  return { backslashEscapes: BACKSLASH_TYPES.has(t), hashComments: HASH_COMMENT_TYPES.has(t) };
}
