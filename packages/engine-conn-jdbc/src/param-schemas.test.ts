import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '@sluice/core';
import { z } from 'zod';
import { resolveDataSource } from './data-source.ts';
import { clickhouseParamsSchema, jdbcParamsSchemas, jdbcSecretFields, mysqlParamsSchema, postgresqlParamsSchema } from './param-schemas.ts';
import { redactText } from './redact.ts';

describe('parameter schemas', () => {
  it('fills defaults and rejects unknown fields', () => {
    const pg = postgresqlParamsSchema.parse({ host: 'db', database: 'app', user: 'u' });
    assert.deepEqual([pg.port, pg.tls, pg.connectTimeoutMs, pg.applicationName], [5432, false, 10_000, 'sluice']);
    const ch = clickhouseParamsSchema.parse({ host: 'ch' });
    assert.deepEqual([ch.port, ch.user, ch.database, ch.sessionTimeoutSeconds], [8123, 'default', 'default', 3600]);
    assert.equal(mysqlParamsSchema.parse({ host: 'my', user: 'u' }).port, 3306);
    assert.equal(postgresqlParamsSchema.safeParse({ host: 'db', database: 'app', user: 'u', extra: 1 }).success, false);
  });

  it('marks every secret field write-only in the JSON Schema', () => {
    for (const [type, schema] of Object.entries(jdbcParamsSchemas)) {
      const json = z.toJSONSchema(schema, { io: 'input' }) as { properties: Record<string, { writeOnly?: boolean }> };
      const writeOnly = Object.entries(json.properties)
        .filter(([, p]) => p.writeOnly)
        .map(([k]) => k);
      assert.deepEqual(writeOnly, [...jdbcSecretFields[type as keyof typeof jdbcSecretFields]], type);
    }
  });

  it('resolves a data source, and reports invalid fields without their values', () => {
    const ds = resolveDataSource({
      name: 'x',
      type: 'mariadb',
      version: 2,
      params: { host: 'h', user: 'u', password: 'hunter22' },
      secretFields: ['password'],
    });
    assert.equal(ds.conn.dialect, 'mysql');
    assert.deepEqual(ds.secrets, ['hunter22']);
    try {
      resolveDataSource({ name: 'x', type: 'postgresql', version: 1, params: { host: 'h', port: 99999, password: 'hunter22' }, secretFields: ['password'] });
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof SluiceError && err.code === 'SLUICE_REQUEST_INVALID');
      assert.deepEqual((err.details.issues as { path: string }[]).map((i) => i.path).sort(), ['database', 'port', 'user']);
      assert.ok(!JSON.stringify(err.toBody()).includes('hunter22'));
    }
  });

  it('redacts secrets, plain and URL-encoded, but not ones too short to tell apart', () => {
    assert.equal(redactText('pw=p@ss w0rd and p%40ss%20w0rd', ['p@ss w0rd']), 'pw=*** and ***');
    assert.equal(redactText('a b', ['a']), 'a b');
  });
});
