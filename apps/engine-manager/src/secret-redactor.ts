import { type DataSourceConnection, SluiceError } from '@sluice/core';

/** Replaces secret values in text. The identity when there are none. */
export type Redactor = (text: string) => string;

/**
 * Builds the redactor of a job's data source. Connectors must never print secrets; this is the net
 * under them: every log line and error of a job on a data source passes through it.
 */
export function redactorFor(conn: DataSourceConnection | undefined): Redactor {
  const secrets = (conn?.secretFields ?? []).map((k) => conn?.params[k]).filter((v): v is string => typeof v === 'string' && v.length >= 4);
  if (secrets.length === 0) return (t) => t;
  // Longest first, so a secret containing another is replaced whole.
  secrets.sort((a, b) => b.length - a.length);
  return (text) => secrets.reduce((acc, s) => (acc.includes(s) ? acc.split(s).join('******') : acc), text);
}

/** Applies a redactor to an error's message and details. */
export function redactError(err: SluiceError, redact: Redactor): SluiceError {
  const message = redact(err.message);
  const details = JSON.parse(redact(JSON.stringify(err.details))) as Record<string, unknown>;
  if (message === err.message && JSON.stringify(details) === JSON.stringify(err.details)) return err;
  return new SluiceError(err.code, details, message);
}
