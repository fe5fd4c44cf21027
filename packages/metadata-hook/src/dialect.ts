/** The SQL dialects lineage extraction understands. */
export type Dialect = 'trino' | 'presto' | 'spark' | 'hive' | 'flink' | 'postgres' | 'mysql' | 'duckdb';

/** Every supported dialect, in a stable order. */
export const DIALECTS: readonly Dialect[] = ['trino', 'presto', 'spark', 'hive', 'flink', 'postgres', 'mysql', 'duckdb'];

/** How a dialect quotes, folds and qualifies names. */
export interface DialectRules {
  /** Characters that open a quoted identifier, mapped to the character that closes it. */
  identQuotes: Readonly<Record<string, string>>;
  /** Whether a double-quoted token is a string literal (MySQL, Hive, Spark) rather than an identifier. */
  doubleQuoteIsString: boolean;
  /** How unquoted identifiers are folded. */
  foldUnquoted: 'lower' | 'none';
  /** How quoted identifiers are folded (Trino, Hive and Spark compare names case-insensitively). */
  foldQuoted: 'lower' | 'none';
  /** Number of parts of a fully qualified table name (`catalog.schema.table` = 3, `db.table` = 2). */
  nameParts: 2 | 3;
  /** The default for the first part when the caller gives none (for 3-part dialects, the catalog). */
  defaultCatalog?: string;
  /** The default schema (database for 2-part dialects) when the caller gives none. */
  defaultSchema?: string;
  /** Whether `$tag$ … $tag$` strings exist (PostgreSQL, DuckDB). */
  dollarQuotes: boolean;
  /** Whether a backslash escapes inside string literals (MySQL, Hive, Spark). */
  backslashEscapes: boolean;
}

const BACKTICK = { '`': '`' } as const;
const DOUBLE = { '"': '"' } as const;

/** The naming and lexical rules of each dialect (OpenLineage naming: `website/docs/spec/naming.md`). */
export const DIALECT_RULES: Readonly<Record<Dialect, DialectRules>> = {
  trino: {
    identQuotes: DOUBLE,
    doubleQuoteIsString: false,
    foldUnquoted: 'lower',
    foldQuoted: 'lower',
    nameParts: 3,
    dollarQuotes: false,
    backslashEscapes: false,
  },
  presto: {
    identQuotes: DOUBLE,
    doubleQuoteIsString: false,
    foldUnquoted: 'lower',
    foldQuoted: 'lower',
    nameParts: 3,
    dollarQuotes: false,
    backslashEscapes: false,
  },
  spark: {
    identQuotes: BACKTICK,
    doubleQuoteIsString: true,
    foldUnquoted: 'lower',
    foldQuoted: 'lower',
    nameParts: 2,
    defaultSchema: 'default',
    dollarQuotes: false,
    backslashEscapes: true,
  },
  hive: {
    identQuotes: BACKTICK,
    doubleQuoteIsString: true,
    foldUnquoted: 'lower',
    foldQuoted: 'lower',
    nameParts: 2,
    defaultSchema: 'default',
    dollarQuotes: false,
    backslashEscapes: true,
  },
  flink: {
    identQuotes: BACKTICK,
    doubleQuoteIsString: false,
    foldUnquoted: 'none',
    foldQuoted: 'none',
    nameParts: 3,
    defaultCatalog: 'default_catalog',
    defaultSchema: 'default_database',
    dollarQuotes: false,
    backslashEscapes: false,
  },
  postgres: {
    identQuotes: DOUBLE,
    doubleQuoteIsString: false,
    foldUnquoted: 'lower',
    foldQuoted: 'none',
    nameParts: 3,
    defaultSchema: 'public',
    dollarQuotes: true,
    backslashEscapes: false,
  },
  mysql: {
    identQuotes: BACKTICK,
    doubleQuoteIsString: true,
    foldUnquoted: 'none',
    foldQuoted: 'none',
    nameParts: 2,
    dollarQuotes: false,
    backslashEscapes: true,
  },
  duckdb: {
    identQuotes: DOUBLE,
    doubleQuoteIsString: false,
    foldUnquoted: 'lower',
    foldQuoted: 'none',
    nameParts: 3,
    defaultCatalog: 'memory',
    defaultSchema: 'main',
    dollarQuotes: true,
    backslashEscapes: false,
  },
};

/** Type guard for a dialect name. */
export function isDialect(value: string): value is Dialect {
  return (DIALECTS as readonly string[]).includes(value);
}
