import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SESSION_TIMEOUT_MS, SessionTickets } from './session-ticket.ts';

const keys = `k1:${randomBytes(32).toString('base64')}`;

describe('Linkis session tickets', () => {
  it('verifies what it issued and carries the user and expiry', () => {
    const t = SessionTickets.fromMasterKeys(keys);
    const { value, expiresAt } = t.issue('alice');
    assert.deepEqual(t.verify(value), { user: 'alice', expiresAt });
    assert.ok(Math.abs(expiresAt - Date.now() - SESSION_TIMEOUT_MS) < 5000);
    assert.doesNotMatch(value, /alice/, 'opaque: the user is encoded, not in clear');
  });

  it('is shared by every gateway with the same master keys, and by no other', () => {
    const a = SessionTickets.fromMasterKeys(keys);
    const b = SessionTickets.fromMasterKeys(keys);
    const other = SessionTickets.fromMasterKeys(`k1:${randomBytes(32).toString('base64')}`);
    const random1 = SessionTickets.fromMasterKeys(undefined);
    const random2 = SessionTickets.fromMasterKeys(undefined);
    const v = a.issue('alice').value;
    assert.equal(b.verify(v)?.user, 'alice');
    assert.equal(other.verify(v), null);
    assert.equal(random2.verify(random1.issue('alice').value), null, 'random per-process keys differ');
  });

  it('survives a master-key rotation: each step of the procedure accepts the sessions of the step before', () => {
    const k2 = `k2:${randomBytes(32).toString('base64')}`;
    const before = SessionTickets.fromMasterKeys(keys); // k1
    const added = SessionTickets.fromMasterKeys(`${keys},${k2}`); // k1 active, k2 listed
    const moved = SessionTickets.fromMasterKeys(`${k2},${keys}`); // k2 active, k1 listed
    const after = SessionTickets.fromMasterKeys(k2); // k1 removed
    const fromBefore = before.issue('alice').value;
    const fromMoved = moved.issue('bob').value;
    assert.equal(added.verify(fromBefore)?.user, 'alice');
    assert.equal(moved.verify(fromBefore)?.user, 'alice', 'a gateway with the new key first still accepts old sessions');
    assert.equal(added.verify(fromMoved)?.user, 'bob', 'a gateway not yet moved accepts sessions issued under the new key');
    assert.equal(after.verify(fromMoved)?.user, 'bob');
    assert.equal(after.verify(fromBefore), null, 'once the old key is gone, so are the sessions issued under it');
  });

  it('refuses forged, altered, malformed and expired tickets', () => {
    let now = 1_000_000;
    const t = new SessionTickets(randomBytes(32), 60_000, () => now);
    const { value } = t.issue('alice');
    const [payload, mac] = value.split('.') as [string, string];
    const forged = `${Buffer.from(`root|${now + 60_000}`).toString('base64url')}.${mac}`;
    assert.equal(t.verify(forged), null);
    assert.equal(t.verify(`${payload}.${mac.slice(0, -2)}AA`), null);
    for (const bad of ['', 'x', '.', 'a.b', `${payload}.`, `.${mac}`, 'x'.repeat(5000)]) assert.equal(t.verify(bad), null, bad);
    assert.equal(t.verify(value)?.user, 'alice');
    now += 40_000;
    assert.equal(t.shouldRefresh(t.verify(value) as { user: string; expiresAt: number }), true, 'past half its life');
    now += 20_001;
    assert.equal(t.verify(value), null, 'expired');
  });

  it('refuses users that would break the ticket format and keys that are too short', () => {
    const t = SessionTickets.fromMasterKeys(keys);
    assert.throws(() => t.issue('a|b'));
    assert.throws(() => t.issue(''));
    assert.throws(() => new SessionTickets(randomBytes(16)));
  });
});
