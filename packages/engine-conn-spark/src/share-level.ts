import { type EngineShare, type EngineShareRequest, SluiceError } from '@sluice/core';

/**
 * Who shares one Spark engine, after Kyuubi's share levels:
 * - `CONNECTION`: each job gets a fresh engine, stopped afterwards;
 * - `USER`: one engine per user, reused for the user's next jobs (the default);
 * - `GROUP`: one engine per group, named by the job's `group` label, else its creator;
 * - `SERVER`: one engine for everybody.
 */
export const SPARK_SHARE_LEVELS = ['CONNECTION', 'USER', 'GROUP', 'SERVER'] as const;

/** One of {@link SPARK_SHARE_LEVELS}. */
export type SparkShareLevel = (typeof SPARK_SHARE_LEVELS)[number];

/** Start-up param naming the share level of the job's engine. */
export const SHARE_LEVEL_PARAM = 'shareLevel';

const GROUP_NAME = /^[A-Za-z0-9_.@-]{1,128}$/;

/** Whether engines of this level serve more than one user (and so run as the service identity). */
export function isSharedLevel(level: SparkShareLevel): boolean {
  return level === 'GROUP' || level === 'SERVER';
}

/** Parses a share level in any letter case; undefined when the text is none of them. */
export function parseShareLevel(text: unknown): SparkShareLevel | undefined {
  if (typeof text !== 'string') return undefined;
  const upper = text.trim().toUpperCase();
  return (SPARK_SHARE_LEVELS as readonly string[]).includes(upper) ? (upper as SparkShareLevel) : undefined;
}

/** The share level a job's start-up params ask for, else `fallback`; a bad value is SLUICE_REQUEST_INVALID. */
export function shareLevelOf(params: Record<string, unknown>, fallback: SparkShareLevel): SparkShareLevel {
  const raw = params[SHARE_LEVEL_PARAM];
  if (raw === undefined || raw === null) return fallback;
  const level = parseShareLevel(raw);
  if (!level) {
    throw new SluiceError('SLUICE_REQUEST_INVALID', {
      summary: `spark startup params: ${SHARE_LEVEL_PARAM} must be one of ${SPARK_SHARE_LEVELS.join(', ')}`,
    });
  }
  return level;
}

/** The group of a GROUP-level job: its `group` label, else its creator. */
export function shareGroupOf(labels: Record<string, string>): string {
  const group = labels.group ?? labels.creator;
  if (!group || !GROUP_NAME.test(group)) {
    throw new SluiceError('SLUICE_REQUEST_INVALID', {
      summary: 'spark share level GROUP needs a group label or a creator of letters, digits and _ . @ - only',
    });
  }
  return group;
}

/**
 * The engine share of a job. The key and owner of a shared level contain a colon, which user names
 * cannot, so they never meet a user's own engine. The owner is whom the engine counts against in the
 * per-user engine cap: the user for CONNECTION and USER, the group or the server for the others.
 */
export function sparkShare(job: EngineShareRequest, fallback: SparkShareLevel): EngineShare {
  const level = shareLevelOf(job.params, fallback);
  switch (level) {
    case 'CONNECTION':
      return { key: job.user, owner: job.user, fresh: true };
    case 'USER':
      return { key: job.user, owner: job.user, fresh: false };
    case 'GROUP': {
      const owner = `group:${shareGroupOf(job.labels)}`;
      return { key: owner, owner, fresh: false };
    }
    case 'SERVER':
      return { key: 'server:*', owner: 'server:*', fresh: false };
  }
}
