import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadConfig, SluiceError } from '@sluice/core';
import { EngineCatalog } from './engine-catalog.ts';

const FIXTURE = fileURLToPath(new URL('../test/fixtures/load-catalog.ts', import.meta.url));

/** The catalog built in a fresh process, so what it loaded is all that process loaded. */
async function loadInChild(engines: string): Promise<{ connectors: string[]; params: string[]; loaded: string[] }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=sluice-source', '--import', 'tsx', FIXTURE, engines], {
    cwd: path.dirname(FIXTURE),
    timeout: 60_000,
  });
  return JSON.parse(stdout);
}

describe('engine catalog', () => {
  it('loads only the connectors SLUICE_ENGINES names, and still knows every data-source parameter schema', async () => {
    const light = await loadInChild('duckdb,shell');
    assert.deepEqual(light.connectors, ['duckdb', 'shell']);
    assert.deepEqual(light.params, ['postgresql', 'trino', 'spark', 'flink-sql-gateway']);
    assert.deepEqual(light.loaded, [], 'no gRPC client and no database driver was loaded');

    const heavy = await loadInChild('jdbc,spark');
    assert.deepEqual(heavy.connectors, ['jdbc', 'spark']);
    assert.ok(heavy.loaded.includes('@grpc/grpc-js') && heavy.loaded.includes('pg'), JSON.stringify(heavy.loaded));
  });

  it('resolves labels against the loaded connectors only', async () => {
    const catalog = await EngineCatalog.fromConfig(loadConfig({ SLUICE_ENGINES: 'duckdb,shell', SLUICE_DEFAULT_ENGINE: 'duckdb' }));
    assert.equal(catalog.resolve(undefined).label, `duckdb-${catalog.byName('duckdb')?.defaultVersion}`);
    assert.equal(catalog.resolve('shell').connector.name, 'shell');
    assert.throws(
      () => catalog.resolve('spark'),
      (e) => e instanceof SluiceError && e.code === 'SLUICE_JOB_ENGINE_UNKNOWN',
    );
  });

  it('refuses an unknown engine name, naming the setting', async () => {
    await assert.rejects(
      EngineCatalog.fromConfig({ ...loadConfig({}), SLUICE_ENGINES: ['duckdb', 'nosuch'] }),
      (e) => e instanceof SluiceError && e.code === 'SLUICE_CONFIG_INVALID' && JSON.stringify(e.details).includes('SLUICE_ENGINES'),
    );
  });
});
