import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SluiceError } from '@sluice/core';
import { openSecrets, parseKeyring, rewrapEnvelope, sealSecrets } from '@sluice/datasource-service';

const key = () => randomBytes(32).toString('base64');

test('sealed secrets open with the same key and record, and hold no clear text', () => {
  const ring = parseKeyring(`k1:${key()}`);
  const env = sealSecrets(ring, { password: 'hunter2-very-secret' }, 'ds1:1');
  assert.equal(env.kid, 'k1');
  assert.ok(!JSON.stringify(env).includes('hunter2'));
  assert.deepEqual(openSecrets(ring, env, 'ds1:1'), { password: 'hunter2-very-secret' });
});

test('an envelope does not open on another record, or after tampering', () => {
  const ring = parseKeyring(`k1:${key()}`);
  const env = sealSecrets(ring, { password: 'p@ss' }, 'ds1:1');
  assert.throws(() => openSecrets(ring, env, 'ds2:1'));
  const data = Buffer.from(env.data, 'base64');
  data[data.length - 1] = (data[data.length - 1] as number) ^ 1;
  assert.throws(() => openSecrets(ring, { ...env, data: data.toString('base64') }, 'ds1:1'));
});

test('rotation re-wraps the data key only; afterwards the old key is no longer needed', () => {
  const oldKey = key();
  const newKey = key();
  const before = parseKeyring(`old:${oldKey}`);
  const env = sealSecrets(before, { token: 'tok-123456' }, 'ds:3');
  const during = parseKeyring(`new:${newKey},old:${oldKey}`);
  const rotated = rewrapEnvelope(during, env, 'ds:3');
  assert.equal(rotated.kid, 'new');
  assert.equal(rotated.data, env.data, 'the sealed secrets are unchanged');
  assert.notEqual(rotated.dek, env.dek);
  assert.deepEqual(openSecrets(parseKeyring(`new:${newKey}`), rotated, 'ds:3'), { token: 'tok-123456' });
  assert.throws(
    () => openSecrets(parseKeyring(`new:${newKey}`), env, 'ds:3'),
    (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_CONFIG_INVALID' && /old/.test(e.message),
  );
});

test('a bad SLUICE_MASTER_KEYS names the setting and never echoes the value', () => {
  for (const bad of ['', 'nokey', `k1:${randomBytes(16).toString('base64')}`, `k1:${key()},k1:${key()}`, 'k1:!!!']) {
    assert.throws(
      () => parseKeyring(bad),
      (e: unknown) => e instanceof SluiceError && e.details.setting === 'SLUICE_MASTER_KEYS' && (bad === '' || !e.message.includes(bad)),
      bad,
    );
  }
});
