import { type FileHandle, open, readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Column, type FollowedResultSet, type FollowOptions, type Row, sluiceError } from '@sluice/core';
import { type LiveSet, LiveSets } from './live-set.ts';
import type { ResultPaths } from './result-paths.ts';

/** The sidecar `<index>.live.json` of a set being written to its partial file, for followers in other processes. */
export interface LiveSidecar {
  version: 1;
  columns: Column[];
}

/** Bytes read from the file per step. */
const READ_BYTES = 256 * 1024;
/** Longest wait between two looks at a set that does not grow, when no in-process writer wakes the follower. */
const MAX_POLL_MS = 200;
/** How often a follower that sees no progress asks whether anybody still writes the set. */
const ASK_EVERY_MS = 1000;

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

async function openIfExists(file: string): Promise<FileHandle | undefined> {
  try {
    return await open(file, 'r');
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

async function inodeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).ino;
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

async function readLiveSidecar(file: string): Promise<Column[] | undefined> {
  try {
    const meta = JSON.parse(await readFile(file, 'utf8')) as LiveSidecar;
    return meta?.version === 1 && Array.isArray(meta.columns) ? meta.columns : undefined;
  } catch {
    // Missing, or caught between its write and its rename: the next look decides.
    return undefined;
  }
}

/** Parses the complete lines of `chunk` (after `carry`, the unfinished line of the chunk before); returns the rows and the new carry. */
function parseLines(chunk: Buffer, carry: Buffer | undefined): { rows: Row[]; carry: Buffer | undefined } {
  const last = chunk.lastIndexOf(10);
  if (last < 0) return { rows: [], carry: carry ? Buffer.concat([carry, chunk]) : Buffer.from(chunk) };
  const head = carry ? Buffer.concat([carry, chunk.subarray(0, last)]) : chunk.subarray(0, last);
  // Lines are JSON arrays, one per line: the complete ones joined by commas are one JSON array of rows.
  const text = head.toString('utf8').replaceAll('\n', ',');
  const rows = JSON.parse(`[${text}]`) as Row[];
  const rest = chunk.subarray(last + 1);
  return { rows, carry: rest.length > 0 ? Buffer.from(rest) : undefined };
}

type Probe = 'pending' | 'open' | 'sealed' | 'aborted';

/**
 * Reads a set being written from its file, by file handle: the handle keeps naming the same file
 * when the writer renames the partial file to its final name, so no row is read twice or skipped.
 * In the writer's process the {@link LiveSet} says what happens; elsewhere the follower compares
 * inodes (partial file, final file) and polls with a growing delay.
 */
async function* tail(paths: ResultPaths, jobId: string, index: number, live: LiveSet | undefined, opts: FollowOptions): AsyncGenerator<Row[]> {
  const incomplete = () => sluiceError('SLUICE_RESULT_INCOMPLETE', { jobId, index });
  const buf = Buffer.allocUnsafe(READ_BYTES);
  let fh: FileHandle | undefined;
  let ino: number | undefined;
  let pos = 0;
  let carry: Buffer | undefined;
  let sealed = false;
  let delay = 5;
  let lastProgress = Date.now();

  /** Where the set stands now, and opens its file once there is one. */
  const probe = async (): Promise<Probe> => {
    if (live) {
      if (!fh && (live.state === 'open' || live.state === 'sealed')) {
        // The partial file may have been renamed between the look at the state and the open.
        fh = (await openIfExists(paths.partial)) ?? (await openIfExists(paths.data));
        if (!fh) return live.state === 'sealed' ? 'aborted' : 'pending';
      }
      return live.state === 'buffering' ? 'pending' : live.state;
    }
    if (!fh) {
      fh = await openIfExists(paths.partial);
      if (fh) {
        ino = (await fh.stat()).ino;
        return 'open';
      }
      if (await readLiveSidecar(paths.live)) return 'pending';
      fh = await openIfExists(paths.data);
      if (!fh) return 'aborted';
      ino = (await fh.stat()).ino;
      return 'sealed';
    }
    // The partial file is renamed to the data file when sealed, and removed when aborted.
    if ((await inodeOf(paths.partial)) === ino) return 'open';
    return (await inodeOf(paths.data)) === ino ? 'sealed' : 'aborted';
  };

  if (live) live.followers++;
  try {
    for (;;) {
      const seen = live?.version ?? 0;
      // At the live edge in the writer's process: the rows just written, without a trip through the file.
      const kept = live && !carry ? live.batchAt(pos) : undefined;
      if (kept) {
        pos = kept.end;
        lastProgress = Date.now();
        yield kept.rows;
        continue;
      }
      if (fh) {
        const next = live?.nextBatchAfter(pos);
        const { bytesRead } = await fh.read(buf, 0, next === undefined ? READ_BYTES : Math.min(READ_BYTES, next - pos), pos);
        if (bytesRead > 0) {
          pos += bytesRead;
          const parsed = parseLines(buf.subarray(0, bytesRead), carry);
          carry = parsed.carry;
          delay = 5;
          lastProgress = Date.now();
          if (parsed.rows.length > 0) yield parsed.rows;
          continue;
        }
        if (sealed) {
          if (carry) throw new Error(`result set ${index} of job ${jobId} ends without a newline`);
          return;
        }
      }
      const state = await probe();
      if (state === 'aborted') throw incomplete();
      if (state === 'sealed') {
        // One more read to the end: the writer may have written after the read above.
        sealed = true;
        continue;
      }
      if (state === 'open' && fh && live && live.version !== seen) continue;
      if (Date.now() - lastProgress >= ASK_EVERY_MS) {
        lastProgress = Date.now();
        if (!(await opts.stillWriting())) {
          // The writer may have sealed the set just before the answer.
          const after = await probe();
          if (after === 'sealed') {
            sealed = true;
            continue;
          }
          throw incomplete();
        }
      }
      if (live) await live.wait(seen, ASK_EVERY_MS);
      else {
        await sleep(delay);
        delay = Math.min(delay * 2, MAX_POLL_MS);
      }
    }
  } finally {
    if (live && --live.followers === 0) live.forget();
    await fh?.close().catch(() => {});
  }
}

/**
 * {@link ResultStore.follow} of the local store: waits for the set to begin (its writer registered in
 * this process, or its live sidecar on disk), then tails it. A set that is already sealed with a
 * sidecar index is read from its file; a small one sealed in another process is left to the caller's
 * index (undefined).
 */
export async function followLocal(
  paths: ResultPaths,
  jobId: string,
  index: number,
  live: LiveSets,
  opts: FollowOptions,
  readSealed: () => { columns: Column[]; batches: AsyncIterable<Row[]> } | Promise<{ columns: Column[]; batches: AsyncIterable<Row[]> } | undefined>,
): Promise<FollowedResultSet | undefined> {
  const key = LiveSets.key(jobId, index);
  let delay = 5;
  let lastAsk = Date.now();
  for (;;) {
    if (opts.signal?.aborted) return undefined;
    const begunSeen = live.begunVersion;
    const set = live.get(key);
    if (set) return { columns: set.columns, batches: tail(paths, jobId, index, set, opts) };
    const columns = await readLiveSidecar(paths.live);
    if (columns) return { columns, batches: tail(paths, jobId, index, undefined, opts) };
    const sealed = await readSealed();
    if (sealed) return sealed;
    if (Date.now() - lastAsk >= ASK_EVERY_MS / 2) {
      lastAsk = Date.now();
      if (!(await opts.stillWriting())) return undefined;
    }
    // In-process writers wake us when a set begins; one in another process is only seen by looking.
    await live.waitForBegin(begunSeen, delay);
    delay = Math.min(delay * 2, MAX_POLL_MS);
  }
}
