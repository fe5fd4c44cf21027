import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Column, Row } from '@sluice/core';
import { createJdbcConnector, type JdbcEngine, type WireRows } from '../src/index.ts';
import { freshPostgres, type TestSource } from './jdbc-servers.ts';
import { queryRows, rejectionOf, runTask } from './task-runner.ts';

let taskSeq = 0;

/** What one executeWire task produced: its columns, its converted rows and its DataRow messages. */
async function runWire(engine: JdbcEngine, code: string, accept: (columns: Column[]) => boolean = () => true) {
  const out = { columns: [] as Column[], rows: [] as Row[], wire: [] as WireRows[], batches: 0 };
  taskSeq += 1;
  for await (const ev of engine.executeWire(
    { taskId: `w${taskSeq}`, code, codeType: 'sql', runtimeParams: {}, signal: new AbortController().signal },
    accept,
  )) {
    if (ev.type === 'resultSet') out.columns = ev.columns;
    else if (ev.type === 'rows') out.rows.push(...ev.rows);
    else if (ev.type === 'wireRows') {
      out.wire.push(ev.wire);
      out.batches += 1;
    }
  }
  return out;
}

/** Decodes text-format DataRow messages into arrays of their texts (null for SQL NULL). */
function decodeDataRows(wire: WireRows[]): (string | null)[][] {
  const rows: (string | null)[][] = [];
  for (const w of wire) {
    let counted = 0;
    for (const chunk of w.chunks) {
      let at = 0;
      while (at < chunk.length) {
        assert.equal(chunk[at], 0x44, 'every message is a DataRow');
        const end = at + 1 + chunk.readUInt32BE(at + 1);
        const n = chunk.readInt16BE(at + 5);
        let p = at + 7;
        const row: (string | null)[] = [];
        for (let i = 0; i < n; i++) {
          const len = chunk.readInt32BE(p);
          p += 4;
          if (len < 0) row.push(null);
          else {
            row.push(chunk.toString('utf8', p, p + len));
            p += len;
          }
        }
        assert.equal(p, end, 'a DataRow ends where its length says');
        rows.push(row);
        counted += 1;
        at = end;
      }
    }
    assert.equal(counted, w.rows, 'a batch holds as many DataRows as it says');
  }
  return rows;
}

