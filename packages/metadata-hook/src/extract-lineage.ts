import type { Dialect } from './dialect.ts';
import { LineageResolver } from './lineage-resolver.ts';
import type { ExtractionContext, ExtractionError, LineageResult } from './lineage-types.ts';
import { parseScript } from './sql-parser.ts';

const MAX_TASK_TEXT = 2000;

/**
 * Finds the datasets a SQL script reads and writes, and the column lineage between them.
 *
 * Statements are resolved in order, so a view or table created earlier in the script is known to
 * later statements (`SELECT *` through a view expands to the view's columns). A statement that cannot
 * be parsed or resolved is reported in `errors` and skipped; the others still contribute. This never
 * throws: lineage must never stop a job.
 */
export function extractLineage(sql: string, dialect: Dialect, ctx: ExtractionContext): LineageResult {
  const errors: ExtractionError[] = [];
  try {
    const resolver = new LineageResolver(dialect, ctx);
    const parsed = parseScript(sql, dialect);
    for (const p of parsed) {
      if (p.error || !p.statement) {
        errors.push({ errorMessage: p.error?.message ?? 'unparseable statement', task: clip(p.text), taskNumber: p.index });
        continue;
      }
      try {
        resolver.statement(p.statement);
      } catch (e) {
        errors.push({ errorMessage: e instanceof Error ? e.message : String(e), task: clip(p.text), taskNumber: p.index });
      }
    }
    return { inputs: resolver.inputList(), outputs: resolver.outputList(), totalStatements: parsed.length, errors, warnings: [...new Set(resolver.warnings)] };
  } catch (e) {
    errors.push({ errorMessage: e instanceof Error ? e.message : String(e), task: clip(sql), taskNumber: 0 });
    return { inputs: [], outputs: [], totalStatements: 1, errors, warnings: [] };
  }
}

function clip(text: string): string {
  return text.length > MAX_TASK_TEXT ? `${text.slice(0, MAX_TASK_TEXT)}…` : text;
}
