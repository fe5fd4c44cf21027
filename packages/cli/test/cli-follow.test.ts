import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startTestStack, type TestEnv, type TestStack, testEnv } from '../../../test/support/test-stack.ts';
import { type CliEnv, cliSandbox, runCli, sh, startCli } from './cli-process.ts';
import { startTcpProxy } from './tcp-proxy.ts';

/** The job's log lines in stdout (those starting with `line-`), in order. */
function numbered(stdout: string): number[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('line-'))
    .map((l) => Number(l.slice(5, l.indexOf(' '))));
}

describe('following a job: WebSocket resume and REST polling', () => {
  let env: TestEnv;
  let ts: TestStack;
  let asAlice: CliEnv;
  let box: ReturnType<typeof cliSandbox>;

  before(async () => {
    env = await testEnv('postgres');
    ts = await startTestStack(env);
    box = cliSandbox();
    asAlice = { ...box, url: ts.url, token: ts.tokens.alice };
  });
  after(async () => {
    await ts?.stop();
    await env?.cleanup();
    rmSync(box.root, { recursive: true, force: true });
  });

  it('resumes from the next line after the connection drops: every line once, in order', async () => {
    const proxy = await startTcpProxy(ts.url);
    try {
      const lines = 40;
      const script = `for i in $(seq 1 ${lines}); do echo "line-$i of ${lines}"; sleep 0.1; done`;
      const cli = startCli(`sluice --engine shell --code ${sh(script)}`, { ...asAlice, url: proxy.url });
      await cli.waitFor(/^line-8 /m);
      assert.ok(proxy.cutAll() > 0, 'connections were cut');
      await cli.waitFor(/^line-20 /m);
      proxy.cutAll();
      const r = await cli.done;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /the WebSocket (was closed \(\d+\)|connection failed \(\w+\)); resuming from log line \d+/);
      assert.deepEqual(
        numbered(r.stdout),
        Array.from({ length: lines }, (_, i) => i + 1),
      );
    } finally {
      await proxy.close();
    }
  });

  it('follows by REST polling with --transport poll, with the same output', async () => {
    const script = `for i in 1 2 3; do echo "line-$i of 3"; sleep 0.5; done`;
    const polled = await runCli(`sluice --transport poll --engine shell --code ${sh(script)}`, asAlice);
    assert.equal(polled.code, 0, polled.stderr);
    assert.deepEqual(numbered(polled.stdout), [1, 2, 3]);
    const failed = await runCli('sluice --transport poll -code "select * from nowhere"', asAlice);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /SLUICE_ENGINE_QUERY_FAILED/);
  });

  it('log --follow prints a running job until it ends; plain progress lines when not on a terminal', async () => {
    const r = await runCli(`sluice --async --engine shell --code ${sh('for i in 1 2 3 4; do echo "line-$i x"; sleep 0.5; done')}`, asAlice);
    const taskId = /TaskId:(\d+)/.exec(r.stdout)?.[1];
    assert.ok(taskId, r.stdout);
    const follow = await runCli(`sluice log ${taskId} --follow`, asAlice);
    assert.equal(follow.code, 0, follow.stderr);
    assert.deepEqual(numbered(follow.stdout), [1, 2, 3, 4]);
    assert.match(follow.stderr, new RegExp(`\\[sluice\\] job ${taskId}: Succeed`));
    assert.ok(!follow.stderr.includes('\r') && !follow.stderr.includes('\u001b['), 'no terminal control codes when stderr is not a TTY');
  });

  it('draws a progress bar when stderr is a terminal', async () => {
    // script(1) runs the CLI on a pseudo-terminal, as an interactive shell would.
    const inner = `sluice --engine shell --code ${sh('echo line-1 x; sleep 1; echo line-2 x')}`;
    const r = await runCli(`script -qec ${sh(inner)} /dev/null`, asAlice);
    assert.equal(r.code, 0, r.stdout);
    const clear = `\r${String.fromCharCode(27)}[K`; // carriage return, then erase the line
    assert.ok(r.stdout.includes(clear), 'the bar is redrawn in place');
    assert.match(r.stdout, /\[sluice\] job \d+ Running\s+\[[#-]{30}\]\s+\d+%/, 'a bar');
    assert.deepEqual(numbered(r.stdout.split(clear).join('\n').replace(/\r/g, '')), [1, 2], 'the log lines stay whole');
  });
});
