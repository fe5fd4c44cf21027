import assert from 'node:assert/strict';
import type { BrowseItem, BrowsePath, DataSourceConnection, MetadataBrowser } from '@sluice/core';

/** What walking every page of one listing showed. */
export interface Walk {
  items: BrowseItem[];
  pages: number;
  /** Milliseconds each page took, in order. */
  pageMs: number[];
}

/**
 * Walks a listing page by page with `limit`, asserting on the way that no page is larger than the
 * limit, that every page but the last is full, and that the last page ends the listing.
 */
export async function walkPages(metadata: MetadataBrowser, ds: DataSourceConnection, path: BrowsePath, limit: number, maxPages = 100_000): Promise<Walk> {
  const walk: Walk = { items: [], pages: 0, pageMs: [] };
  let cursor: string | undefined;
  for (;;) {
    const started = performance.now();
    const page = await metadata.browse(ds, path, { limit, ...(cursor ? { cursor } : {}) });
    walk.pageMs.push(performance.now() - started);
    walk.pages += 1;
    assert.ok(page.items.length <= limit, `page ${walk.pages} has ${page.items.length} items, more than ${limit}`);
    walk.items.push(...page.items);
    if (page.nextCursor === null) break;
    assert.equal(page.items.length, limit, `page ${walk.pages} is not the last, so it is full`);
    assert.equal(typeof page.nextCursor, 'string');
    cursor = page.nextCursor;
    assert.ok(walk.pages < maxPages, 'the walk ends');
  }
  return walk;
}

/** Asserts that names are strictly ascending in byte order (so unique): keyset paging lost and repeated nothing. */
export function assertAscendingUnique(names: string[]): void {
  for (let i = 1; i < names.length; i++) {
    assert.ok(
      Buffer.compare(Buffer.from(names[i - 1]!), Buffer.from(names[i]!)) < 0,
      `names out of order or repeated at ${i}: ${names[i - 1]} then ${names[i]}`,
    );
  }
}

/** Median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/**
 * Asserts that a walk stayed fast: a typical page well under a second, none over five, and deep
 * pages no slower than early ones (keyset paging does not grow with depth). Generous bounds, so a
 * loaded CI machine passes while an offset scan or a whole-schema load does not.
 */
export function assertFastPages(walk: Walk): void {
  const ms = walk.pageMs;
  const quarter = Math.max(1, Math.floor(ms.length / 4));
  const early = median(ms.slice(0, quarter));
  const late = median(ms.slice(-quarter));
  const summary = `median ${median(ms).toFixed(1)} ms, slowest ${Math.max(...ms).toFixed(1)} ms, early ${early.toFixed(1)} ms, late ${late.toFixed(1)} ms`;
  assert.ok(median(ms) < 1000, summary);
  assert.ok(Math.max(...ms) < 5000, summary);
  assert.ok(late <= early * 5 + 100, `deep pages got slower: ${summary}`);
}
