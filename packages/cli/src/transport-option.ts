import { CliError } from './cli-error.ts';
import { EXIT } from './exit-codes.ts';
import type { Transport } from './job-follower.ts';

/** Checks `--transport` (default `ws`). */
export function parseTransport(text: string | undefined): Transport {
  if (text === undefined || text === 'ws' || text === 'poll') return text ?? 'ws';
  throw new CliError(EXIT.usage, `--transport takes ws or poll, not ${JSON.stringify(text)}`);
}
