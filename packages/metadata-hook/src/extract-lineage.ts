import type { Dialect } from './dialect.ts';
import { dtParseStatement, dtSupports } from './dt-front-end.ts';
import { LineageResolver } from './lineage-resolver.ts';
import type { ExtractionContext, ExtractionError, FrontEndChoice, LineageFrontEnd, LineageResult } from './lineage-types.ts';
import type { Statement } from './sql-ast.ts';
import { parseScript } from './sql-parser.ts';

const MAX_TASK_TEXT = 2000;

/** Options of {@link extractLineage}. */
export interface ExtractOptions {
  /**
   * `auto` (the default): dt-sql-parser for the dialects it has a grammar for, the built-in parser
   * for a statement it cannot take and for DuckDB. `dt-sql-parser` or `built-in`: that parser only
   * (a statement it cannot take is an extraction error), for tests and comparisons.
   */
  frontEnd?: FrontEndChoice;
  /** Skip the result cache. */
  noCache?: boolean;
}

/** A small LRU of extraction results: extraction runs on the job path, and jobs repeat their SQL. */
class ResultCache {
  private readonly map = new Map<string, LineageResult>();
  constructor(
    private readonly maxEntries: number,
    private readonly maxKeyChars: number,
  ) {}

  get(key: string): LineageResult | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return structuredClone(v);
  }

  set(key: string, value: LineageResult): void {
    if (key.length > this.maxKeyChars) return;
    this.map.delete(key);
    this.map.set(key, structuredClone(value));
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value;
      if (oldest === undefined) break;
      this.map.delete(oldest);
    }
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}

const cache = new ResultCache(256, 256 * 1024);

/** Empties the extraction cache (tests, or after the catalog changed). */
export function clearLineageCache(): void {
  cache.clear();
}

/**
 * Finds the datasets a SQL script reads and writes, and the column lineage between them.
 *
 * Statements are split by the built-in lexer, then each is parsed by dt-sql-parser (ADR 6) when the
 * dialect has a grammar there, else (or when dt-sql-parser rejects it) by the built-in parser. The
 * result says which did (`frontEnd`, `fallbacks`). Statements are resolved in order, so a view or
 * table created earlier in the script is known to later statements (`SELECT *` through a view
 * expands to the view's columns). A statement that cannot be parsed or resolved is reported in
 * `errors` and skipped; the others still contribute. Results are cached per (dialect, context,
 * text). This never throws: lineage must never stop a job.
 */
export function extractLineage(sql: string, dialect: Dialect, ctx: ExtractionContext, options: ExtractOptions = {}): LineageResult {
  const choice = options.frontEnd ?? 'auto';
  const key = lineageCacheKey(sql, dialect, ctx, choice);
  if (!options.noCache) {
    const hit = cachedLineage(key);
    if (hit) return hit;
  }
  const result = extractUncached(sql, dialect, ctx, choice);
  if (!options.noCache) cacheLineage(key, result);
  return result;
}

/** The cache key of one extraction (internal: shared with the worker pool, which caches in the main thread). */
export function lineageCacheKey(sql: string, dialect: Dialect, ctx: ExtractionContext, choice: FrontEndChoice): string {
  return `${dialect}\u0000${choice}\u0000${JSON.stringify(ctx)}\u0000${sql}`;
}

/** A copy of a cached result, if any (internal). */
export function cachedLineage(key: string): LineageResult | undefined {
  return cache.get(key);
}

/** Caches a result (internal). Results that carry a time-out or a worker crash must not be cached. */
export function cacheLineage(key: string, result: LineageResult): void {
  cache.set(key, result);
}

/** A result that stands for a whole script that could not be analysed (time-out, crash, full queue). */
export function failedLineage(sql: string, message: string, frontEnd: LineageFrontEnd): LineageResult {
  return {
    inputs: [],
    outputs: [],
    totalStatements: 1,
    errors: [{ errorMessage: message, task: clip(sql), taskNumber: 0 }],
    warnings: [],
    frontEnd,
    fallbacks: [],
  };
}

/** {@link extractLineage} without the cache: what a lineage worker runs (internal). Never throws. */
export function extractUncached(sql: string, dialect: Dialect, ctx: ExtractionContext, choice: FrontEndChoice): LineageResult {
  const errors: ExtractionError[] = [];
  const fallbacks: { taskNumber: number; reason: string }[] = [];
  const used = new Set<'dt-sql-parser' | 'built-in'>();
  const useDt = choice !== 'built-in' && dtSupports(dialect);
  try {
    const resolver = new LineageResolver(dialect, ctx);
    const parsed = parseScript(sql, dialect);
    for (const p of parsed) {
      let statement: Statement | undefined;
      let error: string | undefined;
      if (useDt && dtSupports(dialect) && p.text) {
        const r = dtParseStatement(p.text, dialect);
        if (r.ok) {
          statement = r.statement;
          used.add('dt-sql-parser');
        } else if (choice === 'dt-sql-parser') error = r.reason;
        else fallbacks.push({ taskNumber: p.index, reason: r.reason });
      } else if (choice === 'dt-sql-parser') {
        error = p.error?.message ?? `dt-sql-parser has no grammar for ${dialect}`;
      }
      if (!statement && error === undefined) {
        if (p.statement) {
          statement = p.statement;
          used.add('built-in');
        } else error = p.error?.message ?? 'unparseable statement';
      }
      if (!statement) {
        errors.push({ errorMessage: error ?? 'unparseable statement', task: clip(p.text), taskNumber: p.index });
        continue;
      }
      try {
        resolver.statement(statement);
      } catch (e) {
        errors.push({ errorMessage: e instanceof Error ? e.message : String(e), task: clip(p.text), taskNumber: p.index });
      }
    }
    return {
      inputs: resolver.inputList(),
      outputs: resolver.outputList(),
      totalStatements: parsed.length,
      errors,
      warnings: [...new Set(resolver.warnings)],
      frontEnd: frontEndOf(used, useDt),
      fallbacks,
    };
  } catch (e) {
    errors.push({ errorMessage: e instanceof Error ? e.message : String(e), task: clip(sql), taskNumber: 0 });
    return { inputs: [], outputs: [], totalStatements: 1, errors, warnings: [], frontEnd: useDt ? 'dt-sql-parser' : 'built-in', fallbacks };
  }
}

function frontEndOf(used: Set<string>, useDt: boolean): LineageFrontEnd {
  if (used.size === 2) return 'mixed';
  if (used.has('dt-sql-parser')) return 'dt-sql-parser';
  if (used.has('built-in')) return 'built-in';
  return useDt ? 'dt-sql-parser' : 'built-in';
}

function clip(text: string): string {
  return text.length > MAX_TASK_TEXT ? `${text.slice(0, MAX_TASK_TEXT)}…` : text;
}
