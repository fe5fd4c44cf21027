import type { KeyRotation, KeyStatus, KeyUsage } from './datasource-service.ts';

/** One line per key id: records it wraps, and whether it is active and configured. */
function usageLines(keys: readonly KeyUsage[]): string[] {
  return keys.map((k) => `  ${k.keyId}: ${k.records} record(s)${k.active ? ', active' : ''}${k.configured ? '' : ', NOT CONFIGURED'}`);
}

/** The text `keys status` prints. */
export function formatKeyStatus(s: KeyStatus): string {
  return [`active master key: ${s.activeKeyId}`, ...usageLines(s.keys)].join('\n');
}

/** The text `keys rotate` prints: what changed, and whether an old key is still needed. */
export function formatKeyRotation(r: KeyRotation): string {
  const left = r.after.filter((k) => !k.active && k.records > 0);
  return [
    `re-wrapped ${r.rewrapped} record(s) under master key ${r.activeKeyId}`,
    'before:',
    ...usageLines(r.before),
    'after:',
    ...usageLines(r.after),
    left.length === 0
      ? 'no record needs another key: the old keys can be removed from SLUICE_MASTER_KEYS'
      : `still needed: ${left.map((k) => k.keyId).join(', ')} (run the rotation again once every gateway has ${r.activeKeyId} first)`,
  ].join('\n');
}
