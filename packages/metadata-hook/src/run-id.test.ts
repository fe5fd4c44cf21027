import assert from 'node:assert/strict';
import { it } from 'node:test';
import { externalRunId, isUuid, runIdForJob, uuidV5 } from './run-id.ts';

it('uuidV5 matches the RFC 9562 example (DNS namespace, www.example.com)', () => {
  assert.equal(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
});

it('run ids are stable per job and distinct across jobs; external ids keep UUIDs', () => {
  assert.equal(runIdForJob('a'), runIdForJob('a'));
  assert.notEqual(runIdForJob('a'), runIdForJob('b'));
  assert.ok(isUuid(runIdForJob('a')));
  const u = '0190b6a2-7c3e-7d4f-8a1b-2c3d4e5f6a7b';
  assert.equal(externalRunId('ns', 'n', u.toUpperCase()), u);
  assert.equal(externalRunId('ns', 'n', '42'), externalRunId('ns', 'n', '42'));
  assert.notEqual(externalRunId('ns', 'n', '42'), externalRunId('ns', 'm', '42'));
});

it('remembered run ids equal freshly derived ones, before and after the memory turns over', () => {
  const first = runIdForJob('job-0');
  assert.equal(first, uuidV5('sluice-job:job-0', '6f1c3b8e-2d4a-5b7c-9e1f-0a2b3c4d5e6f'));
  for (let i = 1; i < 3000; i++) runIdForJob(`job-${i}`);
  assert.equal(runIdForJob('job-0'), first, 'derived again after it was forgotten');
  assert.equal(runIdForJob('job-2999'), uuidV5('sluice-job:job-2999', '6f1c3b8e-2d4a-5b7c-9e1f-0a2b3c4d5e6f'));
  assert.throws(() => uuidV5('x', 'not-a-uuid'), /not a UUID/);
});
