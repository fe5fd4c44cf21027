import type { Column } from '@sluice/core';
import { CliError } from './cli-error.ts';
import { EXIT } from './exit-codes.ts';

/** How rows are written. */
export type ResultFormat = 'table' | 'tsv' | 'csv' | 'json';

/** The formats by name, and the file extension each writes. */
export const RESULT_FORMATS: Readonly<Record<ResultFormat, string>> = { table: 'txt', tsv: 'tsv', csv: 'csv', json: 'jsonl' };

/** Checks a `--format` value. */
export function parseFormat(text: string | undefined, fallback: ResultFormat): ResultFormat {
  if (text === undefined) return fallback;
  if (text in RESULT_FORMATS) return text as ResultFormat;
  throw new CliError(EXIT.usage, `--format takes ${Object.keys(RESULT_FORMATS).join(', ')}, not ${JSON.stringify(text)}`);
}

/** A value as text: strings as they are, other JSON values as JSON. */
function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = text(v);
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

function tsvField(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  return text(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

function tableCell(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  return text(v).replace(/\r?\n/g, '\\n').replace(/\t/g, ' ');
}

function isNumeric(type: string): boolean {
  return /^(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|REAL|DOUBLE|DECIMAL|NUMERIC)/i.test(type);
}

/**
 * Turns pages of rows into text in one format. `header()` comes first, `page()` for every page of
 * rows in order, `footer()` last. The table format sizes its columns from the first page (up to the
 * widest of header and values there); a longer value later is printed whole and shifts its line.
 */
export class RowFormatter {
  private widths: number[] | undefined;
  private rows = 0;

  constructor(
    readonly format: ResultFormat,
    private readonly columns: readonly Column[],
  ) {}

  /** Text before the first row (the header), or ''. */
  header(): string {
    const names = this.columns.map((c) => c.name);
    if (this.format === 'csv') return `${names.map(csvField).join(',')}\n`;
    if (this.format === 'tsv') return `${names.map(tsvField).join('\t')}\n`;
    return '';
  }

  /** Text of one page of rows. */
  page(rows: readonly (readonly unknown[])[]): string {
    this.rows += rows.length;
    switch (this.format) {
      case 'csv':
        return rows.map((r) => `${r.map(csvField).join(',')}\n`).join('');
      case 'tsv':
        return rows.map((r) => `${r.map(tsvField).join('\t')}\n`).join('');
      case 'json':
        return rows.map((r) => `${JSON.stringify(Object.fromEntries(this.columns.map((c, i) => [c.name, r[i] ?? null])))}\n`).join('');
      case 'table':
        return this.tablePage(rows);
    }
  }

  /** Text after the last row. */
  footer(): string {
    if (this.format !== 'table') return '';
    let out = '';
    if (!this.widths) out += this.tablePage([]);
    return `${out}(${this.rows} row${this.rows === 1 ? '' : 's'})\n`;
  }

  private tablePage(rows: readonly (readonly unknown[])[]): string {
    const cells = rows.map((r) => this.columns.map((_, i) => tableCell(r[i])));
    let out = '';
    if (!this.widths) {
      this.widths = this.columns.map((c, i) => Math.max(c.name.length, ...cells.map((r) => (r[i] as string).length)));
      out += `${this.columns.map((c, i) => ` ${c.name.padEnd(this.widths?.[i] ?? 0)} `).join('|')}\n`;
      out += `${this.widths.map((w) => '-'.repeat(w + 2)).join('+')}\n`;
    }
    const widths = this.widths;
    for (const r of cells) {
      out += `${r
        .map((cell, i) => ` ${isNumeric(this.columns[i]?.type ?? '') ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)} `)
        .join('|')
        .trimEnd()}\n`;
    }
    return out;
  }
}
