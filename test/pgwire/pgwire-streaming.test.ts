import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type PgwireStack, startPgwireStack } from './pgwire-stack.ts';
import { cstr, errorFields, rawLogin } from './raw-wire.ts';

const ROWS = 10_000_000;

/**
 * A 10-million-row result flows to a client through the gateway in pages with socket backpressure:
 * the gateway's heap does not grow with the result, and a client that stops reading stalls the
 * stream instead of filling the gateway's memory.
 */
describe('pgwire streaming', () => {
  let s: PgwireStack;

  before(async () => {
    s = await startPgwireStack();
  });
  after(async () => {
    await s?.stop();
  });

  it(`streams ${ROWS.toLocaleString('en')} rows in bounded memory, pausing while the client does not read`, { timeout: 600_000 }, async () => {
    const w = await rawLogin(s.port, 'alice', s.ts.tokens.alice);
    w.countDataRows = true;
    global.gc?.();
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 50);
    try {
      w.send('Q', cstr(`SELECT range AS n, range * 2 AS twice, 'row-' || range::VARCHAR AS label FROM range(${ROWS})`));
      // Wait for the first rows, then stop reading for a while: the gateway must stop sending.
      const deadline = Date.now() + 300_000;
      while (w.dataRows === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(w.dataRows > 0, 'rows started to arrive');
      w.socket.pause();
      await new Promise((r) => setTimeout(r, 1000));
      const stalledAt = w.dataRows;
      await new Promise((r) => setTimeout(r, 2000));
      assert.ok(w.dataRows - stalledAt < 200_000, 'a paused client receives (almost) nothing more');
      w.socket.resume();
      const done = await w.until('C', 600_000);
      assert.ok(done, 'CommandComplete arrived');
      assert.equal(done?.body.toString('utf8', 0, done.body.length - 1), `SELECT ${ROWS}`);
      assert.equal(w.dataRows, ROWS);
      assert.equal((await w.until('Z'))?.type, 'Z');
    } finally {
      clearInterval(sampler);
      w.close();
    }
    // ~300 MB went over the wire; the gateway (and the whole stack in this process) held a few pages.
    const growthMb = (peak - base) / 1024 / 1024;
    assert.ok(growthMb < 200, `heap grew by ${growthMb.toFixed(0)} MB while streaming`);
  });

  it('reports a statement error mid-session and goes on', async () => {
    const w = await rawLogin(s.port, 'alice', s.ts.tokens.alice);
    w.send('Q', cstr('SELECT * FROM no_such_table_q; SELECT 2'));
    const m = await w.until('E');
    assert.equal(errorFields(m?.body as Buffer).C, '42P01');
    assert.equal((await w.until('Z'))?.type, 'Z');
    w.close();
  });
});
