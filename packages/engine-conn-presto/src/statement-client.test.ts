import assert from 'node:assert/strict';
import net from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FakeCoordinator } from '../test/fake-coordinator.ts';
import { TrinoAbortedError, TrinoConnectionError, TrinoHttpError, TrinoQueryError } from './client-errors.ts';
import type { ClientSession } from './client-session.ts';
import { mapProtocolError } from './error-mapping.ts';
import { HttpTransport } from './http-transport.ts';
import type { HeaderFamily } from './protocol-headers.ts';
import type { QueryResults } from './query-results.ts';
import { StatementClient } from './statement-client.ts';

const session: ClientSession = {
  user: 'alice',
  source: 'sluice',
  catalog: 'tpch',
  schema: 'tiny',
  properties: { query_max_run_time: '1h', 'hive.compression_codec': 'ZSTD' },
  roles: {},
  preparedStatements: {},
  clientTags: ['IDE', 'etl'],
};

let fake: FakeCoordinator;
const transports: HttpTransport[] = [];

function client(family: HeaderFamily = 'trino', server = fake.url, requestTimeoutMs = 5000): StatementClient {
  const transport = new HttpTransport({ connectTimeoutMs: 2000, idleTimeoutMs: 5000, compression: false });
  transports.push(transport);
  return new StatementClient({ server, family, transport, authorization: 'Basic c2VjcmV0', requestTimeoutMs });
}

async function drain(c: StatementClient, signal?: AbortSignal): Promise<QueryResults[]> {
  const pages: QueryResults[] = [];
  for await (const page of c.execute('SELECT 1', session, { signal })) pages.push(page);
  return pages;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}

const posts = () => fake.requests.filter((r) => r.method === 'POST').length;

beforeEach(async () => {
  fake = await new FakeCoordinator().start();
});

afterEach(async () => {
  for (const t of transports.splice(0)) t.close();
  await fake.stop();
});

