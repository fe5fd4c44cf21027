/** What replaces a secret in any text that leaves the connector. */
export const REDACTED = '***';

/**
 * Replaces every occurrence of each secret in `text` with `***`. Secrets shorter than 3 characters
 * are left alone: replacing every `a` of a message would garble it, and such a secret cannot be
 * told apart from ordinary text anyway.
 */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 3) continue;
    out = out.split(secret).join(REDACTED);
    // Drivers sometimes show a secret URL-encoded (connection strings, request lines).
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join(REDACTED);
  }
  return out;
}

/** {@link redactText} over every string of a JSON-like value, keys included. */
export function redactValue<T>(value: T, secrets: readonly string[]): T {
  if (typeof value === 'string') return redactText(value, secrets) as T;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secrets)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[redactText(key, secrets)] = redactValue(item, secrets);
    return out as T;
  }
  return value;
}
