/**
 * The dt-sql-parser front end (ADR 6): parses one statement with dt-sql-parser's grammar for the
 * dialect and translates its parse tree to the lineage tree with that grammar's adapter.
 *
 * Grammars load lazily, one per dialect family, on first use: loading and the first parse cost a few
 * hundred milliseconds each. dt-sql-parser is published as ESM with extension-less imports, which plain
 * Node cannot load: from source, tsx loads it; the production build (scripts/build.mjs) bundles each
 * grammar into `dt-sql-parser/<grammar>.cjs` beside the built module, which is loaded instead. If a
 * grammar cannot be loaded, the front end reports itself unavailable and extraction uses the built-in
 * parser.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Dialect } from './dialect.ts';
import type { DtAdapter } from './dt-adapter.ts';
import { FlinkAdapter } from './dt-flink.ts';
import { HiveAdapter } from './dt-hive.ts';
import { MySqlAdapter } from './dt-mysql.ts';
import { PostgresAdapter } from './dt-postgres.ts';
import { SparkAdapter } from './dt-spark.ts';
import { kids, kind, type PNode } from './dt-tree.ts';
import { TrinoAdapter } from './dt-trino.ts';
import type { Statement } from './sql-ast.ts';

/** Dialects dt-sql-parser has a grammar for (DuckDB has none). */
export type DtDialect = Exclude<Dialect, 'duckdb'>;

interface Grammar {
  module: string;
  className: string;
  /** Rule names that wrap one statement in this grammar's tree. */
  statementKinds: readonly string[];
  adapter(dialect: DtDialect, source: string): DtAdapter;
}

const GRAMMARS: Partial<Record<DtDialect, Grammar>> = {
  trino: { module: 'trino', className: 'TrinoSQL', statementKinds: ['SingleStatement'], adapter: (d, s) => new TrinoAdapter(d as 'trino', s) },
  presto: { module: 'trino', className: 'TrinoSQL', statementKinds: ['SingleStatement'], adapter: (d, s) => new TrinoAdapter(d as 'presto', s) },
  flink: { module: 'flink', className: 'FlinkSQL', statementKinds: ['SingleStatement'], adapter: (_d, s) => new FlinkAdapter(s) },
  hive: { module: 'hive', className: 'HiveSQL', statementKinds: ['Statement'], adapter: (_d, s) => new HiveAdapter(s) },
  spark: { module: 'spark', className: 'SparkSQL', statementKinds: ['SingleStatement'], adapter: (_d, s) => new SparkAdapter(s) },
  mysql: { module: 'mysql', className: 'MySQL', statementKinds: ['SingleStatement'], adapter: (_d, s) => new MySqlAdapter(s) },
  postgres: { module: 'postgresql', className: 'PostgreSQL', statementKinds: ['SingleStmt'], adapter: (_d, s) => new PostgresAdapter(s) },
};

interface DtParser {
  parse(input: string, errorListener?: (e: { message: string; startLine?: number; startColumn?: number }) => void): PNode;
}

const parsers = new Map<string, DtParser | Error>();

/** The dialects the dt-sql-parser front end translates. */
export function dtSupports(dialect: Dialect): dialect is DtDialect {
  return dialect !== 'duckdb' && GRAMMARS[dialect as DtDialect] !== undefined;
}

function parserFor(g: Grammar): DtParser {
  let p = parsers.get(g.module);
  if (!p) {
    try {
      const require = createRequire(import.meta.url);
      const bundled = fileURLToPath(new URL(`./dt-sql-parser/${g.module}.cjs`, import.meta.url));
      const mod = require(existsSync(bundled) ? bundled : `dt-sql-parser/dist/parser/${g.module}/index.js`) as Record<string, new () => DtParser>;
      const Ctor = mod[g.className];
      if (!Ctor) throw new Error(`dt-sql-parser has no ${g.className}`);
      p = new Ctor();
    } catch (e) {
      p = new Error(`dt-sql-parser could not be loaded: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
    parsers.set(g.module, p);
  }
  if (p instanceof Error) throw p;
  return p;
}

/** The outcome of parsing one statement with dt-sql-parser. */
export type DtParse = { ok: true; statement: Statement } | { ok: false; reason: string; syntax: boolean };

/** Parses one statement's text; never throws. */
export function dtParseStatement(text: string, dialect: DtDialect): DtParse {
  const g = GRAMMARS[dialect];
  if (!g) return { ok: false, reason: `no dt-sql-parser adapter for ${dialect}`, syntax: false };
  let parser: DtParser;
  try {
    parser = parserFor(g);
  } catch (e) {
    return { ok: false, reason: (e as Error).message, syntax: false };
  }
  const errors: string[] = [];
  let tree: PNode;
  try {
    tree = parser.parse(text, (e) => errors.push(e.message));
  } catch (e) {
    return { ok: false, reason: `dt-sql-parser failed: ${(e as Error).message}`, syntax: true };
  }
  if (errors.length) return { ok: false, reason: `dt-sql-parser: ${errors[0]}`, syntax: true };
  const stmts: PNode[] = [];
  const collect = (n: PNode) => {
    for (const c of kids(n)) {
      if (g.statementKinds.includes(kind(c))) stmts.push(c);
      else if (!c.symbol) collect(c);
    }
  };
  collect(tree);
  if (stmts.length === 0) return { ok: false, reason: 'dt-sql-parser found no statement', syntax: true };
  try {
    const adapter = g.adapter(dialect, text);
    const out = adapter.combine(stmts.map((s) => adapter.statement(s)));
    return { ok: true, statement: out.length === 1 ? (out[0] as Statement) : { kind: 'block', statements: out } };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e), syntax: false };
  }
}
