import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Engine } from '@sluice/core';
import { createJdbcConnector } from '../src/index.ts';
import { liveHeapBytes } from './heap-probe.ts';
import { freshPostgres, type TestSource } from './jdbc-servers.ts';
import { assertStreamsMillionRows, pullRows } from './streaming-checks.ts';
import { startTask } from './task-runner.ts';

describe('postgresql streams a large result in bounded memory', () => {
  let source: TestSource;
  let engine: Engine;
  before(async () => {
    source = await freshPostgres('jdbc_stream');
    engine = await createJdbcConnector().launch({ engineId: 'pg-stream', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: source.dataSource });
  });
  after(async () => {
    await engine?.close();
    await source?.drop();
  });

  it('delivers 1,000,000 rows in batches while the live heap stays small', async () => {
    // ~200 bytes a row: held whole, the result would be far above 200 MB of JavaScript objects.
    const code = 'SELECT g, repeat(md5(g::text), 5) AS pad, g::numeric / 7 AS frac FROM generate_series(1, 1000000) g';
    await assertStreamsMillionRows(engine, code);
  });

  it('reads no further than the consumer: a paused consumer holds the portal open on the server', async () => {
    const controller = new AbortController();
    const it = startTask(engine, 'SELECT generate_series(1, 5000000) AS g', controller.signal);
    await pullRows(it, 3000);
    const before = liveHeapBytes();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Had the engine read ahead while we paused, a second of 5M small rows would show here.
    assert.ok(liveHeapBytes() - before < 4 * 1024 * 1024, 'nothing piles up while the consumer pauses');
    await it.return?.();
    // Ending the iteration early closes the portal; the session runs the next statement at once.
    const again = startTask(engine, 'SELECT 1 AS x', new AbortController().signal);
    const events = [];
    for (;;) {
      const next = await again.next();
      if (next.done) break;
      events.push(next.value);
    }
    assert.deepEqual(
      events.filter((e) => e.type === 'rows'),
      [{ type: 'rows', rows: [[1]] }],
    );
  });
});
