import type { Row } from '@sluice/core';
import type { BatchLimits } from './db-session.ts';

/** A rough, cheap estimate of a value's serialized size in bytes (close to its JSON length). */
export function estimateBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return value.length + 2;
    case 'number':
      return 8;
    case 'boolean':
      return 5;
    default:
      break;
  }
  if (value === null || value === undefined) return 4;
  let total = 2;
  if (Array.isArray(value)) {
    for (const item of value) total += estimateBytes(item) + 1;
    return total;
  }
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) total += key.length + 4 + estimateBytes(item);
  return total;
}

/** Size estimate of one row. */
export function estimateRowBytes(row: Row): number {
  let bytes = 2;
  for (const value of row) bytes += estimateBytes(value) + 1;
  return bytes;
}

/**
 * Collects rows into batches of at most `limits.rows` rows and about `limits.bytes` bytes; a single
 * row larger than that travels alone.
 */
export class RowBatcher {
  private rows: Row[] = [];
  private bytes = 0;

  constructor(private readonly limits: BatchLimits) {}

  /** Adds a row; returns the batch it completed, if any (the row itself then starts the next one). */
  add(row: Row): Row[] | undefined {
    const size = estimateRowBytes(row);
    let full: Row[] | undefined;
    if (this.rows.length > 0 && (this.rows.length >= this.limits.rows || this.bytes + size > this.limits.bytes)) {
      full = this.rows;
      this.rows = [];
      this.bytes = 0;
    }
    this.rows.push(row);
    this.bytes += size;
    return full;
  }

  /** True when the pending batch is as large as a batch may be. */
  get isFull(): boolean {
    return this.rows.length >= this.limits.rows || this.bytes >= this.limits.bytes;
  }

  /** Rows waiting, not yet taken. */
  get pending(): number {
    return this.rows.length;
  }

  /** Takes whatever is pending (undefined when nothing is). */
  take(): Row[] | undefined {
    if (this.rows.length === 0) return undefined;
    const out = this.rows;
    this.rows = [];
    this.bytes = 0;
    return out;
  }
}
