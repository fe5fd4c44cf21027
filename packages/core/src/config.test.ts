import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, SluiceError } from '@sluice/core';

test('defaults give the embedded default on 127.0.0.1:9001', () => {
  const c = loadConfig({});
  assert.equal(c.SLUICE_PORT, 9001);
  assert.equal(c.SLUICE_HOST, '127.0.0.1');
  assert.equal(c.embedded, true);
  assert.equal(c.queueBackend, 'postgres');
  assert.equal(c.SLUICE_MAX_CODE_BYTES, 1024 * 1024);
});

test('REDIS_URL switches the queue and bus to Redis', () => {
  const c = loadConfig({ DATABASE_URL: 'postgres://u:p@127.0.0.1/db', REDIS_URL: 'redis://127.0.0.1:6379' });
  assert.equal(c.embedded, false);
  assert.equal(c.queueBackend, 'redis');
  assert.equal(c.busBackend, 'redis');
});

test('invalid settings stop start-up with an error naming the setting', () => {
  const cases: [Record<string, string>, string][] = [
    [{ SLUICE_PORT: 'abc' }, 'SLUICE_PORT'],
    [{ SLUICE_PORT: '70000' }, 'SLUICE_PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ SLUICE_QUEUE_BACKEND: 'redis' }, 'SLUICE_QUEUE_BACKEND'],
    [{ SLUICE_DENY_PATTERNS: 'drop(' }, 'SLUICE_DENY_PATTERNS'],
    [{ SLUICE_DEFAULT_ENGINE: 'oracle' }, 'SLUICE_DEFAULT_ENGINE'],
    [{ SLUICE_LOG_LEVEL: 'loud' }, 'SLUICE_LOG_LEVEL'],
  ];
  for (const [env, setting] of cases) {
    assert.throws(
      () => loadConfig(env),
      (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_CONFIG_INVALID' && e.details.setting === setting && e.message.includes(setting),
      setting,
    );
  }
});

test('deny patterns parse into case-insensitive regular expressions', () => {
  const c = loadConfig({ SLUICE_DENY_PATTERNS: 'drop\\s+table;; truncate' });
  assert.equal(c.SLUICE_DENY_PATTERNS.length, 2);
  assert.ok(c.SLUICE_DENY_PATTERNS[0]?.test('DROP  TABLE x'));
});
