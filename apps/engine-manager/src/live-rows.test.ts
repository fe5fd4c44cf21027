import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EventBus } from '@sluice/core';
import { createPostgresEventBus } from '@sluice/infra';
import { freshDatabase, uniqueSuffix, waitFor } from '@sluice/testkit';
import { LiveRows } from './live-rows.ts';

type RowsMessage = { type: string; index: number; offset: number; rows: unknown[][] };

/** Live rows on the real PostgreSQL bus, whose NOTIFY payloads must stay under 8000 bytes. */
describe('live rows', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let bus: EventBus;

  before(async () => {
    db = await freshDatabase('liverows');
    bus = await createPostgresEventBus({ databaseUrl: db.url, prefix: `lr${uniqueSuffix()}` });
  });
  after(async () => {
    await bus?.close();
    await db?.drop();
  });

  test('publishes contiguous rows up to the budget, split to fit the bus, restarting offsets per result set', async () => {
    const jobId = `J${uniqueSuffix()}`;
    const got: RowsMessage[] = [];
    const stop = await bus.subscribe(`job.${jobId}`, (m) => got.push(m as RowsMessage));
    const row = (i: number) => [i, 'x'.repeat(200)];
    const batch = (from: number, n: number) => Array.from({ length: n }, (_, k) => row(from + k));
    const live = new LiveRows(jobId, bus, 250);
    live.begin(0);
    live.add(batch(0, 100));
    live.add(batch(100, 100));
    live.flush();
    live.add(batch(200, 100)); // only 50 fit the budget
    live.add(batch(300, 100)); // over budget: counted, not sent
    live.begin(1); // flushes set 0
    live.add(batch(0, 10)); // budget spent: nothing for set 1
    live.flush();
    await waitFor(() => got.reduce((n, m) => n + m.rows.length, 0) >= 250, { what: '250 live rows' });
    await new Promise((r) => setTimeout(r, 300));
    await stop();
    assert.ok(got.length > 2, `big batches were split to fit NOTIFY (${got.length} messages)`);
    let next = 0;
    for (const m of got) {
      assert.equal(m.type, 'rows');
      assert.equal(m.index, 0);
      assert.equal(m.offset, next, 'contiguous offsets');
      for (const [k, r] of m.rows.entries()) assert.deepEqual(r, row(m.offset + k));
      next += m.rows.length;
    }
    assert.equal(next, 250, 'exactly the budget');
  });
});
