import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChildBatchSchema, ChildMessageSchema, ParentMessageSchema, stamp } from './protocol.ts';

describe('worker protocol', () => {
  it('accepts stamped messages of the catalog', () => {
    assert.ok(ParentMessageSchema.safeParse(stamp({ type: 'cancel', taskId: 't1' })).success);
    assert.ok(ParentMessageSchema.safeParse(stamp({ type: 'credit', taskId: 't1', batches: 1 })).success);
    assert.ok(ChildMessageSchema.safeParse(stamp({ type: 'rows', taskId: 't1', rows: [[1, 'a']] })).success);
    assert.ok(ChildMessageSchema.safeParse(stamp({ type: 'done', taskId: 't1', outcome: { status: 'queryFailed', reason: 'x' } })).success);
  });

  it('refuses other versions, unknown types and malformed envelopes', () => {
    assert.equal(ParentMessageSchema.safeParse({ v: 2, type: 'cancel', taskId: 't1' }).success, false);
    assert.equal(ParentMessageSchema.safeParse({ type: 'cancel', taskId: 't1' }).success, false);
    assert.equal(ParentMessageSchema.safeParse(stamp({ type: 'drop-database' })).success, false);
    assert.equal(ParentMessageSchema.safeParse(stamp({ type: 'credit', taskId: 't1', batches: 0 })).success, false);
    assert.equal(ChildMessageSchema.safeParse(stamp({ type: 'rows', taskId: 't1', rows: 'not rows' })).success, false);
    assert.equal(ChildMessageSchema.safeParse(stamp({ type: 'progress', taskId: 't1', progress: 1.5, info: {} })).success, false);
    assert.equal(ChildMessageSchema.safeParse(stamp({ type: 'done', taskId: 't1', outcome: { status: 'maybe' } })).success, false);
  });

  it('carries several task messages in one batch, never an empty one', () => {
    const inner = [stamp({ type: 'log', taskId: 't1', line: 'Statement 1/1: SELECT' }), stamp({ type: 'done', taskId: 't1', outcome: { status: 'ok' } })];
    const batch = ChildBatchSchema.safeParse(stamp({ type: 'batch', messages: inner }));
    assert.ok(batch.success);
    assert.equal(batch.data.messages.length, 2);
    for (const m of batch.data.messages) assert.ok(ChildMessageSchema.safeParse(m).success);
    assert.equal(ChildBatchSchema.safeParse(stamp({ type: 'batch', messages: [] })).success, false);
    assert.equal(ChildBatchSchema.safeParse({ v: 2, type: 'batch', messages: inner }).success, false);
  });
});
