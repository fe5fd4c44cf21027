import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseArgs } from './argv.ts';
import { CliError } from './cli-error.ts';
import { DEFAULT_LEASE_SECONDS, DEFAULT_URL, loadConfig } from './config.ts';

describe('loadConfig', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'sluice-cli-config-'));
  after(() => rmSync(home, { recursive: true, force: true }));
  mkdirSync(path.join(home, '.sluice'));
  const file = path.join(home, '.sluice', 'config.json');
  writeFileSync(file, JSON.stringify({ url: 'http://file:1', token: 'file-token', leaseSeconds: 60, creator: 'fromfile' }));
  chmodSync(file, 0o600);

  it('takes the file, then the environment, then flags, each overriding the one before', () => {
    const fileOnly = loadConfig(parseArgs(['-code', 'x']), {}, home);
    assert.deepEqual([fileOnly.url, fileOnly.token, fileOnly.leaseSeconds, fileOnly.creator], ['http://file:1', 'file-token', 60, 'fromfile']);
    assert.equal(fileOnly.file, file);
    assert.deepEqual(fileOnly.warnings, []);
    const env = loadConfig(parseArgs(['-code', 'x']), { SLUICE_URL: 'http://env:2', SLUICE_TOKEN: 'env-token' }, home);
    assert.deepEqual([env.url, env.token], ['http://env:2', 'env-token']);
    const flags = loadConfig(
      parseArgs(['-code', 'x', '--url', 'http://flag:3/', '--token', 'flag-token', '--lease-seconds', '9', '-creator', 'c']),
      { SLUICE_URL: 'http://env:2', SLUICE_TOKEN: 'env-token' },
      home,
    );
    assert.deepEqual([flags.url, flags.token, flags.leaseSeconds, flags.creator], ['http://flag:3', 'flag-token', 9, 'c']);
  });

  it('uses defaults when there is no file', () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'sluice-cli-empty-'));
    try {
      const c = loadConfig(parseArgs(['-code', 'x']), {}, empty);
      assert.deepEqual([c.url, c.token, c.leaseSeconds, c.file], [DEFAULT_URL, undefined, DEFAULT_LEASE_SECONDS, undefined]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('reads a linkis-cli .properties file named by SLUICE_CONFIG', () => {
    const props = path.join(home, 'linkis-cli.properties');
    writeFileSync(props, '# linkis\nwds.linkis.client.common.gatewayUrl=http://gw:9001\nwds.linkis.client.common.tokenValue = tok\\\n  en\n');
    chmodSync(props, 0o600);
    const c = loadConfig(parseArgs(['-code', 'x']), { SLUICE_CONFIG: props }, home);
    assert.deepEqual([c.url, c.token], ['http://gw:9001', 'token']);
  });

  it('warns when a file holding a token is readable by others, without showing the token', () => {
    const open = path.join(home, 'open.json');
    writeFileSync(open, JSON.stringify({ token: 'secret-value' }));
    chmodSync(open, 0o644);
    const c = loadConfig(parseArgs(['--config', open, '-code', 'x']), {}, home);
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0] ?? '', /chmod 600/);
    assert.doesNotMatch(c.warnings[0] ?? '', /secret-value/);
  });

  it('refuses a bad file, a bad URL and a bad lease', () => {
    const bad = path.join(home, 'bad.json');
    writeFileSync(bad, JSON.stringify({ url: 'http://x', colour: 'blue' }));
    assert.throws(
      () => loadConfig(parseArgs(['--config', bad, '-code', 'x']), {}, home),
      (e: unknown) => e instanceof CliError && /invalid/.test(e.message),
    );
    assert.throws(() => loadConfig(parseArgs(['--config', path.join(home, 'missing.json'), '-code', 'x']), {}, home), /cannot read the config file/);
    assert.throws(() => loadConfig(parseArgs(['--url', 'ftp://x', '-code', 'x']), {}, home), /must be http/);
    assert.throws(() => loadConfig(parseArgs(['--lease-seconds', '2', '-code', 'x']), {}, home), /5 to 3600/);
    assert.throws(() => loadConfig(parseArgs(['--authStg', 'static', '-code', 'x']), {}, home), /only|not supported/);
  });
});
