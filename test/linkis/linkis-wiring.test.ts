import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestStack, type TestEnv, type TestStack, testEnv } from '../support/test-stack.ts';
import { LinkisClient } from './linkis-stack.ts';
import { LinkisWsClient } from './linkis-ws-client.ts';

describe('the Linkis front door as the standalone stack mounts it (SLUICE_LINKIS_ENGINE_MAP from the config)', () => {
  let env: TestEnv;
  let ts: TestStack;

  before(async () => {
    env = await testEnv('redis');
    ts = await startTestStack(env, { overrides: { SLUICE_LINKIS_ENGINE_MAP: JSON.stringify({ 'hive-*': { engine: 'duckdb', codeTypes: { hql: 'sql' } } }) } });
  });
  after(async () => {
    await ts?.stop();
    await env?.cleanup();
  });

  it('serves REST and the WebSocket on the gateway, with the configured engine map', async () => {
    const c = LinkisClient.withToken(ts.url, 'alice', ts.tokens.alice);
    const { execID, taskID } = await c.submit({ executionContent: { code: 'select 6 * 7 as answer', runType: 'hql' }, labels: { engineType: 'hive-2.3.3' } });
    assert.equal(await c.waitFinal(execID), 'Succeed');
    const task = (await c.get(`jobhistory/${taskID}/get`)).body.data.task as Record<string, string>;
    assert.equal(task.engineType, 'hive');
    const page = await c.get(`filesystem/openFile?path=${encodeURIComponent(`${task.resultLocation}/_0.dolphin`)}`);
    assert.deepEqual(page.body.data.fileContent, [['42']]);

    const ws = await LinkisWsClient.connect(ts.url, { 'Token-User': 'alice', 'Token-Code': ts.tokens.alice });
    try {
      ws.send({ method: `/api/rest_j/v1/entrance/${execID}/status`, websocketTag: 't' });
      const reply = await ws.until((f) => f.find((x) => x.data.websocketTag === 't'), 'status reply');
      assert.equal(reply.data.status, 'Succeed');
    } finally {
      ws.close();
    }
  });
});
