import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChildMessageBody } from './protocol.ts';
import { AheadRun, mayRunAhead } from './run-ahead.ts';
import type { TaskControl } from './statement-runner.ts';

describe('mayRunAhead', () => {
  it('refuses code that calls something with effects', () => {
    assert.equal(mayRunAhead('SELECT 1'), true);
    assert.equal(mayRunAhead("select count(*) from orders where note = 'nextval'"), true);
    assert.equal(mayRunAhead("SELECT nextval('s')"), false);
    assert.equal(mayRunAhead("select NEXTVAL ('s')"), false);
    assert.equal(mayRunAhead('SELECT setseed(0.5), random()'), false);
    assert.equal(mayRunAhead("SELECT * FROM postgres_execute('pg', 'DELETE FROM t')"), false);
    assert.equal(mayRunAhead("SELECT http_post('http://127.0.0.1/x', {}, {})"), false);
  });
});

describe('AheadRun', () => {
  /** A run whose steps the test drives: each `step()` emits one message, `finish()` ends it. */
  function controlled() {
    let emitRef!: (body: ChildMessageBody) => Promise<void>;
    let controlRef!: TaskControl;
    let finish!: () => void;
    const ended = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const run = new AheadRun(
      't1',
      'SELECT 1',
      2,
      async (control, emit) => {
        emitRef = emit;
        controlRef = control;
        await ended;
        return control.cancelled ? { status: 'cancelled' } : { status: 'ok' };
      },
      () => {},
    );
    return { run, emit: (line: string) => emitRef({ type: 'log', taskId: 't1', line }), control: () => controlRef, finish };
  }

  it('holds what the run emits until adopted, then hands it over in order and the rest straight on', async () => {
    const c = controlled();
    await c.emit('a');
    await c.emit('b');
    assert.deepEqual(
      c.run.heldMessages.map((m) => (m as { line: string }).line),
      ['a', 'b'],
    );
    const got: string[] = [];
    c.run.adopt(async (body) => {
      got.push((body as { line: string }).line);
    });
    await c.emit('c');
    c.finish();
    assert.deepEqual(await c.run.ended, { status: 'ok' });
    assert.deepEqual(got, ['a', 'b', 'c']);
    assert.equal(c.run.heldMessages.length, 0);
  });

  it('cancels a run nobody adopts, interrupting until it has ended', async () => {
    const c = controlled();
    let interrupts = 0;
    const cancelled = c.run.cancel(() => {
      interrupts += 1;
    });
    assert.equal(c.control().cancelled, true);
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.ok(interrupts >= 2, `interrupted again while the run went on (${interrupts})`);
    c.finish();
    await cancelled;
    const after = interrupts;
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(interrupts, after, 'no interrupt once the run ended');
    assert.deepEqual(c.run.outcome, { status: 'cancelled' });
  });

  it('reports a run that throws as an internal failure', async () => {
    const run = new AheadRun(
      't2',
      'SELECT 1',
      2,
      async () => {
        throw new Error('native failure');
      },
      () => {},
    );
    assert.deepEqual(await run.ended, { status: 'internal', reason: 'native failure' });
  });
});
