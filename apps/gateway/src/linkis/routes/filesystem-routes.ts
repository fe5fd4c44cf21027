import { isFinalState, type Principal, SluiceError } from '@sluice/core';
import type { FastifyInstance } from 'fastify';
import type { LinkisContext } from '../context.ts';
import { linkisOk } from '../envelope.ts';
import { addLinkisRoute, intParam, queryOf } from '../linkis-route.ts';
import { completionLine, toLinkisLog } from '../log-format.ts';
import { cellText, LINKIS_NULL, linkisMetadata } from '../result-format.ts';
import { parseLogPath, parseResultPath, type ResultPath, resultLocation, resultSetPath } from '../result-paths.ts';

/** Largest `pageSize` of `openFile` (Linkis refuses larger pages with 80034). */
export const MAX_OPEN_FILE_PAGE = 10_000;
/** Largest `columnPageSize` of `openFile` (Linkis refuses larger with 80036). */
export const MAX_COLUMN_PAGE = 500;
/** Log lines `openLog` returns at most. */
export const MAX_OPEN_LOG_LINES = 200_000;

function invalid(linkisErrCode: number, summary: string): SluiceError {
  return new SluiceError('SLUICE_REQUEST_INVALID', { summary, linkisErrCode });
}

function resultPathOf(q: Record<string, string>): ResultPath {
  const path = q.path;
  if (!path) throw invalid(80004, 'path: required');
  const parsed = parseResultPath(path);
  if (!parsed) throw invalid(80010, `path: ${path} is not a Sluice result location (file:///sluice/result/<user>/<taskID>[/_<n>.dolphin])`);
  return parsed;
}

/** Reads a whole job log (up to {@link MAX_OPEN_LOG_LINES}) and, once the job ended, Linkis' closing line. */
export async function readWholeLog(ctx: LinkisContext, principal: Principal, taskId: string): Promise<string[]> {
  const job = await ctx.job(principal, taskId);
  const lines: string[] = [];
  let from = 1;
  while (lines.length < MAX_OPEN_LOG_LINES) {
    const page = await ctx.deps.entrance.log(principal, job.id, from, Math.min(10_000, MAX_OPEN_LOG_LINES - lines.length));
    for (const l of page.lines) lines.push(l.text);
    if (page.lines.length === 0 || page.complete) break;
    from = page.nextFrom;
  }
  if (isFinalState(job.state)) lines.push(completionLine(job.state));
  return lines;
}

/**
 * `filesystem/getDirFileTrees` (a job's result directory, one `_N.dolphin` per result set),
 * `filesystem/openFile` (a page of a result set: TABLE metadata and rows of strings),
 * `filesystem/openLog` (the whole log as `[error, warn, info, all]`) and
 * `filesystem/resultsetToExcel` (CSV download).
 */
export function registerFilesystemRoutes(scope: FastifyInstance, ctx: LinkisContext): void {
  const { entrance } = ctx.deps;

  addLinkisRoute(scope, 'GET', '/filesystem/getDirFileTrees', async (req, reply) => {
    const principal = await ctx.caller(req, reply);
    const target = resultPathOf(queryOf(req));
    const job = await ctx.job(principal, target.taskId);
    const sets = await entrance.resultSets(principal, job.id);
    const root = resultLocation(job.user, job.seq);
    const modified = String(Date.parse(job.finishedAt ?? job.updatedAt));
    const children = sets
      .filter((s) => target.index === undefined || s.index === target.index)
      .map((s) => ({
        name: `_${s.index}.dolphin`,
        path: resultSetPath(job.user, job.seq, s.index),
        properties: { size: String(s.bytes), modifytime: modified },
        children: null,
        isLeaf: true,
        parentPath: root,
      }));
    return linkisOk('/api/filesystem/getDirFileTrees', {
      dirFileTrees: { name: job.seq, path: root, properties: null, children, isLeaf: false, parentPath: null },
    });
  });

  addLinkisRoute(scope, 'GET', '/filesystem/openFile', async (req, reply) => {
    const principal = await ctx.caller(req, reply);
    const q = queryOf(req);
    const target = resultPathOf(q);
    if (target.index === undefined) throw invalid(80004, 'path: name a result set (…/_<n>.dolphin), not the result directory');
    const page = Math.max(1, intParam(q, 'page', 1));
    const pageSize = intParam(q, 'pageSize', 5000);
    if (pageSize < 1 || pageSize > MAX_OPEN_FILE_PAGE) throw invalid(80034, `pageSize must be 1…${MAX_OPEN_FILE_PAGE}`);
    const job = await ctx.job(principal, target.taskId);
    const { resultSet, rows } = await entrance.readRows(principal, job.id, target.index, (page - 1) * pageSize, pageSize);
    const all = linkisMetadata(resultSet.columns);
    // maskedFieldNames drops those columns (case-insensitive), before the columns are paged.
    const masked = new Set(
      (q.maskedFieldNames ?? '')
        .split(',')
        .map((n) => n.trim().toLowerCase())
        .filter(Boolean),
    );
    let cols = all.map((_, i) => i).filter((i) => !masked.has(String(all[i]?.columnName).toLowerCase()));
    const visible = cols.length;
    const columnPage = intParam(q, 'columnPage', 0);
    const columnPageSize = intParam(q, 'columnPageSize', 0);
    if (columnPage > 0 && columnPageSize > 0) {
      if (columnPageSize > MAX_COLUMN_PAGE) throw invalid(80036, `columnPageSize must be at most ${MAX_COLUMN_PAGE}`);
      cols = cols.slice((columnPage - 1) * columnPageSize, columnPage * columnPageSize);
    }
    const metadata = cols.map((i) => all[i]);
    const nullValue = q.nullValue ?? LINKIS_NULL;
    const fileContent = rows.map((r) => cols.map((i) => cellText(r[i], nullValue)));
    const data: Record<string, unknown> = {
      metadata,
      fileContent,
      type: '2',
      totalLine: resultSet.rows,
      page,
      totalPage: Math.ceil(resultSet.rows / pageSize),
    };
    if (q.enableLimit === 'true') data.totalColumn = visible;
    return linkisOk('/api/filesystem/openFile', data);
  });

  addLinkisRoute(scope, 'GET', '/filesystem/openLog', async (req, reply) => {
    const principal = await ctx.caller(req, reply);
    const path = queryOf(req).path ?? '';
    const taskId = parseLogPath(path);
    if (!taskId) throw invalid(80010, `path: ${path} is not a Sluice log path (file:///sluice/log/<user>/<taskID>.log)`);
    return linkisOk('/api/filesystem/openLog', { log: toLinkisLog(await readWholeLog(ctx, principal, taskId)) });
  });

  addLinkisRoute(scope, ['GET', 'POST'], '/filesystem/resultsetToExcel', async (req, reply) => {
    const principal = await ctx.caller(req, reply);
    const q = queryOf(req);
    const target = resultPathOf(q);
    if (target.index === undefined) throw invalid(80004, 'path: name a result set (…/_<n>.dolphin)');
    if ((q.outputFileType ?? 'csv') !== 'csv') throw invalid(80004, 'outputFileType: only csv is supported');
    const job = await ctx.job(principal, target.taskId);
    const stream = await entrance.download(principal, job.id, target.index, 'csv');
    const name = (q.outputFileName ?? 'downloadResultset').replace(/[^A-Za-z0-9_.-]/g, '_');
    reply.header('content-type', 'text/csv; charset=utf-8');
    reply.header('content-disposition', `attachment; filename="${name}.csv"`);
    await reply.send(stream);
    return undefined;
  });
}
