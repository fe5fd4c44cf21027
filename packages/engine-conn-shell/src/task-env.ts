import { SluiceError } from '@sluice/core';

/** PATH of a script when neither the connector options nor the job set one. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The variables every script of an engine gets. */
export interface BaseEnv {
  PATH: string;
  HOME: string;
  LANG: string;
}

/**
 * The whole environment of a script: PATH, HOME, LANG and SLUICE_TASK_ID, plus the string entries of
 * `runtimeParams.env` (which may override PATH, HOME and LANG, not SLUICE_TASK_ID). Nothing of the
 * server's own environment gets in.
 */
export function buildTaskEnv(base: BaseEnv, taskId: string, runtimeEnv: unknown): Record<string, string> {
  const env: Record<string, string> = { ...base };
  if (runtimeEnv !== undefined && runtimeEnv !== null) {
    if (typeof runtimeEnv !== 'object' || Array.isArray(runtimeEnv)) {
      throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'runtimeParams.env must be an object of strings' });
    }
    for (const [name, value] of Object.entries(runtimeEnv)) {
      if (typeof value !== 'string') continue;
      if (!ENV_NAME.test(name)) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `runtimeParams.env: "${name}" is not a valid variable name` });
      env[name] = value;
    }
  }
  env.SLUICE_TASK_ID = taskId;
  return env;
}

/** The time limit of one task in seconds: runtimeParams.timeoutSeconds, else the connector default. */
export function taskTimeoutSeconds(runtimeValue: unknown, fallback: number): number {
  if (runtimeValue === undefined || runtimeValue === null) return fallback;
  const n = typeof runtimeValue === 'string' && runtimeValue.trim() !== '' ? Number(runtimeValue) : runtimeValue;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
    throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'runtimeParams.timeoutSeconds must be a positive number' });
  }
  return n;
}
