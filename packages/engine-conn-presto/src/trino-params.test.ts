import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '@sluice/core';
import { z } from 'zod';
import { parseStartupParams, parseTrinoParams, trinoParamsSchema, trinoSecretFields } from './trino-params.ts';

function invalid(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_REQUEST_INVALID');
    return String(err.details.summary);
  }
  assert.fail('expected SLUICE_REQUEST_INVALID');
}

describe('trino params', () => {
  it('applies defaults', () => {
    const p = parseTrinoParams({ host: 'trino.example.com' }, 'ds');
    assert.equal(p.tls, false);
    assert.equal(p.tlsMode, 'verify-full');
    assert.deepEqual(p.sessionProperties, {});
    assert.deepEqual(p.clientTags, []);
    assert.equal(p.requestTimeoutMs, 120_000);
    assert.equal(p.port, undefined, 'the port default depends on tls');
  });

  it('sends credentials only over TLS, and needs a user for a password', () => {
    assert.match(
      invalid(() => parseTrinoParams({ host: 'h', user: 'u', password: 'secret-pw' }, 'ds')),
      /tls: credentials are only sent over TLS/,
    );
    assert.match(
      invalid(() => parseTrinoParams({ host: 'h', jwt: 'a.b.c' }, 'ds')),
      /tls/,
    );
    assert.match(
      invalid(() => parseTrinoParams({ host: 'h', tls: true, password: 'secret-pw' }, 'ds')),
      /user: password needs user/,
    );
    assert.match(
      invalid(() => parseTrinoParams({ host: 'h', tls: true, user: 'u', password: 'p1', jwt: 'j' }, 'ds')),
      /jwt: give password or jwt/,
    );
    assert.equal(parseTrinoParams({ host: 'h', tls: true, user: 'u', password: 'p' }, 'ds').password, 'p');
  });

  it('never echoes a rejected value, so a secret in the wrong field does not leak', () => {
    const summary = invalid(() => parseTrinoParams({ host: 'h', tls: true, user: 'u', password: 42 }, 'ds'));
    assert.ok(!summary.includes('42'), summary);
    const unknown = invalid(() => parseTrinoParams({ host: 'h', pasword: 'typo-secret' }, 'ds'));
    assert.ok(!unknown.includes('typo-secret'), unknown);
  });

  it('keeps header values safe: no commas in tags, no control characters in names', () => {
    assert.match(
      invalid(() => parseTrinoParams({ host: 'h', clientTags: ['a,b'] }, 'ds')),
      /clientTags/,
    );
    assert.match(
      invalid(() => parseTrinoParams({ host: 'h', catalog: 'a\r\nX-Evil: 1' }, 'ds')),
      /catalog/,
    );
    assert.match(
      invalid(() => parseTrinoParams({ host: 'h', schema: 's' }, 'ds')),
      /catalog: schema needs catalog/,
    );
  });

  it('marks the secret fields in the JSON Schema, for the data-source service', () => {
    assert.deepEqual(trinoSecretFields, ['password', 'jwt']);
    const schema = z.toJSONSchema(trinoParamsSchema, { io: 'input' }) as { properties: Record<string, { writeOnly?: boolean }> };
    assert.equal(schema.properties.password?.writeOnly, true);
    assert.equal(schema.properties.jwt?.writeOnly, true);
    assert.equal(schema.properties.host?.writeOnly, undefined);
  });

  it('lets a job choose session settings but no connection details', () => {
    assert.deepEqual(parseStartupParams({ catalog: 'memory', sessionProperties: { a: '1' }, host: 'elsewhere' }, 'trino'), {
      catalog: 'memory',
      sessionProperties: { a: '1' },
    });
    assert.match(
      invalid(() => parseStartupParams({ clientTags: 'x' }, 'trino')),
      /clientTags/,
    );
  });
});
