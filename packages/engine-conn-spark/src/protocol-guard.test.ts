import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { SluiceError } from '@sluice/core';
import { GENERATED_PROTOCOL } from './generated/spark-connect.ts';
import { checkServerVersion, protocolMatch } from './protocol-guard.ts';
import { createSparkConnector } from './spark-connector.ts';

const [major, minor] = GENERATED_PROTOCOL.sparkVersion.split('.').map(Number) as [number, number];

describe('protocol version guard', () => {
  it('compares major and minor versions', () => {
    assert.equal(protocolMatch('4.1.4', '4.1.0'), 'same');
    assert.equal(protocolMatch('4.1.0-SNAPSHOT', '4.1.4'), 'same');
    assert.equal(protocolMatch('4.0.1', '4.1.4'), 'minor');
    assert.equal(protocolMatch('4.2.0', '4.1.4'), 'minor');
    assert.equal(protocolMatch('3.5.3', '4.1.4'), 'major');
    assert.equal(protocolMatch('5.0.0', '4.1.4'), 'major');
    assert.equal(protocolMatch('', '4.1.4'), 'unknown');
    assert.equal(protocolMatch('dev', '4.1.4'), 'unknown');
  });

  it('accepts a server of the generated version silently', () => {
    const warnings: string[] = [];
    checkServerVersion(`${major}.${minor}.99`, 'the test server', (m) => warnings.push(m));
    assert.deepEqual(warnings, []);
  });

  it('warns once per version about another minor version, and accepts it', () => {
    const warnings: string[] = [];
    const other = `${major}.${minor + 7}.0`;
    checkServerVersion(other, 'the test server', (m) => warnings.push(m));
    checkServerVersion(other, 'the test server', (m) => warnings.push(m));
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0] ?? '',
      new RegExp(
        `the test server runs Spark ${other.replace(/\./g, '\\.')}; the Spark Connect protocol was generated from Spark ${GENERATED_PROTOCOL.sparkVersion}`,
      ),
    );
  });

  it('refuses a server of another major version with a structured launch error', () => {
    const warnings: string[] = [];
    const other = `${major + 1}.0.0`;
    assert.throws(
      () => checkServerVersion(other, 'the Spark Connect server at h:1', (m) => warnings.push(m)),
      (err: unknown) => {
        assert.ok(err instanceof SluiceError);
        assert.equal(err.code, 'SLUICE_ENGINE_VERSION_UNSUPPORTED');
        assert.equal(err.retryable, false);
        assert.equal(err.details.serverVersion, other);
        assert.equal(err.details.protocolVersion, GENERATED_PROTOCOL.sparkVersion);
        assert.match(String(err.details.reason), /npm run generate:spark-protocol/);
        return true;
      },
    );
    assert.deepEqual(warnings, []);
  });

  it('makes the connector refuse a distribution of another major version before starting anything', async () => {
    // A fake distribution: no Spark of another major version is at hand, and nothing here may run.
    // Its spark-submit and java would fail loudly if the connector got as far as starting them.
    const dir = await mkdtemp(path.join(tmpdir(), 'sluice-fake-spark-'));
    try {
      const sparkHome = path.join(dir, 'spark');
      const javaHome = path.join(dir, 'java');
      await mkdir(path.join(sparkHome, 'bin'), { recursive: true });
      await mkdir(path.join(sparkHome, 'jars'), { recursive: true });
      await mkdir(path.join(javaHome, 'bin'), { recursive: true });
      for (const exe of [path.join(sparkHome, 'bin', 'spark-submit'), path.join(javaHome, 'bin', 'java')]) {
        await writeFile(exe, '#!/bin/sh\necho "fake: must not run" >&2\nexit 99\n');
        await chmod(exe, 0o755);
      }
      const other = `${major + 1}.0.0`;
      await writeFile(path.join(sparkHome, 'jars', `spark-connect_2.13-${other}.jar`), '');
      const warnings: string[] = [];
      const connector = createSparkConnector({ sparkHome, javaHome, warn: (m) => warnings.push(m) });
      const spec = { engineId: 'e1', user: 'alice', version: '4', workDir: path.join(dir, 'work'), params: {} };
      await assert.rejects(connector.launch(spec), (err: unknown) => {
        assert.ok(err instanceof SluiceError);
        assert.equal(err.code, 'SLUICE_ENGINE_VERSION_UNSUPPORTED');
        assert.equal(err.retryable, false);
        assert.equal(err.details.serverVersion, other);
        assert.match(String(err.details.reason), new RegExp(`the Spark distribution at .* runs Spark ${other.replace(/\./g, '\\.')}`));
        return true;
      });
      assert.deepEqual(warnings, []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
