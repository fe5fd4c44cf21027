import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type PgwireStack, startPgwireStack } from './pgwire-stack.ts';
import { RawWire, startupPacket } from './raw-wire.ts';
import { runProcess } from './run-process.ts';

/**
 * TLS: SSLRequest is answered `S` and the handshake follows; a token with no SCRAM verifier yet
 * logs in once with a cleartext password over TLS (never without it), which stores its verifier.
 */
describe('pgwire over TLS', () => {
  let s: PgwireStack;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pgwire-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    s = await startPgwireStack({ tls: { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') } });
  });
  after(async () => {
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const psql = (token: string, sslmode: string) =>
    runProcess('psql', ['-X', '-At', '-h', '127.0.0.1', '-p', String(s.port), '-U', 'carol', '-d', 'duckdb', '-c', 'SELECT 40 + 2; SELECT current_user'], {
      env: { PGPASSWORD: token, PGSSLMODE: sslmode },
    });

  it('answers an SSLRequest with S and completes a TLS handshake', async () => {
    const w = await RawWire.connect(s.port);
    const ssl = Buffer.alloc(8);
    ssl.writeInt32BE(8, 0);
    ssl.writeInt32BE(80877103, 4);
    w.write(ssl);
    assert.equal((await w.waitRaw(1)).toString(), 'S');
    w.close();
  });

  it('refuses plaintext sent after the SSLRequest, before the handshake', async () => {
    const w = await RawWire.connect(s.port);
    const ssl = Buffer.alloc(8);
    ssl.writeInt32BE(8, 0);
    ssl.writeInt32BE(80877103, 4);
    w.write(Buffer.concat([ssl, startupPacket({ user: 'carol', database: 'duckdb' })]));
    assert.ok(await w.closedWithin(5_000));
  });

  it('enrols a token without a SCRAM verifier on its first TLS login; SCRAM works without TLS afterwards', async () => {
    const token = await s.token('carol', { scram: false });
    const plain = await psql(token, 'disable');
    assert.equal(plain.code, 2);
    assert.match(plain.stderr, /password authentication failed for user "carol"/);
    assert.match(plain.stderr, /HINT: {2}The password is a Sluice token/);
    const tls = await psql(token, 'require');
    assert.equal(tls.code, 0, tls.stderr);
    assert.equal(tls.stdout.trim(), '42\ncarol');
    assert.equal((await s.scram.credentialsFor('carol')).length, 1);
    const scram = await psql(token, 'disable');
    assert.equal(scram.code, 0, scram.stderr);
    assert.equal(scram.stdout.trim(), '42\ncarol');
  });

  it('never asks for a cleartext password on a connection without TLS', async () => {
    await s.token('dave', { scram: false });
    const c = new pg.Client({ host: '127.0.0.1', port: s.port, user: 'dave', password: 'slk_x', database: 'duckdb', ssl: false });
    await assert.rejects(c.connect(), (e: { code?: string }) => e.code === '28P01');
  });

  it('refuses a revoked token at once, over SCRAM as over TLS', async () => {
    const token = await s.token('erin');
    const ok = new pg.Client({ host: '127.0.0.1', port: s.port, user: 'erin', password: token, database: 'duckdb' });
    await ok.connect();
    await ok.end();
    assert.equal(await s.ts.stack.tokens.revoke({ name: 'pg-erin' }), 1);
    const again = new pg.Client({ host: '127.0.0.1', port: s.port, user: 'erin', password: token, database: 'duckdb' });
    await assert.rejects(again.connect(), (e: { code?: string }) => e.code === '28P01');
  });
});