describe('statement client against a fake coordinator (failures a real server cannot be made to send)', () => {
  it('repeats a GET after 503 and never re-sends the POST', async () => {
    fake.reply(
      { status: 200, body: fake.page('q1', '/v1/statement/executing/q1/x/1') },
      { status: 503, body: 'proxy busy' },
      // Written by hand: JSON.stringify of a JS number could not carry 2^53 + 1.
      { status: 200, body: fake.page('q1', null, { columns: [{ name: 'n', type: 'bigint' }], data: [['BIG']] }).replace('"BIG"', '9007199254740993') },
    );
    const pages = await drain(client());
    assert.equal(posts(), 1);
    assert.deepEqual(
      fake.requests.map((r) => `${r.method} ${r.path}`),
      ['POST /v1/statement', 'GET /v1/statement/executing/q1/x/1', 'GET /v1/statement/executing/q1/x/1'],
    );
    assert.deepEqual(pages[1]?.data, [['9007199254740993']], 'the BIGINT beyond 2^53 survives exactly');
  });

  it('repeats GETs after 502 and 504 for Trino, but not after 502 for Presto', async () => {
    fake.reply({ status: 200, body: fake.page('q2', '/n/1') }, { status: 502 }, { status: 504 }, { status: 200, body: fake.page('q2', null) });
    assert.equal((await drain(client('trino'))).length, 2);
    assert.equal(fake.requests.length, 4);

    fake.requests.length = 0;
    fake.reply({ status: 200, body: fake.page('q3', '/n/3') }, { status: 502, body: 'bad gateway' }, { status: 204 });
    const err = await rejection(drain(client('presto')));
    assert.ok(err instanceof TrinoHttpError);
    assert.equal(err.status, 502);
    assert.equal(err.retries, 0);
    // Giving up on the query cancels it: the DELETE goes to the nextUri.
    assert.deepEqual(
      fake.requests.map((r) => `${r.method} ${r.path}`),
      ['POST /v1/statement', 'GET /n/3', 'DELETE /n/3'],
    );
  });

  it('does not re-send a POST answered with 503, and reports it as retryable unavailability', async () => {
    fake.reply({ status: 503, body: 'overloaded' });
    const err = await rejection(drain(client()));
    assert.ok(err instanceof TrinoHttpError);
    assert.equal(err.phase, 'submit');
    assert.equal(fake.requests.length, 1);
    const mapped = mapProtocolError(err, { engine: 'trino', dataSource: 'ds' });
    assert.equal(mapped.code, 'SLUICE_DATASOURCE_UNAVAILABLE');
    assert.equal(mapped.retryable, true);
  });

  it('treats a POST whose connection broke after sending as of unknown fate: not re-sent, not retryable', async () => {
    fake.reply({ destroy: true });
    const err = await rejection(drain(client()));
    assert.ok(err instanceof TrinoConnectionError);
    assert.equal(err.sent, true);
    assert.equal(fake.requests.length, 1);
    const mapped = mapProtocolError(err, { engine: 'trino', dataSource: 'ds' });
    assert.equal(mapped.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(mapped.retryable, false);
  });

  it('reports a POST to a closed port as never sent, hence safely retryable', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const err = await rejection(drain(client('trino', `http://127.0.0.1:${port}`)));
    assert.ok(err instanceof TrinoConnectionError);
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(err.sent, false);
    assert.equal(mapProtocolError(err, { engine: 'trino', dataSource: 'ds' }).code, 'SLUICE_DATASOURCE_UNAVAILABLE');
  });

  it('repeats a GET after a dropped connection, and gives up after requestTimeoutMs', async () => {
    fake.reply({ status: 200, body: fake.page('q4', '/n/4') }, { destroy: true }, { status: 200, body: fake.page('q4', null) });
    assert.equal((await drain(client())).length, 2);
    assert.equal(fake.requests.length, 3);

    fake.requests.length = 0;
    fake.reply({ status: 200, body: fake.page('q5', '/n/5') });
    for (let i = 0; i < 50; i++) fake.reply({ status: 503 });
    const started = Date.now();
    const err = await rejection(drain(client('trino', fake.url, 1000)));
    const took = Date.now() - started;
    assert.ok(err instanceof TrinoHttpError);
    assert.equal(err.status, 503);
    assert.ok(err.retries >= 3, `${err.retries} retries`);
    assert.ok(took >= 1000 && took < 3000, `gave up after ${took} ms`);
    assert.equal(mapProtocolError(err, { engine: 'trino', dataSource: 'ds' }).code, 'SLUICE_DATASOURCE_UNAVAILABLE');
  });

  it('sends the session on the POST, the user and credential on every request, in the chosen header family', async () => {
    for (const family of ['trino', 'presto'] as const) {
      fake.requests.length = 0;
      fake.reply({ status: 200, body: fake.page('q6', '/n/6') }, { status: 200, body: fake.page('q6', null) });
      await drain(client(family));
      const p = family === 'trino' ? 'x-trino-' : 'x-presto-';
      const [post, get] = fake.requests;
      assert.ok(post && get);
      assert.equal(post.body, 'SELECT 1');
      assert.deepEqual(fake.headerValues(post, `${p}user`), ['alice']);
      assert.deepEqual(fake.headerValues(post, `${p}source`), ['sluice']);
      assert.deepEqual(fake.headerValues(post, `${p}catalog`), ['tpch']);
      assert.deepEqual(fake.headerValues(post, `${p}schema`), ['tiny']);
      assert.deepEqual(fake.headerValues(post, `${p}session`), ['query_max_run_time=1h', 'hive.compression_codec=ZSTD']);
      assert.deepEqual(fake.headerValues(post, `${p}transaction-id`), ['NONE']);
      assert.deepEqual(fake.headerValues(post, `${p}client-tags`), ['IDE,etl']);
      assert.match(fake.headerValues(post, `${p}client-capabilities`)[0] ?? '', /PARAMETRIC_DATETIME/);
      assert.deepEqual(fake.headerValues(post, 'authorization'), ['Basic c2VjcmV0']);
      assert.deepEqual(fake.headerValues(get, `${p}user`), ['alice']);
      assert.deepEqual(fake.headerValues(get, 'authorization'), ['Basic c2VjcmV0']);
      const other = family === 'trino' ? 'x-presto-' : 'x-trino-';
      assert.equal(post.headers.filter(([n]) => n.startsWith(other)).length, 0, 'one header family only');
    }
  });

  it('gathers session changes from the headers of every response, repeated headers included', async () => {
    fake.reply(
      { status: 200, body: fake.page('q7', '/n/7'), headers: [['X-Trino-Set-Session', 'a=1']] },
      {
        status: 200,
        body: fake.page('q7', null),
        headers: [
          ['X-Trino-Set-Session', 'b=two+words%2C+comma'],
          ['X-Trino-Set-Session', 'c=3'],
          ['X-Trino-Clear-Session', 'a'],
          ['X-Trino-Added-Prepare', 'p1=SELECT+%3F'],
          ['X-Trino-Set-Catalog', 'memory'],
        ],
      },
    );
    const execution = client().execute('SET SESSION b = 1', session);
    for await (const _ of execution) {
      // drain
    }
    assert.deepEqual(execution.sessionUpdate.setProperties, { b: 'two words, comma', c: '3' });
    assert.deepEqual([...execution.sessionUpdate.clearProperties], ['a']);
    assert.deepEqual(execution.sessionUpdate.addedPrepare, { p1: 'SELECT ?' });
    assert.equal(execution.sessionUpdate.setCatalog, 'memory');
  });

  it('cancels with a DELETE of the current nextUri when the signal aborts', async () => {
    fake.reply(
      { status: 200, body: fake.page('q8', '/n/8a') },
      { status: 200, body: fake.page('q8', '/n/8b') },
      // The long-poll of /n/8b: answered only after the DELETE arrived.
      () => ({ status: 200, body: fake.page('q8', '/n/8c') }),
      { status: 204 },
    );
    const controller = new AbortController();
    const execution = client().execute('SELECT 1', session, { signal: controller.signal });
    const iterator = execution[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    controller.abort();
    const err = await rejection(iterator.next());
    assert.ok(err instanceof TrinoAbortedError);
    assert.equal(err.queryId, 'q8');
    const deletes = fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
    assert.equal(deletes.length, 1);
    assert.match(deletes[0] ?? '', /^\/n\/8[bc]$/);
  });

  it('throws the last response’s error as a TrinoQueryError', async () => {
    const error = {
      message: "line 1:8: Column 'x' cannot be resolved",
      errorCode: 47,
      errorName: 'COLUMN_NOT_FOUND',
      errorType: 'USER_ERROR',
      errorLocation: { lineNumber: 1, columnNumber: 8 },
    };
    fake.reply({ status: 200, body: fake.page('q9', '/n/9') }, { status: 200, body: fake.page('q9', null, { error, stats: { state: 'FAILED' } }) });
    const err = await rejection(drain(client()));
    assert.ok(err instanceof TrinoQueryError);
    assert.equal(err.queryId, 'q9');
    assert.deepEqual(err.error, error);
    assert.equal(fake.requests.filter((r) => r.method === 'DELETE').length, 0, 'a finished query is not cancelled');
  });
});
