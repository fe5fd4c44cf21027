import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliError } from './cli-error.ts';
import { EXIT } from './exit-codes.ts';
import { parseKeysArgs } from './keys-command.ts';

const usageError = (argv: string[], pattern: RegExp) =>
  assert.throws(
    () => parseKeysArgs(argv),
    (e: unknown) => e instanceof CliError && e.exitCode === EXIT.usage && pattern.test(e.message),
    argv.join(' '),
  );

describe('sluice keys arguments', () => {
  it('takes rotate or status with the connection options and a format', () => {
    const r = parseKeysArgs(['rotate', '--url', 'http://h:1', '--token=t', '--format', 'json']);
    assert.equal(r.action, 'rotate');
    assert.equal(r.args.values.url, 'http://h:1');
    assert.equal(r.args.values.format, 'json');
    assert.equal(parseKeysArgs(['status']).action, 'status');
  });

  it('passes --help through, before or after the action', () => {
    assert.equal(parseKeysArgs(['--help']).args.command, 'help');
    assert.equal(parseKeysArgs(['status', '--help']).args.command, 'help');
  });

  it('refuses other actions, job options, extra arguments and other formats', () => {
    usageError([], /rotate or status, not nothing/);
    usageError(['spin'], /rotate or status, not "spin"/);
    usageError(['rotate', '--code', 'select 1'], /takes only --url, --token, --config and --format/);
    usageError(['rotate', '--async'], /takes only/);
    usageError(['status', 'extra'], /unexpected arguments/);
    usageError(['status', '--format', 'csv'], /table or json/);
  });
});
