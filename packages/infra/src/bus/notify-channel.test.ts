import assert from 'node:assert/strict';
import { test } from 'node:test';
import { notifyChannel } from './notify-channel.ts';

const SAFE = /^[a-z_][a-z0-9_]{0,62}$/;

test('the NOTIFY channel of a prefix is a safe identifier of at most 63 characters', () => {
  assert.equal(notifyChannel('sluice'), 'sluice_bus_sluice');
  for (const p of ['sluice', 'a-b', 'A_B', 'x'.repeat(200), 'with space"; DROP TABLE x; --', 'ünï']) {
    const c = notifyChannel(p);
    assert.match(c, SAFE, `${p} -> ${c}`);
    assert.ok(c.length <= 63);
  }
});

test('different prefixes get different channels, even when cleaning makes them alike', () => {
  assert.notEqual(notifyChannel('a-b'), notifyChannel('a_b'));
  assert.notEqual(notifyChannel('A'), notifyChannel('a'));
  assert.notEqual(notifyChannel(`${'x'.repeat(100)}1`), notifyChannel(`${'x'.repeat(100)}2`));
  assert.equal(notifyChannel('a-b'), notifyChannel('a-b'));
  assert.throws(() => notifyChannel(''), /empty/);
});
