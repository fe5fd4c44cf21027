import { createHash } from 'node:crypto';
import { type BrowseItem, type BrowsePage, type BrowsePath, SluiceError } from '@sluice/core';

/** The position after which the next page starts: the last key of the previous page. */
export type BrowseKey = string | number;

function fingerprint(path: BrowsePath): string {
  return createHash('sha256').update(JSON.stringify(path)).digest('base64url').slice(0, 10);
}

/** Encodes a keyset position as an opaque cursor bound to one browse path. */
export function encodeCursor(path: BrowsePath, key: BrowseKey): string {
  return Buffer.from(JSON.stringify({ p: fingerprint(path), k: key })).toString('base64url');
}

/**
 * Decodes a cursor of {@link encodeCursor}; undefined for the first page. A cursor that is malformed
 * or was made for another path is SLUICE_REQUEST_INVALID.
 */
export function decodeCursor(path: BrowsePath, cursor: string | undefined): BrowseKey | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p?: unknown; k?: unknown };
    if (value.p === fingerprint(path) && (typeof value.k === 'string' || typeof value.k === 'number')) return value.k;
  } catch {
    // fall through
  }
  throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'the browse cursor is invalid or belongs to another listing' });
}

/** Checks a page size: 1 to 1000 items. */
export function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `browse limit must be an integer from 1 to 1000, got ${limit}` });
  }
  return limit;
}

/**
 * Cuts a page from `limit + 1` fetched items: the extra item only says that more exist. The cursor
 * holds the key of the last item returned.
 */
export function toPage<T>(path: BrowsePath, rows: T[], limit: number, item: (row: T) => BrowseItem, key: (row: T) => BrowseKey): BrowsePage {
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  const last = shown[shown.length - 1];
  return { items: shown.map(item), nextCursor: more && last !== undefined ? encodeCursor(path, key(last)) : null };
}
