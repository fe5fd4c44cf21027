import assert from 'node:assert/strict';
import type { Engine, EngineEvent } from '@sluice/core';
import { liveHeapBytes } from './heap-probe.ts';
import { startTask } from './task-runner.ts';

/**
 * Runs `code`, which must return rows numbered 1..1,000,000 in its first column, and checks that they
 * arrive in order, none lost or repeated, in batches of at most 1000 rows, while the live heap stays
 * small: what every database's streaming test asserts.
 */
export async function assertStreamsMillionRows(engine: Engine, code: string): Promise<void> {
  const baseline = liveHeapBytes();
  let peak = 0;
  let rows = 0;
  let batches = 0;
  let last = 0;
  const it = startTask(engine, code, new AbortController().signal);
  for (;;) {
    const next = await it.next();
    if (next.done) break;
    const event = next.value;
    if (event.type !== 'rows') continue;
    batches += 1;
    for (const row of event.rows) {
      const n = Number(row[0]);
      assert.equal(n, last + 1, 'rows arrive in order, none lost or repeated');
      last = n;
    }
    rows += event.rows.length;
    assert.ok(event.rows.length <= 1000, `a batch holds at most 1000 rows, got ${event.rows.length}`);
    if (batches % 100 === 0) peak = Math.max(peak, liveHeapBytes() - baseline);
  }
  assert.equal(rows, 1_000_000);
  assert.ok(batches >= 1000, `the result came in ${batches} batches`);
  assert.ok(peak < 32 * 1024 * 1024, `live heap grew by ${Math.round(peak / 1024 / 1024)} MiB while streaming`);
}

/** Pulls events until at least `count` rows came, then stops pulling (the consumer pauses). */
export async function pullRows(it: AsyncIterator<EngineEvent>, count: number): Promise<void> {
  let rows = 0;
  while (rows < count) {
    const next = await it.next();
    assert.equal(next.done, false);
    if (next.value.type === 'rows') rows += next.value.rows.length;
  }
}
