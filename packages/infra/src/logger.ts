import pino from 'pino';

/** Paths that may carry secrets; pino replaces their values before anything is written. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["token-code"]',
  'headers.authorization',
  '*.password',
  '*.token',
  '*.secret',
  'password',
  'token',
];

/** The structured logger of every Sluice process: JSON lines on stdout, secrets redacted. */
export function createLogger(opts: { name: string; level: string; destination?: pino.DestinationStream }): pino.Logger {
  const options = { name: opts.name, level: opts.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

export type { Logger as PinoLogger } from 'pino';
