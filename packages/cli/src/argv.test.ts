import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs } from './argv.ts';
import { CliError } from './cli-error.ts';
import { EXIT } from './exit-codes.ts';

function usageError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof CliError && err.exitCode === EXIT.usage && pattern.test(err.message));
}

describe('parseArgs', () => {
  it('reads linkis-cli options exactly as linkis-cli spells them', () => {
    const a = parseArgs([
      '-engineType',
      'duckdb-1.5',
      '-codeType',
      'sql',
      '-code',
      'select 1',
      '-creator',
      'IDE',
      '-submitUser',
      'hadoop',
      '-proxyUser',
      'hadoop',
      '-varMap',
      'a=1',
      '-varMap',
      'b="two words"',
      '-labelMap',
      'k=v',
      '-confMap',
      'c=3',
      '-runtimeMap',
      'r=4',
      '-outPath',
      '/tmp/out',
    ]);
    assert.equal(a.command, 'submit');
    assert.deepEqual(a.values, {
      engineType: 'duckdb-1.5',
      codeType: 'sql',
      code: 'select 1',
      creator: 'IDE',
      submitUser: 'hadoop',
      proxyUser: 'hadoop',
      outPath: '/tmp/out',
    });
    assert.deepEqual(a.maps.variables, { a: '1', b: 'two words' });
    assert.deepEqual(a.maps.labels, { k: 'v' });
    assert.deepEqual(a.maps.startupParams, { c: '3' });
    assert.deepEqual(a.maps.runtimeParams, { r: '4' });
    assert.equal(a.async, false);
  });

  it('takes `--async true` and `--async` alone, but not `--async maybe`', () => {
    assert.equal(parseArgs(['--async', 'true', '-code', 'x']).async, true);
    assert.equal(parseArgs(['--async', '-code', 'x']).async, true);
    assert.equal(parseArgs(['--async', 'false', '-code', 'x']).async, false);
    assert.equal(parseArgs(['--async=true', '-code', 'x']).async, true);
    usageError(() => parseArgs(['--async=maybe', '-code', 'x']), /true or false/);
  });

  it("takes apart DolphinScheduler's glued option/value pairs", () => {
    // LinkisTask.buildParamConfigContent joins props + ' ' + value with no blank between pairs.
    const a = parseArgs(['--async', 'true', '-engineType', 'duckdb-1.5-codeType', 'sql-code', 'select 1 as x', '-creator', 'ds']);
    assert.equal(a.async, true);
    assert.equal(a.values.engineType, 'duckdb-1.5');
    assert.equal(a.values.codeType, 'sql');
    assert.equal(a.values.code, 'select 1 as x');
    assert.equal(a.values.creator, 'ds');
    const b = parseArgs(['-varMap', 'a=1-varMap', 'b=2-labelMap', 'x=y-code', 'select 2']);
    assert.deepEqual(b.maps.variables, { a: '1', b: '2' });
    assert.deepEqual(b.maps.labels, { x: 'y' });
    assert.equal(b.values.code, 'select 2');
    assert.equal(b.scriptFile, undefined);
  });

  it('keeps a value that merely ends like an option when an option follows it', () => {
    const a = parseArgs(['-creator', 'etl-code', '-code', 'select 1']);
    assert.equal(a.values.creator, 'etl-code');
    assert.equal(a.values.code, 'select 1');
  });

  it('reads a script file argument, and refuses arguments after it', () => {
    const a = parseArgs(['-engineType', 'shell', 'job.sh']);
    assert.equal(a.scriptFile, 'job.sh');
    assert.equal(a.values.engineType, 'shell');
    usageError(() => parseArgs(['job.sh', 'extra']), /unexpected arguments after the script file job\.sh: extra/);
  });

  it('reads job commands in both styles', () => {
    assert.deepEqual([parseArgs(['--status', '42']).command, parseArgs(['--status', '42']).jobRef], ['status', '42']);
    assert.deepEqual([parseArgs(['--kill', '7']).command, parseArgs(['--kill', '7']).jobRef], ['kill', '7']);
    assert.deepEqual([parseArgs(['log', '01JD0000000000000000000000']).command, parseArgs(['log', 'X']).jobRef], ['log', 'X']);
    assert.equal(parseArgs(['result', '9', '--format', 'csv']).values.format, 'csv');
    assert.equal(parseArgs(['log', '9', '--follow']).flags.has('follow'), true);
  });

  it('refuses bad command lines with a clear message', () => {
    usageError(() => parseArgs(['-engineTyp', 'x']), /unknown option -engineTyp \(did you mean -engineType\?\)/);
    usageError(() => parseArgs(['-code']), /option -code needs a value <code>/);
    usageError(() => parseArgs(['-varMap', 'novalue']), /takes key=value/);
    usageError(() => parseArgs(['-varMap', 'a=1', '-varMap', 'a=2']), /sets a twice/);
    usageError(() => parseArgs(['--status', '1', '--kill', '2']), /cannot be combined/);
    usageError(() => parseArgs(['status']), /status needs a job id or taskID/);
    usageError(() => parseArgs(['status', '1', '-code', 'x']), /takes a job, not code/);
    usageError(() => parseArgs(['--follow=yes']), /takes no value/);
  });

  it('accepts --name=value and both dash styles for every option', () => {
    const a = parseArgs(['--engineType=shell', '--code=echo hi', '-data-source', 'pg', '--lease-seconds', '5']);
    assert.equal(a.values.engineType, 'shell');
    assert.equal(a.values.code, 'echo hi');
    assert.equal(a.values.dataSource, 'pg');
    assert.equal(a.values.leaseSeconds, '5');
  });

  it('answers --help and --version before anything else', () => {
    assert.equal(parseArgs(['-code', 'x', '--help']).command, 'help');
    assert.equal(parseArgs(['--version']).command, 'version');
  });
});
