import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { batchArgs, resolveBatchFile } from './batch-run.ts';

describe('batch run parameters', () => {
  let dir: string;
  let allowed: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sluice-spark-batch-'));
    allowed = path.join(dir, 'allowed');
    await mkdir(allowed);
    await writeFile(path.join(allowed, 'job.py'), 'print(1)\n');
    await writeFile(path.join(dir, 'secret.py'), 'print(2)\n');
    await symlink(path.join(dir, 'secret.py'), path.join(allowed, 'escape.py'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('turns args into strings and refuses other shapes', () => {
    assert.deepEqual(batchArgs({}), []);
    assert.deepEqual(batchArgs({ args: ['a', 1, true] }), ['a', '1', 'true']);
    assert.throws(() => batchArgs({ args: 'a b' }), /list of strings/);
    assert.throws(() => batchArgs({ args: [{}] }), /list of strings/);
  });

  it('resolves a file only inside the allowed directories, following symbolic links', async () => {
    assert.equal(await resolveBatchFile(path.join(allowed, 'job.py'), [allowed], '.py'), path.join(allowed, 'job.py'));
    await assert.rejects(resolveBatchFile(path.join(allowed, 'escape.py'), [allowed], '.py'), /outside the directories/);
    await assert.rejects(resolveBatchFile(path.join(allowed, '..', 'secret.py'), [allowed], '.py'), /outside the directories/);
    await assert.rejects(resolveBatchFile(path.join(allowed, 'job.py'), [], '.py'), /allows no batch files/);
    await assert.rejects(resolveBatchFile(path.join(allowed, 'missing.py'), [allowed], '.py'), /cannot be read/);
    await assert.rejects(resolveBatchFile(path.join(allowed, 'job.py'), [allowed], '.jar'), /\.jar file/);
    await assert.rejects(resolveBatchFile(42, [allowed], '.py'), /must be a path/);
  });
});
