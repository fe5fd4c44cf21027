import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayProtocolError } from './gateway-errors.ts';
import { parseLosslessJson } from './lossless-json.ts';
import { decodeResultPage, rowKindOf } from './result-page.ts';

// Shapes as a Flink 2.3 SQL Gateway sends them (v4, rowFormat=JSON).
const PAYLOAD = `{"resultType":"PAYLOAD","isQueryResult":true,"jobID":"345e81b090cc4296fbdc93d4af33b6e0","resultKind":"SUCCESS_WITH_CONTENT",
  "results":{"columns":[{"name":"k","logicalType":{"type":"INTEGER","nullable":true},"comment":null},
                        {"name":"big","logicalType":{"type":"BIGINT","nullable":false},"comment":null}],
             "rowFormat":"JSON",
             "data":[{"kind":"INSERT","fields":[3,12345678901234567]},{"kind":"UPDATE_BEFORE","fields":[3,1]},
                     {"kind":"UPDATE_AFTER","fields":[3,2]},{"kind":"DELETE","fields":[null,5]}]},
  "nextResultUri":"/v4/sessions/930ac724-da2a-4304-b50a-e0ca64d3a783/operations/ee82316a-c703-4a41-ad27-84b385c506d0/result/10?rowFormat=JSON"}`;

describe('decodeResultPage', () => {
  it('decodes a PAYLOAD: envelope, columns, changelog rows with exact BIGINTs', () => {
    const page = decodeResultPage(parseLosslessJson(PAYLOAD));
    assert.equal(page.resultType, 'PAYLOAD');
    assert.equal(page.isQueryResult, true);
    assert.equal(page.jobId, '345e81b090cc4296fbdc93d4af33b6e0');
    assert.equal(page.resultKind, 'SUCCESS_WITH_CONTENT');
    assert.deepEqual(
      page.columns?.map((c) => [c.name, c.logicalType.type]),
      [
        ['k', 'INTEGER'],
        ['big', 'BIGINT'],
      ],
    );
    assert.deepEqual(page.rows, [
      { kind: '+I', fields: [3, '12345678901234567'] },
      { kind: '-U', fields: [3, '1'] },
      { kind: '+U', fields: [3, '2'] },
      { kind: '-D', fields: [null, '5'] },
    ]);
    assert.match(page.nextResultUri ?? '', /result\/10\?rowFormat=JSON$/);
  });

  it('decodes NOT_READY and EOS', () => {
    const notReady = decodeResultPage(parseLosslessJson('{"resultType":"NOT_READY","nextResultUri":"/v4/x/result/0?rowFormat=JSON"}'));
    assert.deepEqual(notReady, { resultType: 'NOT_READY', rows: [], nextResultUri: '/v4/x/result/0?rowFormat=JSON' });
    const eos = decodeResultPage(
      parseLosslessJson('{"resultType":"EOS","isQueryResult":false,"resultKind":"SUCCESS","results":{"columns":[],"rowFormat":"JSON","data":[]}}'),
    );
    assert.equal(eos.resultType, 'EOS');
    assert.equal(eos.nextResultUri, undefined);
    assert.deepEqual(eos.rows, []);
  });

  it('decodes a v1 page, which has no rowFormat, isQueryResult or resultKind', () => {
    const page = decodeResultPage(
      parseLosslessJson(
        '{"results":{"columns":[{"name":"x","logicalType":{"type":"INTEGER","nullable":false}}],"data":[{"kind":"INSERT","fields":[1]}]},"resultType":"PAYLOAD","nextResultUri":"/v1/a/result/1"}',
      ),
    );
    assert.equal(page.isQueryResult, undefined);
    assert.deepEqual(page.rows, [{ kind: '+I', fields: [1] }]);
  });

  it('rejects what it does not understand', () => {
    assert.throws(() => decodeResultPage(parseLosslessJson('{"resultType":"MAYBE"}')), GatewayProtocolError);
    assert.throws(() => decodeResultPage(parseLosslessJson('{"resultType":"PAYLOAD"}')), GatewayProtocolError);
    assert.throws(
      () =>
        decodeResultPage(
          parseLosslessJson(
            '{"resultType":"PAYLOAD","results":{"columns":[{"name":"x","logicalType":{"type":"INTEGER"}}],"data":[{"kind":"INSERT","fields":[1,2]}]}}',
          ),
        ),
      /2 fields for 1 columns/,
    );
    assert.throws(() => rowKindOf('UPSERT'), GatewayProtocolError);
  });
});
