import path from 'node:path';
import { SluiceError } from '@sluice/core';
import { z } from 'zod';

/** The start-up parameters a DuckDB engine understands; other keys are ignored. */
export const DuckdbLaunchParamsSchema = z.object({
  /** A database file inside the engine's workDir (relative to it); in-memory when absent. */
  path: z.string().min(1).optional(),
  /** DuckDB worker threads. */
  threads: z.number().int().positive().max(1024).optional(),
  /** DuckDB memory limit, e.g. `2GB`. */
  memoryLimit: z
    .string()
    .regex(/^\d+(\.\d+)?\s*[KMGT]?i?B$/i, 'a size such as 512MB or 2GB')
    .optional(),
});
/** The start-up parameters of a DuckDB engine (the job's `startupParams`). */
export type DuckdbLaunchParams = z.infer<typeof DuckdbLaunchParamsSchema>;

/** How the worker opens its database. */
export interface DatabaseSpec {
  /** An absolute file path, or `:memory:`. */
  database: string;
  settings: Record<string, string>;
}

/**
 * Validates the launch params of one engine and resolves them against its workDir. Invalid params are
 * the job's fault: SLUICE_REQUEST_INVALID (a user error, not retried).
 */
export function resolveLaunchParams(workDir: string, params: Record<string, unknown>, baseSettings: Record<string, string>): DatabaseSpec {
  const parsed = DuckdbLaunchParamsSchema.safeParse(params);
  if (!parsed.success) {
    const summary = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'params'}: ${issue.message}`).join('; ');
    throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `duckdb startup params: ${summary}` });
  }
  const { path: file, threads, memoryLimit } = parsed.data;
  const settings: Record<string, string> = { ...baseSettings };
  if (threads !== undefined) settings.threads = String(threads);
  if (memoryLimit !== undefined) settings.memory_limit = memoryLimit;
  if (file === undefined || file === ':memory:') return { database: ':memory:', settings };
  const root = path.resolve(workDir);
  const resolved = path.resolve(root, file);
  const relative = path.relative(root, resolved);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `duckdb startup params: path must name a file inside the engine directory, got "${file}"` });
  }
  return { database: resolved, settings };
}
