import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HTTP_STATUS_OF, linkisMethod, linkisOk, sendLinkis } from './envelope.ts';

describe('Linkis envelope', () => {
  it('maps every Linkis status to its HTTP status', () => {
    assert.deepEqual({ ...HTTP_STATUS_OF }, { '-1': 401, 0: 200, 1: 400, 2: 412, 3: 403, 4: 206 });
  });

  it('reports the method as /api + the path after /api/rest_j/v1, without the query', () => {
    assert.equal(linkisMethod('/api/rest_j/v1/jobhistory/12/get?brief=true'), '/api/jobhistory/12/get');
    assert.equal(linkisMethod('/api/rest_j/v1/filesystem/openFile'), '/api/filesystem/openFile');
    assert.equal(linkisMethod('/other/path'), '/other/path');
  });

  it('builds OK envelopes and sends them with the mapped HTTP status', () => {
    assert.deepEqual(linkisOk('/api/x', { a: 1 }), { method: '/api/x', status: 0, message: 'OK', data: { a: 1 } });
    const sent: { code?: number; headers: Record<string, string>; body?: string } = { headers: {} };
    sendLinkis(
      {
        code: (c) => {
          sent.code = c;
        },
        header: (k, v) => {
          sent.headers[k] = v;
        },
        send: (b) => {
          sent.body = b as string;
        },
      },
      { method: null, status: 4, message: 'warn', data: {} },
    );
    assert.equal(sent.code, 206);
    assert.match(sent.headers['content-type'] ?? '', /^application\/json/);
    assert.deepEqual(JSON.parse(sent.body ?? ''), { method: null, status: 4, message: 'warn', data: {} });
  });
});
