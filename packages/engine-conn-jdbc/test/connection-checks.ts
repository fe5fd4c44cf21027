import assert from 'node:assert/strict';
import { type DataSourceConnection, SluiceError } from '@sluice/core';
import type { createJdbcConnector } from '../src/index.ts';
import { dataSource } from './jdbc-servers.ts';
import { rejectionOf } from './task-runner.ts';

/** The same data source with some parameters replaced. */
export function withParams(ds: DataSourceConnection, params: Record<string, unknown>): DataSourceConnection {
  return dataSource(ds.type, { ...ds.params, ...params }, ds.name);
}

/** Asserts a SluiceError whose message, body and stack never show `secret`. */
export function assertNoSecret(err: unknown, secret: string): void {
  assert.ok(err instanceof SluiceError);
  const text = `${err.message} ${JSON.stringify(err.toBody())} ${err.stack ?? ''}`;
  assert.ok(!text.includes(secret), `the error shows the password: ${text}`);
}

/** The connection test of `ds` fails with SLUICE_DATASOURCE_TEST_FAILED; returns that error. */
export async function testFailure(connector: ReturnType<typeof createJdbcConnector>, ds: DataSourceConnection, timeoutMs = 3000): Promise<SluiceError> {
  const err = await rejectionOf(connector.metadata.testConnection(ds, timeoutMs));
  assert.ok(err instanceof SluiceError, String(err));
  assert.equal(err.code, 'SLUICE_DATASOURCE_TEST_FAILED', err.message);
  return err;
}