describe('postgresql rows as the server’s DataRow messages (executeWire)', () => {
  let source: TestSource;
  let engine: JdbcEngine;
  before(async () => {
    source = await freshPostgres('jdbc_wire');
    engine = (await createJdbcConnector().launch({
      engineId: 'pg-wire',
      user: 'u',
      version: '4',
      workDir: '/tmp',
      params: {},
      dataSource: source.dataSource,
    })) as JdbcEngine;
  });
  after(async () => {
    await engine?.close();
    await source?.drop();
  });

  it('passes the server’s text of integers, numerics, text, time and booleans unchanged, in batches, as the converted rows print', async () => {
    const sql = `SELECT g AS i, g::bigint * 1000000000 AS b, (g / 7.0)::numeric(12,4) AS n, 'ü-' || g AS t,
                        CASE WHEN g % 3 = 0 THEN NULL ELSE g % 2 = 0 END AS f, time '12:00' AS tm
                   FROM generate_series(1, 2500) g ORDER BY g`;
    const wire = await runWire(engine, sql);
    assert.deepEqual(
      wire.columns.map((c) => c.type),
      ['INTEGER', 'BIGINT', 'NUMERIC(12,4)', 'TEXT', 'BOOLEAN', 'TIME WITHOUT TIME ZONE'],
    );
    assert.equal(wire.rows.length, 0, 'no converted rows');
    // The first fetch takes 1,000 rows; later ones are sized by the bytes the rows took.
    assert.equal(wire.wire[0]?.rows, 1000);
    assert.ok(wire.batches >= 2, `2,500 rows came in ${wire.batches} batches`);
    const texts = decodeDataRows(wire.wire);
    assert.equal(texts.length, 2500);
    const converted = await queryRows(engine, sql);
    const printed = converted.map((r) => r.map((v) => (v === null ? null : typeof v === 'boolean' ? (v ? 't' : 'f') : String(v))));
    assert.deepEqual(texts, printed);
  });

  it('converts rows as usual when a column needs converting or the consumer declines', async () => {
    const mixed = await runWire(engine, "SELECT 1 AS i, timestamp '2024-01-02 03:04:05' AS ts");
    assert.equal(mixed.wire.length, 0);
    assert.deepEqual(mixed.rows, [[1, '2024-01-02T03:04:05']]);
    const floats = await runWire(engine, 'SELECT 0.1::float8 AS f, ARRAY[1,2] AS a');
    assert.equal(floats.wire.length, 0);
    assert.deepEqual(floats.rows, [[0.1, [1, 2]]]);
    const declined = await runWire(engine, 'SELECT 1 AS i', () => false);
    assert.equal(declined.wire.length, 0);
    assert.deepEqual(declined.rows, [[1]]);
  });

  it('leaves the session usable after a statement that fails midway and after one abandoned midway', async () => {
    const failure = await rejectionOf(runWire(engine, 'SELECT 10 / (1500 - g) AS x FROM generate_series(1, 3000) g'));
    assert.match(String((failure as Error).message), /division by zero/);
    // Walk away after the first batch: the fetch sent ahead is abandoned, the portal closed.
    const it = engine
      .executeWire(
        { taskId: 'w-abandon', code: 'SELECT g FROM generate_series(1, 100000) g', codeType: 'sql', runtimeParams: {}, signal: new AbortController().signal },
        () => true,
      )
      [Symbol.asyncIterator]();
    for (let r = await it.next(); !r.done; r = await it.next()) if (r.value.type === 'wireRows') break;
    await it.return?.();
    assert.deepEqual(await queryRows(engine, 'SELECT 41 + 1 AS answer'), [[42]]);
    const again = await runWire(engine, 'SELECT g FROM generate_series(1, 1200) g');
    assert.deepEqual(
      decodeDataRows(again.wire).map((r) => Number(r[0])),
      Array.from({ length: 1200 }, (_, i) => i + 1),
    );
  });

  it('runs a statement it described before in one flight, and follows the table when its shape changes', async () => {
    await runTask(engine, "CREATE TABLE shape (id int, label text); INSERT INTO shape VALUES (1, 'one')");
    const sql = 'SELECT * FROM shape ORDER BY id';
    const first = await runWire(engine, sql);
    const second = await runWire(engine, sql);
    assert.deepEqual(decodeDataRows(second.wire), [['1', 'one']]);
    assert.deepEqual(second.columns, first.columns);
    // Same text, new shape: a column whose values convert (no longer off the wire), of a type this
    // session has seen (timestamp), and one it has not (an enum).
    await runTask(
      engine,
      "CREATE TYPE hue AS ENUM ('red', 'blue'); ALTER TABLE shape ADD COLUMN at timestamp DEFAULT '2024-05-06 07:08:09', ADD COLUMN h hue DEFAULT 'red'",
    );
    await queryRows(engine, "SELECT timestamp '2024-01-01' AS seen");
    const changed = await runWire(engine, sql);
    assert.equal(changed.wire.length, 0);
    assert.deepEqual(changed.rows, [[1, 'one', '2024-05-06T07:08:09', 'red']]);
    assert.deepEqual(
      changed.columns.map((c) => c.name),
      ['id', 'label', 'at', 'h'],
    );
    assert.equal(changed.columns[2]?.type, 'TIMESTAMP WITHOUT TIME ZONE');
    // Described afresh the next time: the enum gets its name.
    const after = await runWire(engine, sql);
    assert.equal(after.columns[3]?.type, 'HUE');
    assert.deepEqual(after.rows, [[1, 'one', '2024-05-06T07:08:09', 'red']]);
    // A statement without rows, run twice (the second time in one flight), still reports its count.
    const insert = "INSERT INTO shape (id, label) VALUES (2, 'two')";
    await runTask(engine, insert);
    const out = await runWire(engine, insert.replace('2, ', '3, '));
    assert.equal(out.columns.length, 0);
    const again = await runWire(engine, insert.replace('2, ', '3, '));
    assert.equal(again.columns.length, 0);
    assert.deepEqual(await queryRows(engine, 'SELECT count(*)::int AS n FROM shape'), [[4]]);
  });
});
