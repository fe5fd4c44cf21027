import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AheadStatements } from './ahead-statements.ts';

/**
 * A fake prepare whose statements resolve when the test says so: the order in which libuv's threads
 * finish prepares cannot be arranged with real DuckDB. The engine tests cover the real thing.
 */
class FakeStatements {
  readonly pending = new Map<string, (ok: boolean) => void>();
  readonly destroyed: string[] = [];
  prepare = (code: string) =>
    new Promise<{ code: string; destroySync: () => void } | undefined>((resolve) => {
      this.pending.set(code, (ok) => resolve(ok ? { code, destroySync: () => this.destroyed.push(code) } : undefined));
    });
  finish(code: string, ok = true): void {
    const done = this.pending.get(code);
    assert.ok(done, `no prepare of ${code} in flight`);
    this.pending.delete(code);
    done(ok);
  }
}

const settledWithin = async (p: Promise<unknown>): Promise<boolean> => {
  let settled = false;
  void p.then(() => {
    settled = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
};

describe('statements prepared ahead', () => {
  it('gives the expected task its statement, once, and counts it', async () => {
    const fake = new FakeStatements();
    const ahead = new AheadStatements(fake.prepare);
    ahead.offer('t1', 'select 1');
    const taken = ahead.take('t1', 'select 1');
    assert.equal(await settledWithin(taken), false, 'waits for the prepare');
    fake.finish('select 1');
    assert.equal((await taken)?.code, 'select 1');
    assert.equal(ahead.used, 1);
    assert.equal(await ahead.take('t1', 'select 1'), undefined, 'taken once');
    assert.deepEqual(fake.destroyed, [], 'the task owns it now');
  });

  it('lets another task start only after every prepare in flight has finished, and frees the dropped ones', async () => {
    const fake = new FakeStatements();
    const ahead = new AheadStatements(fake.prepare);
    ahead.offer('t1', 'a');
    ahead.offer('t2', 'b'); // drops a, still in flight
    const other = ahead.take('t3', 'c'); // drops b, still in flight
    fake.finish('b');
    assert.equal(await settledWithin(other), false, 'a is still being prepared');
    fake.finish('a');
    assert.equal(await other, undefined);
    assert.deepEqual(fake.destroyed.sort(), ['a', 'b']);
    assert.equal(ahead.used, 0);
  });

  it('drains: drops what is kept and waits for the prepares in flight', async () => {
    const fake = new FakeStatements();
    const ahead = new AheadStatements(fake.prepare);
    ahead.offer('t1', 'a');
    const drained = ahead.drain();
    assert.equal(await settledWithin(drained), false);
    fake.finish('a');
    await drained;
    assert.deepEqual(fake.destroyed, ['a']);
    assert.equal(await ahead.take('t1', 'a'), undefined);
  });

  it('never hands over a statement for other code or a refused prepare', async () => {
    const fake = new FakeStatements();
    const ahead = new AheadStatements(fake.prepare);
    ahead.offer('t1', 'select 1');
    fake.finish('select 1');
    assert.equal(await ahead.take('t1', 'select 2'), undefined);
    assert.deepEqual(fake.destroyed, ['select 1']);
    ahead.offer('t2', 'selec 1');
    fake.finish('selec 1', false);
    assert.equal(await ahead.take('t2', 'selec 1'), undefined);
    assert.equal(ahead.used, 0);
  });
  it('keeps a statement prepared elsewhere for its task only, and drops it for any other', async () => {
    const fake = new FakeStatements();
    const ahead = new AheadStatements(fake.prepare);
    const made = (code: string) => ({ code, destroySync: () => fake.destroyed.push(code) });
    ahead.keep('t1', 'insert 1', made('insert 1'));
    assert.equal((await ahead.take('t1', 'insert 1'))?.code, 'insert 1');
    assert.equal(ahead.used, 1);
    ahead.keep('t2', 'insert 2', made('insert 2'));
    assert.equal(await ahead.take('t3', 'insert 2'), undefined);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(fake.destroyed, ['insert 2']);
  });
});
