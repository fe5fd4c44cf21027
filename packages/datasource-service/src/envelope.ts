import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SluiceError } from '@sluice/core';
import type { Keyring } from './master-keys.ts';

/**
 * Envelope encryption of a record's secrets: the secrets are sealed with AES-256-GCM under a random
 * data key; the data key is sealed under the active master key, whose id is recorded. Rotating the
 * master key re-wraps only the data key; the sealed secrets never change.
 */
export interface Envelope {
  v: 1;
  /** Id of the master key that wraps the data key. */
  kid: string;
  /** The data key, AES-256-GCM under the master key: base64 of iv(12) | tag(16) | ciphertext(32). */
  dek: string;
  /** The secrets, AES-256-GCM under the data key: base64 of iv(12) | tag(16) | ciphertext. */
  data: string;
}

function seal(key: Buffer, plain: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64');
}

function open(key: Buffer, sealed: string, aad: string): Buffer {
  const buf = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(buf.subarray(12, 28));
  return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]);
}

function masterKey(ring: Keyring, kid: string): Buffer {
  const key = ring.keys.get(kid);
  if (!key)
    throw new SluiceError('SLUICE_CONFIG_INVALID', {
      setting: 'SLUICE_MASTER_KEYS',
      reason: `master key "${kid}" is needed to read stored secrets but is not configured`,
    });
  return key;
}

/**
 * Seals `secrets`. `aad` binds the envelope to its record (data source and version), so an envelope
 * copied onto another record does not open.
 */
export function sealSecrets(ring: Keyring, secrets: Record<string, unknown>, aad: string): Envelope {
  const dek = randomBytes(32);
  try {
    return {
      v: 1,
      kid: ring.activeId,
      dek: seal(masterKey(ring, ring.activeId), dek, `dek:${aad}`),
      data: seal(dek, Buffer.from(JSON.stringify(secrets), 'utf8'), `data:${aad}`),
    };
  } finally {
    dek.fill(0);
  }
}

/** Opens an envelope; fails loudly (never silently returns nothing) when a key is missing or data was tampered with. */
export function openSecrets(ring: Keyring, env: Envelope, aad: string): Record<string, unknown> {
  const dek = open(masterKey(ring, env.kid), env.dek, `dek:${aad}`);
  try {
    return JSON.parse(open(dek, env.data, `data:${aad}`).toString('utf8')) as Record<string, unknown>;
  } finally {
    dek.fill(0);
  }
}

/** Re-wraps the data key under the active master key; the sealed secrets are unchanged. */
export function rewrapEnvelope(ring: Keyring, env: Envelope, aad: string): Envelope {
  if (env.kid === ring.activeId) return env;
  const dek = open(masterKey(ring, env.kid), env.dek, `dek:${aad}`);
  try {
    return { ...env, kid: ring.activeId, dek: seal(masterKey(ring, ring.activeId), dek, `dek:${aad}`) };
  } finally {
    dek.fill(0);
  }
}
