import { createHash } from 'node:crypto';

/** Longest PostgreSQL identifier (NAMEDATALEN - 1). */
const MAX_IDENTIFIER = 63;

/**
 * The LISTEN/NOTIFY channel of a bus prefix: `sluice_bus_<prefix>`, lower-case letters, digits and
 * underscores only, at most 63 characters. A prefix that had to be altered (other characters, or too
 * long) gets a hash of the original appended, so two different prefixes never share a channel.
 */
export function notifyChannel(prefix: string): string {
  if (!prefix) throw new Error('bus prefix must not be empty');
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const plain = `sluice_bus_${clean}`;
  if (clean === prefix && plain.length <= MAX_IDENTIFIER) return plain;
  const hash = createHash('sha256').update(prefix).digest('hex').slice(0, 10);
  return `sluice_bus_${clean.slice(0, MAX_IDENTIFIER - 'sluice_bus_'.length - hash.length - 1)}_${hash}`;
}
