import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type PgwireServer, startPgwireServer } from '../../apps/gateway/src/pgwire/index.ts';
import { type PgwireStack, startPgwireStack } from './pgwire-stack.ts';

/**
 * Two gateways of one deployment (two pgwire listeners on the same bus): a client whose CancelRequest
 * reaches the gateway that does not hold its connection, as behind a load balancer, still cancels.
 */
describe('pgwire cancel across gateways', () => {
  let s: PgwireStack;
  let other: PgwireServer;

  before(async () => {
    s = await startPgwireStack();
    const { stack } = s.ts;
    other = await startPgwireServer({
      host: '127.0.0.1',
      port: 0,
      entrance: stack.entrance,
      interactive: stack.interactive,
      tokens: stack.tokens,
      dataSources: stack.dataSources,
      bus: stack.infra.bus,
      log: stack.log,
      scram: s.scram,
      engines: stack.config.SLUICE_ENGINES,
      defaultEngine: stack.config.SLUICE_DEFAULT_ENGINE,
    });
  });
  after(async () => {
    await other?.close();
    await s?.stop();
  });

  it('cancels a statement on gateway A through a CancelRequest sent to gateway B (57014)', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: s.port, user: 'alice', password: s.ts.tokens.alice, database: 'duckdb' });
    await c.connect();
    try {
      const q = c.query('SELECT count(*) FROM range(2000000000) a, range(1000) b');
      await new Promise((r) => setTimeout(r, 2500));
      // node-postgres sends the CancelRequest to the host and port of the client it is called on.
      const canceller = new pg.Client({ host: '127.0.0.1', port: other.address.port, user: 'alice', password: s.ts.tokens.alice, database: 'duckdb' });
      (canceller as unknown as { cancel(c: pg.Client, q: unknown): void }).cancel(c, (c as unknown as { activeQuery: unknown }).activeQuery);
      await assert.rejects(q, (e: { code?: string }) => e.code === '57014');
      assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1);
    } finally {
      await c.end();
    }
  });

  it('a CancelRequest with a wrong secret sent to the other gateway cancels nothing', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: s.port, user: 'alice', password: s.ts.tokens.alice, database: 'duckdb' });
    await c.connect();
    try {
      let settled = false;
      const q = c.query('SELECT count(*) FROM range(2000000000) a, range(1000) b');
      q.then(
        () => {
          settled = true;
        },
        () => {
          settled = true;
        },
      );
      await new Promise((r) => setTimeout(r, 1500));
      const conn = c as unknown as { processID: number; secretKey: number; activeQuery: unknown };
      const active = conn.activeQuery;
      const wrong = new pg.Client({ host: '127.0.0.1', port: other.address.port });
      (wrong as unknown as { cancel(c: unknown, q: unknown): void }).cancel(
        { processID: conn.processID, secretKey: (conn.secretKey ^ 1) | 0, activeQuery: active },
        active,
      );
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(settled, false, 'the statement still runs after a cancel with the wrong secret');
      const right = new pg.Client({ host: '127.0.0.1', port: other.address.port });
      (right as unknown as { cancel(c: unknown, q: unknown): void }).cancel(c, active);
      await assert.rejects(q, (e: { code?: string }) => e.code === '57014');
    } finally {
      await c.end();
    }
  });
});
