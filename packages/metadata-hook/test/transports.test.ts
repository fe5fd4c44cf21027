import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { atlasEntities, buildRunEvent, createTransport, extractLineage, FileTransport, TransportError, transportConfigFromEnv } from '../src/index.ts';

const sql = 'INSERT INTO c.mart.t SELECT a FROM c.raw.s JOIN c.raw.u ON s.id = u.id';
const ev = (eventType: 'START' | 'COMPLETE') =>
  buildRunEvent({
    eventType,
    job: { id: 'j1', namespace: 'sluice://x', name: 'load', code: sql, codeType: 'sql' },
    lineage: extractLineage(sql, 'trino', { namespace: 'trino://t:1' }),
  });

describe('transports', () => {
  it('Atlas: a completed run becomes dataset entities and a process with inputs and outputs', async () => {
    const entities = atlasEntities(ev('COMPLETE'));
    assert.equal(entities.length, 4);
    const proc = entities.find((e) => e.typeName === 'Process');
    assert.ok(proc);
    assert.equal(proc.attributes.qualifiedName, 'load@sluice://x');
    assert.deepEqual(
      (proc.attributes.inputs as { guid: string }[]).map((r) => entities.find((e) => e.guid === r.guid)?.attributes.qualifiedName),
      ['c.raw.s@trino://t:1', 'c.raw.u@trino://t:1'],
    );
    // A real HTTP server stands in for Atlas' REST API.
    const bodies: unknown[] = [];
    const auth: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      let b = '';
      req.on('data', (c) => {
        b += c;
      });
      req.on('end', () => {
        assert.equal(req.url, '/api/atlas/v2/entity/bulk');
        bodies.push(JSON.parse(b));
        auth.push(req.headers.authorization);
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const t = createTransport({ type: 'atlas', url: `http://127.0.0.1:${port}`, username: 'admin', password: 'pw' });
      await t.send(ev('START'));
      await t.send(ev('COMPLETE'));
      assert.equal(bodies.length, 1, 'only COMPLETE goes to Atlas');
      assert.equal(auth[0], `Basic ${Buffer.from('admin:pw').toString('base64')}`);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('HTTP: a refused connection is a TransportError without the token', async () => {
    const t = createTransport({ type: 'http', url: 'http://127.0.0.1:1', apiKey: 'tok-123', timeoutMs: 1000 });
    await assert.rejects(t.send(ev('START')), (e) => e instanceof TransportError && !e.message.includes('tok-123'));
  });

  it('file: appends one JSON line per event', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lineage-'));
    try {
      const file = path.join(dir, 'events.ndjson');
      const t = new FileTransport(file);
      await t.send(ev('START'));
      await t.send(ev('COMPLETE'));
      const lines = (await readFile(file, 'utf8')).trim().split('\n');
      assert.deepEqual(
        lines.map((l) => JSON.parse(l).eventType),
        ['START', 'COMPLETE'],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('config from the environment; errors never echo secrets', () => {
    assert.equal(transportConfigFromEnv({}), undefined);
    assert.deepEqual(transportConfigFromEnv({ SLUICE_LINEAGE_TRANSPORT: 'http', SLUICE_LINEAGE_URL: 'http://m:5000', SLUICE_LINEAGE_API_KEY: 'k' }), {
      type: 'http',
      url: 'http://m:5000',
      apiKey: 'k',
    });
    assert.throws(
      () => transportConfigFromEnv({ SLUICE_LINEAGE_TRANSPORT: 'http', SLUICE_LINEAGE_URL: 'not a url', SLUICE_LINEAGE_API_KEY: 'sekrit' }),
      (e) => e instanceof Error && /url/.test(e.message) && !e.message.includes('sekrit'),
    );
    assert.deepEqual(transportConfigFromEnv({ SLUICE_LINEAGE_TRANSPORT: 'console' }), { type: 'console' });
  });
});
