import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type PgwireStack, startPgwireStack } from './pgwire-stack.ts';
import { cstr, errorFields, RawWire, rawLogin, startupPacket } from './raw-wire.ts';

/**
 * Hostile and broken input on the socket: none of it may crash the gateway, and a second, live
 * connection (node-postgres) must keep working through all of it.
 */
describe('pgwire robustness', () => {
  let s: PgwireStack;
  let live: pg.Client;
  let checks = 0;

  /** The live connection still answers, with a fresh value each time. */
  const stillWorks = async () => {
    checks++;
    const r = await live.query('SELECT $1::INTEGER * 2 AS v', [checks]);
    assert.equal(r.rows[0].v, checks * 2);
  };

  before(async () => {
    s = await startPgwireStack({ overrides: { SLUICE_ENGINE_CONCURRENCY: '4' } });
    live = new pg.Client({ host: '127.0.0.1', port: s.port, user: 'alice', password: s.ts.tokens.alice, database: 'duckdb' });
    await live.connect();
  });
  after(async () => {
    await live?.end().catch(() => {});
    await s?.stop();
  });

  it('drops garbage bytes sent instead of a startup packet', async () => {
    for (let i = 0; i < 20; i++) {
      const w = await RawWire.connect(s.port);
      w.write(randomBytes(1 + ((i * 97) % 3000)));
      w.socket.end();
      assert.ok(await w.closedWithin(10_000), `garbage connection ${i} was closed`);
    }
    await stillWorks();
  });

  it('refuses an oversized startup length without waiting for the bytes', async () => {
    const w = await RawWire.connect(s.port);
    const head = Buffer.alloc(8);
    head.writeInt32BE(0x7fffffff, 0);
    head.writeInt32BE(196608, 4);
    w.write(head);
    const m = await w.next(10_000);
    assert.equal(m?.type, 'E');
    assert.equal(errorFields(m?.body as Buffer).C, '08P01');
    assert.ok(await w.closedWithin(5_000));
    await stillWorks();
  });

  it('answers an SSLRequest with N when TLS is not configured, then logs in normally', async () => {
    const w = await RawWire.connect(s.port);
    const ssl = Buffer.alloc(8);
    ssl.writeInt32BE(8, 0);
    ssl.writeInt32BE(80877103, 4);
    w.write(ssl);
    assert.equal((await w.waitRaw(1)).toString(), 'N');
    w.write(startupPacket({ user: 'alice', database: 'duckdb' }));
    const auth = await w.next();
    assert.equal(auth?.type, 'R');
    assert.equal(auth?.body.readInt32BE(0), 10, 'SCRAM-SHA-256 is asked for');
    assert.match(auth?.body.subarray(4).toString() ?? '', /SCRAM-SHA-256/);
    assert.doesNotMatch(auth?.body.subarray(4).toString() ?? '', /PLUS/);
    w.close();
  });

  it('refuses an unsupported protocol version with a clear error', async () => {
    const w = await RawWire.connect(s.port);
    const p = Buffer.alloc(8);
    p.writeInt32BE(8, 0);
    p.writeInt32BE(2 << 16, 4);
    w.write(p);
    const m = await w.next(10_000);
    assert.equal(m?.type, 'E');
    assert.match(errorFields(m?.body as Buffer).M ?? '', /unsupported frontend protocol 2\.0/);
    assert.ok(await w.closedWithin(5_000));
  });

  it('closes a logged-in connection that announces a 1 GiB message (54000), before any of it arrives', async () => {
    const w = await rawLogin(s.port, 'alice', s.ts.tokens.alice);
    const head = Buffer.alloc(5);
    head[0] = 'Q'.charCodeAt(0);
    head.writeInt32BE(1024 * 1024 * 1024, 1);
    w.write(head);
    const m = await w.until('E', 10_000);
    const f = errorFields(m?.body as Buffer);
    assert.equal(f.S, 'FATAL');
    assert.equal(f.C, '54000');
    assert.match(f.M ?? '', /larger than the limit/);
    assert.ok(await w.closedWithin(5_000));
    await stillWorks();
  });

  it('cleans up after truncated messages and connections cut mid-message', async () => {
    const before = s.pg.connections();
    for (let i = 0; i < 10; i++) {
      const w = await rawLogin(s.port, 'alice', s.ts.tokens.alice);
      const body = cstr('SELECT 1');
      const head = Buffer.alloc(5);
      head[0] = 'Q'.charCodeAt(0);
      head.writeInt32BE(body.length + 4 + 100, 1); // says 100 bytes more than it sends
      w.write(Buffer.concat([head, body]));
      w.socket.end();
      await w.closedWithin(5_000);
    }
    const deadline = Date.now() + 10_000;
    while (s.pg.connections() > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(s.pg.connections(), before);
    await stillWorks();
  });

  it('rejects a malformed message body and an unknown message type with 08P01', async () => {
    const w = await rawLogin(s.port, 'alice', s.ts.tokens.alice);
    // Bind that claims five parameters and carries none.
    const bad = Buffer.concat([cstr(''), cstr(''), Buffer.from([0, 0, 0, 5])]);
    w.send('B', bad);
    const m = await w.until('E', 10_000);
    assert.equal(errorFields(m?.body as Buffer).C, '08P01');
    assert.ok(await w.closedWithin(5_000));

    const w2 = await rawLogin(s.port, 'alice', s.ts.tokens.alice);
    w2.send('z', Buffer.from('whatever'));
    const m2 = await w2.until('E', 10_000);
    assert.equal(errorFields(m2?.body as Buffer).C, '08P01');
    assert.match(errorFields(m2?.body as Buffer).M ?? '', /invalid frontend message type/);
    assert.ok(await w2.closedWithin(5_000));
    await stillWorks();
  });

  it('keeps an extended-protocol error to its own batch: messages are skipped until Sync', async () => {
    const w = await rawLogin(s.port, 'alice', s.ts.tokens.alice);
    w.send('B', Buffer.concat([cstr(''), cstr('no_such_statement'), Buffer.from([0, 0, 0, 0, 0, 0])]));
    w.send('E', Buffer.concat([cstr(''), Buffer.from([0, 0, 0, 0])]));
    w.send('S', Buffer.alloc(0));
    const err = await w.next();
    assert.equal(err?.type, 'E');
    assert.equal(errorFields(err?.body as Buffer).C, '26000');
    const rfq = await w.next();
    assert.equal(rfq?.type, 'Z', 'the Execute after the failed Bind was skipped');
    w.send('Q', cstr('SELECT 41 + 1 AS x'));
    assert.equal((await w.until('D'))?.body.subarray(6).toString(), '42');
    w.close();
  });

  it('survives a burst of 50 concurrent hostile connections', async () => {
    const hostile = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const w = await RawWire.connect(s.port);
        if (i % 3 === 0) w.write(randomBytes(64));
        else if (i % 3 === 1) w.write(startupPacket({ user: 'alice', database: 'duckdb' }).subarray(0, 11));
        else w.write(Buffer.concat([startupPacket({ user: 'mallory', database: 'duckdb' }), randomBytes(200)]));
        return w;
      }),
    );
    await stillWorks();
    for (const w of hostile) w.close();
    await stillWorks();
  });

  it('ignores a CancelRequest with the wrong secret', async () => {
    const q = live.query('SELECT count(*) AS n FROM range(500000000) WHERE range % 7 = 3');
    const key = live as unknown as { processID: number; secretKey: number };
    const w = await RawWire.connect(s.port);
    const c = Buffer.alloc(16);
    c.writeInt32BE(16, 0);
    c.writeInt32BE(80877102, 4);
    c.writeInt32BE(key.processID, 8);
    c.writeInt32BE((key.secretKey + 1) | 0, 12);
    w.write(c);
    assert.ok(await w.closedWithin(5_000));
    assert.equal((await q).rows[0].n, '71428571');
  });
});
