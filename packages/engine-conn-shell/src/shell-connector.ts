import { access, constants, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type EngineConnector, type EngineLaunchSpec, SluiceError } from '@sluice/core';
import { SHELL_CODE_TYPES, ShellEngine } from './shell-engine.ts';
import { DEFAULT_PATH } from './task-env.ts';

/** Options of {@link createShellConnector}; all optional. */
export interface ShellConnectorOptions {
  /** Time limit of a task unless its runtimeParams.timeoutSeconds says otherwise (default 3600). */
  timeoutSeconds?: number;
  /** PATH of the scripts (default: the usual system directories, not the server's PATH). */
  path?: string;
  /** LANG of the scripts (default C.UTF-8). */
  lang?: string;
  /** Time between SIGTERM and SIGKILL when a task is cancelled or times out (default 2000 ms). */
  killGraceMs?: number;
}

async function findBash(searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, 'bash');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Creates the `shell` connector: bash scripts, each in its own process group, directory and environment. */
export function createShellConnector(options: ShellConnectorOptions = {}): EngineConnector {
  const timeoutSeconds = options.timeoutSeconds ?? 3600;
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new RangeError('timeoutSeconds must be a positive number');
  const scriptPath = options.path ?? DEFAULT_PATH;
  return {
    name: 'shell',
    versions: ['1'],
    defaultVersion: '1',
    codeTypes: SHELL_CODE_TYPES,
    async launch(spec: EngineLaunchSpec) {
      if (spec.version !== '1') throw new SluiceError('SLUICE_JOB_ENGINE_UNKNOWN', { engineType: `shell-${spec.version}` });
      const bash = await findBash(`${scriptPath}:${DEFAULT_PATH}`);
      if (!bash) throw new SluiceError('SLUICE_ENGINE_LAUNCH_FAILED', { engine: 'shell', reason: `bash not found on ${scriptPath}` });
      const workDir = path.resolve(spec.workDir);
      try {
        await mkdir(path.join(workDir, 'tasks'), { recursive: true });
      } catch (err) {
        throw new SluiceError('SLUICE_ENGINE_LAUNCH_FAILED', { engine: 'shell', reason: err instanceof Error ? err.message : String(err) });
      }
      const engine = new ShellEngine(spec.engineId, {
        bash,
        workDir,
        baseEnv: { PATH: scriptPath, HOME: workDir, LANG: options.lang ?? 'C.UTF-8' },
        timeoutSeconds,
        killGraceMs: options.killGraceMs ?? 2000,
      });
      try {
        await engine.start();
      } catch (err) {
        throw new SluiceError('SLUICE_ENGINE_LAUNCH_FAILED', { engine: 'shell', reason: err instanceof Error ? err.message : String(err) });
      }
      return engine;
    },
  };
}
