import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { ParsedArgs } from './argv.ts';
import { CliError } from './cli-error.ts';
import { EXIT } from './exit-codes.ts';
import { parseProperties } from './properties-file.ts';

/** Where the CLI sends requests, with which token, and its defaults. */
export interface CliConfig {
  url: string;
  /** The API token. Never printed or logged. */
  token?: string;
  /** Client lease of a synchronous run, in seconds. */
  leaseSeconds: number;
  creator?: string;
  engineType?: string;
  /** The config file that was read, if any. */
  file?: string;
  /** Things worth telling the user (a config file others can read, say). */
  warnings: string[];
}

/** The URL used when nothing else names one: a local `npm start`. */
export const DEFAULT_URL = 'http://127.0.0.1:9001';
/** The default client lease of a synchronous run. */
export const DEFAULT_LEASE_SECONDS = 30;

/** The keys of a JSON config file, e.g. `~/.sluice/config.json`. */
export const ConfigFileSchema = z
  .object({
    url: z.url().optional(),
    token: z.string().min(1).optional(),
    leaseSeconds: z.number().int().min(5).max(3600).optional(),
    creator: z.string().min(1).optional(),
    engineType: z.string().min(1).optional(),
  })
  .strict();
type ConfigFile = z.infer<typeof ConfigFileSchema>;

/** linkis-cli property keys a Sluice config may carry, mapped onto Sluice's keys. */
const LINKIS_KEYS: Record<string, keyof ConfigFile> = {
  'wds.linkis.client.common.gatewayUrl': 'url',
  'wds.linkis.client.common.tokenValue': 'token',
  'wds.linkis.client.label.engineType': 'engineType',
  'sluice.url': 'url',
  'sluice.token': 'token',
  'sluice.leaseSeconds': 'leaseSeconds',
  'sluice.creator': 'creator',
  'sluice.engineType': 'engineType',
};

/**
 * Loads the configuration from, in increasing precedence: a config file (`--config`/`--userConf`, else
 * `SLUICE_CONFIG`, else `~/.sluice/config.json` when it exists), the environment (`SLUICE_URL`,
 * `SLUICE_TOKEN`) and the command line (`--url`, `--token`, `--lease-seconds`, `-creator`, `-engineType`).
 */
export function loadConfig(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): CliConfig {
  const warnings: string[] = [];
  const explicit = args.values.configFile ?? env.SLUICE_CONFIG;
  const file = explicit ?? path.join(home, '.sluice', 'config.json');
  const fromFile = readConfigFile(file, explicit !== undefined, warnings);
  const flagLease = args.values.leaseSeconds;
  let leaseSeconds = fromFile.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  if (flagLease !== undefined) {
    if (!/^\d+$/.test(flagLease) || Number(flagLease) < 5 || Number(flagLease) > 3600)
      throw new CliError(EXIT.usage, `--lease-seconds takes whole seconds from 5 to 3600, not ${JSON.stringify(flagLease)}`);
    leaseSeconds = Number(flagLease);
  }
  if (args.values.authStrategy !== undefined && args.values.authStrategy !== 'token')
    throw new CliError(EXIT.usage, `--authStg ${args.values.authStrategy} is not supported: Sluice authenticates with a token (SLUICE_TOKEN)`);
  const url = args.values.url ?? nonEmpty(env.SLUICE_URL) ?? fromFile.url ?? DEFAULT_URL;
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new CliError(EXIT.usage, `the Sluice URL must be http:// or https://, not ${JSON.stringify(url)}`);
  }
  return {
    url: url.replace(/\/+$/, ''),
    token: args.values.token ?? nonEmpty(env.SLUICE_TOKEN) ?? fromFile.token,
    leaseSeconds,
    creator: args.values.creator ?? fromFile.creator,
    engineType: args.values.engineType ?? fromFile.engineType,
    file: fromFile.loaded ? file : undefined,
    warnings,
  };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function readConfigFile(file: string, required: boolean, warnings: string[]): ConfigFile & { loaded: boolean } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return { loaded: false };
    throw new CliError(EXIT.usage, `cannot read the config file ${file}: ${(err as Error).message}`);
  }
  let raw: Record<string, unknown>;
  if (file.endsWith('.properties')) {
    raw = {};
    for (const [k, v] of Object.entries(parseProperties(text))) {
      const key = LINKIS_KEYS[k];
      if (key) raw[key] = key === 'leaseSeconds' ? Number(v) : v;
    }
  } else {
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new CliError(EXIT.usage, `the config file ${file} is not valid JSON: ${(err as Error).message}`);
    }
  }
  const parsed = ConfigFileSchema.safeParse(raw);
  if (!parsed.success) {
    const summary = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ');
    throw new CliError(EXIT.usage, `the config file ${file} is invalid: ${summary}`);
  }
  if (parsed.data.token) {
    try {
      if ((statSync(file).mode & 0o077) !== 0) warnings.push(`the config file ${file} holds a token and others can read it: chmod 600 ${file}`);
    } catch {
      // stat failed after a successful read: nothing to warn about
    }
  }
  return { ...parsed.data, loaded: true };
}
