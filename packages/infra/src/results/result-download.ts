import { Readable } from 'node:stream';
import type { Column, ReadOptions, ResultStore, Row } from '@sluice/core';

/** Download formats of {@link streamResultAs}. */
export type ResultDownloadFormat = 'csv' | 'jsonl';

/** Output is handed on in pieces of about this many characters. */
const BATCH_CHARS = 64 * 1024;

const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break; quotes doubled. */
export function csvField(value: unknown): string {
  let s: string;
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') s = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') s = String(value);
  else s = JSON.stringify(value);
  return NEEDS_QUOTES.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One CSV record, CRLF-terminated as RFC 4180 has it. */
export function csvRecord(values: readonly unknown[]): string {
  let out = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // Numbers never need quotes: the common case skips the test (this runs once per value of a download).
    out += `${i ? ',' : ''}${typeof v === 'number' ? String(v) : csvField(v)}`;
  }
  return `${out}\r\n`;
}

/** JSON keys for the columns; a repeated name gets `_2`, `_3`… so no value is lost. */
export function jsonlKeys(columns: readonly Column[]): string[] {
  const used = new Set<string>();
  return columns.map((c) => {
    let name = c.name;
    for (let n = 2; used.has(name); n++) name = `${c.name}_${n}`;
    used.add(name);
    return JSON.stringify(name);
  });
}

/** One JSON object per row, keyed by column name; built as text so no key (not even `__proto__`) is special. */
function jsonlLine(keys: readonly string[], row: Row): string {
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const v = row[i];
    out += `${i ? ',' : ''}${keys[i]}:${v === undefined || v === null ? 'null' : typeof v === 'number' && Number.isFinite(v) ? String(v) : JSON.stringify(v)}`;
  }
  return `${out}}\n`;
}

async function* render(batches: AsyncIterable<Row[]>, columns: readonly Column[], format: ResultDownloadFormat): AsyncGenerator<string> {
  const keys = format === 'jsonl' ? jsonlKeys(columns) : [];
  let batch = format === 'csv' ? csvRecord(columns.map((c) => c.name)) : '';
  for await (const rows of batches) {
    for (const row of rows) batch += format === 'csv' ? csvRecord(row) : jsonlLine(keys, row);
    if (batch.length >= BATCH_CHARS) {
      yield batch;
      batch = '';
    }
  }
  if (batch) yield batch;
}

/**
 * A byte stream of a result set for download: CSV with a header row (RFC 4180 quoting, CRLF), or
 * JSONL with one object per row keyed by column name. Rows are pulled from the store only as fast
 * as the consumer reads (backpressure); a read error (e.g. SLUICE_RESULT_NOT_FOUND) destroys the stream.
 */
export function streamResultAs(
  store: ResultStore,
  jobId: string,
  index: number,
  columns: readonly Column[],
  format: ResultDownloadFormat,
  read: Pick<ReadOptions, 'lines'> = {},
): Readable {
  return streamRowsAs(store.readBatches(jobId, index, read), columns, format);
}

/**
 * The same byte stream from any batches of rows, e.g. those of {@link ResultStore.follow} while the
 * set is still written. An error of `batches` (SLUICE_RESULT_INCOMPLETE) destroys the stream.
 */
export function streamRowsAs(batches: AsyncIterable<Row[]>, columns: readonly Column[], format: ResultDownloadFormat): Readable {
  if (format !== 'csv' && format !== 'jsonl') throw new Error(`unknown download format ${String(format)}`);
  return Readable.from(render(batches, columns, format), { objectMode: false, highWaterMark: BATCH_CHARS });
}
