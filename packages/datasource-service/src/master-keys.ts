import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SluiceError } from '@sluice/core';

/** Master keys (key-encryption keys) by id; the first is the active one new data keys are wrapped with. */
export interface Keyring {
  activeId: string;
  keys: Map<string, Buffer>;
}

const ENTRY = /^([A-Za-z0-9_.-]{1,32}):([A-Za-z0-9+/=_-]+)$/;

/**
 * Parses `SLUICE_MASTER_KEYS`: `id:base64key[,id:base64key…]`, each key 32 bytes. The first entry is
 * active; the others stay readable so data keys wrapped under them can be unwrapped and re-wrapped.
 */
export function parseKeyring(value: string): Keyring {
  const keys = new Map<string, Buffer>();
  let activeId = '';
  for (const part of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = ENTRY.exec(part);
    const key = m ? Buffer.from(m[2] as string, 'base64') : undefined;
    if (!m || !key || key.length !== 32) {
      // Never echo the value: it is a secret.
      throw new SluiceError('SLUICE_CONFIG_INVALID', {
        setting: 'SLUICE_MASTER_KEYS',
        reason: 'expected id:base64 entries of 32-byte keys, separated by commas',
      });
    }
    if (keys.has(m[1] as string)) throw new SluiceError('SLUICE_CONFIG_INVALID', { setting: 'SLUICE_MASTER_KEYS', reason: `key id ${m[1]} appears twice` });
    keys.set(m[1] as string, key);
    activeId ||= m[1] as string;
  }
  if (!activeId) throw new SluiceError('SLUICE_CONFIG_INVALID', { setting: 'SLUICE_MASTER_KEYS', reason: 'no key given' });
  return { activeId, keys };
}

/**
 * The keyring of a deployment. Production (external PostgreSQL) must configure SLUICE_MASTER_KEYS and
 * start-up fails without it. The embedded default generates a local key once, in a file only its owner
 * can read, so `npm start` needs no setup.
 */
export function loadKeyring(opts: { masterKeys?: string; embedded: boolean; home: string }): Keyring {
  if (opts.masterKeys) return parseKeyring(opts.masterKeys);
  if (!opts.embedded) {
    throw new SluiceError('SLUICE_CONFIG_INVALID', {
      setting: 'SLUICE_MASTER_KEYS',
      reason: 'production mode (DATABASE_URL set) needs a master key to protect data-source secrets; generate one with `npm run admin -- keys generate`',
    });
  }
  const file = path.join(opts.home, 'master.key');
  if (!existsSync(file)) {
    mkdirSync(opts.home, { recursive: true });
    writeFileSync(file, `local:${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  }
  return parseKeyring(readFileSync(file, 'utf8').trim());
}

/** A new random key entry for SLUICE_MASTER_KEYS. */
export function generateKeyEntry(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}
