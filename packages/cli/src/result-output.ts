import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { JobView } from '@sluice/core';
import type { SluiceApi } from './api.ts';
import { CliError } from './cli-error.ts';
import { EXIT } from './exit-codes.ts';
import { type CliIo, write } from './io.ts';
import { RESULT_FORMATS, type ResultFormat, RowFormatter } from './result-format.ts';

const PAGE_ROWS = 5000;

/** Where result sets go: stdout in one format, or one file per result set in a directory. */
export interface ResultTarget {
  format: ResultFormat;
  /** linkis-cli's `-outPath`: a directory for one file per result set. */
  outDir?: string;
}

/** The file a result set is written to under `-outPath`, named as linkis-cli names it. */
export function resultFileName(job: JobView, index: number, format: ResultFormat): string {
  return `${job.user}-task-${job.seq}-result-${index}.${RESULT_FORMATS[format]}`;
}

/**
 * Writes every result set of a job, page by page (never the whole set in memory): to stdout, or to
 * `<outDir>/<user>-task-<taskID>-result-<n>.<ext>` with a note per file on stderr. Returns how many
 * result sets there were.
 */
export async function writeResults(api: SluiceApi, job: JobView, target: ResultTarget, io: CliIo): Promise<number> {
  const sets = await api.resultSets(job.id);
  if (sets.length === 0) {
    io.stderr.write('[sluice] the job has no result set\n');
    return 0;
  }
  if (target.outDir) {
    try {
      mkdirSync(target.outDir, { recursive: true });
    } catch (err) {
      throw new CliError(EXIT.failed, `cannot create the result directory ${target.outDir}: ${(err as Error).message}`);
    }
  }
  for (const set of sets) {
    const formatter = new RowFormatter(target.format, set.columns);
    if (target.outDir) {
      const file = path.join(target.outDir, resultFileName(job, set.index, target.format));
      const out = createWriteStream(file);
      const failed = new Promise<never>((_, reject) => out.once('error', (err) => reject(new CliError(EXIT.failed, `cannot write ${file}: ${err.message}`))));
      await Promise.race([copyRows(api, job.id, set.index, set.rows, formatter, out), failed]);
      await Promise.race([new Promise<void>((resolve) => out.end(resolve)), failed]);
      io.stderr.write(`[sluice] result set ${set.index}: ${set.rows} row${set.rows === 1 ? '' : 's'} written to ${file}\n`);
    } else {
      if (sets.length > 1) await write(io.stdout, `${set.index > 0 ? '\n' : ''}-- result set ${set.index} --\n`);
      await copyRows(api, job.id, set.index, set.rows, formatter, io.stdout);
    }
    if (set.truncated) io.stderr.write(`[sluice] result set ${set.index} was truncated by the server's result limits\n`);
  }
  return sets.length;
}

async function copyRows(api: SluiceApi, jobId: string, index: number, total: number, formatter: RowFormatter, out: NodeJS.WritableStream): Promise<void> {
  await write(out, formatter.header());
  for (let offset = 0; offset < total; ) {
    const rows = await api.rows(jobId, index, offset, PAGE_ROWS);
    if (rows.length === 0) break;
    await write(out, formatter.page(rows));
    offset += rows.length;
  }
  await write(out, formatter.footer());
}
