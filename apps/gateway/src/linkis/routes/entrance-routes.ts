import { isFinalState, type JobView, type Principal, SluiceError } from '@sluice/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LinkisContext } from '../context.ts';
import { type LinkisMessage, linkisOk } from '../envelope.ts';
import { linkisErrorMessage } from '../error-envelope.ts';
import { execIdOf, parseJobRef } from '../exec-id.ts';
import { addLinkisRoute, bodyOf, intParam, queryOf } from '../linkis-route.ts';
import { completionLine, toLinkisLog } from '../log-format.ts';
import { translateSubmit } from '../submit-translation.ts';
import { idParts, linkisProgress } from '../task-view.ts';

/** Largest log page one request reads (`size` < 0 asks for this many, as Linkis does). */
export const MAX_LOG_PAGE = 10_000;

/** A page of a job's log in Linkis terms: `fromLine` counts the lines a client has already read. */
export interface LinkisLogPage {
  lines: string[];
  /** The `fromLine` to send next: the request's plus the lines read. */
  fromLine: number;
}

/**
 * Reads `size` lines after the first `fromLine` (Linkis' cursor: the number of lines already read).
 * Once the job has ended, the log ends with Linkis' closing line ("… Your job completed with …"),
 * counted as one more line so a client that passes `fromLine` back never sees it twice.
 */
export async function readLinkisLog(ctx: LinkisContext, principal: Principal, ref: string, fromLine: number, size: number): Promise<LinkisLogPage> {
  const from = Math.max(0, fromLine);
  if (size <= 0) return { lines: [], fromLine: from };
  const page = await ctx.deps.entrance.log(principal, ref, from + 1, Math.min(size, MAX_LOG_PAGE));
  const lines = page.lines.map((l) => l.text);
  if (page.complete && lines.length < size) {
    const job = await ctx.deps.entrance.get(principal, ref);
    const closing = job.logLines + 1;
    const next = from + 1 + lines.length;
    if (next === closing) lines.push(completionLine(job.state));
  }
  return { lines, fromLine: from + lines.length };
}

/** The status reply of a job. */
export function statusData(job: JobView, execID: string): Record<string, unknown> {
  return { status: job.state, execID, taskID: Number(job.seq) };
}

/**
 * `entrance/submit` and `entrance/execute` (POST) and the per-job calls `entrance/{id}/status`,
 * `progress`, `progressWithResource`, `log`, `kill`, `pause` and `killJobs` (GET and POST). `{id}` is
 * an execID in either Linkis format, a taskID or a Sluice job id.
 */
export function registerEntranceRoutes(scope: FastifyInstance, ctx: LinkisContext): void {
  const { entrance } = ctx.deps;

  for (const kind of ['submit', 'execute'] as const) {
    addLinkisRoute(scope, 'POST', `/entrance/${kind}`, async (req, reply) => {
      const principal = await ctx.caller(req, reply);
      const { job: body } = translateSubmit(req.body, principal, ctx.engines);
      const { job } = await entrance.submit(principal, body);
      const instance = ctx.instance(req);
      ctx.progress.watch(job.id, job.seq);
      // WebSocket pushes to the user's sockets start beside the reply, not before it.
      void ctx.onSubmitted(job, instance).catch((err: unknown) => req.log.warn({ err, jobId: job.id }, 'linkis: websocket pushes of a REST job not started'));
      return linkisOk(`/api/entrance/${kind}`, { execID: execIdOf(idParts(job), instance), taskID: Number(job.seq) });
    });
  }

  addLinkisRoute(scope, ['GET', 'POST'], '/entrance/*', async (req, reply) => {
    const rest = (req.params as { '*': string })['*'] ?? '';
    const slash = rest.lastIndexOf('/');
    const id = slash > 0 ? rest.slice(0, slash) : '';
    const op = rest.slice(slash + 1);
    const method = `/api/entrance/${rest}`;
    if (rest.startsWith('operation/')) {
      await ctx.caller(req, reply);
      throw new SluiceError(
        'SLUICE_ROUTE_NOT_FOUND',
        { method: req.method, url: req.url.split('?')[0], service: 'entrance/operation' },
        'Linkis entrance/operation: entrance operations (metrics, consumers, labels) have no Sluice equivalent',
      );
    }
    if (!id || id.includes('/')) {
      return linkisErrorMessage(method, new SluiceError('SLUICE_ROUTE_NOT_FOUND', { method: req.method, url: req.url.split('?')[0] }));
    }
    const principal = await ctx.caller(req, reply);
    return jobOperation(ctx, req, principal, id, op, method);
  });
}

async function jobOperation(ctx: LinkisContext, req: FastifyRequest, principal: Principal, id: string, op: string, method: string): Promise<LinkisMessage> {
  const { entrance } = ctx.deps;
  const params = { ...bodyOf(req), ...queryOf(req) } as Record<string, unknown>;
  const q: Record<string, string> = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
  switch (op) {
    case 'status': {
      const job = await ctx.job(principal, id);
      return linkisOk(method, statusData(job, id));
    }
    case 'progress':
    case 'progressWithResource': {
      const job = await ctx.job(principal, id);
      const progressInfo = ctx.progress.get(job.id, job.seq, job.state);
      const data: Record<string, unknown> = { progress: linkisProgress(job), execID: id, progressInfo };
      if (op === 'progressWithResource') data.yarnResource = null;
      return linkisOk(method, data);
    }
    case 'log': {
      const ref = parseJobRef(id);
      if (!ref) throw new SluiceError('SLUICE_JOB_NOT_FOUND', { jobId: id });
      const size = intParam(q, 'size', 100);
      const page = await readLinkisLog(ctx, principal, ref, intParam(q, 'fromLine', 0), size < 0 ? MAX_LOG_PAGE : size);
      const log = q.distinctLevel === 'false' ? page.lines.filter((l) => l.trim() !== '').join('\n') : toLinkisLog(page.lines);
      return linkisOk(method, { log, execID: id, fromLine: page.fromLine });
    }
    case 'kill': {
      const job = await ctx.job(principal, id);
      if (isFinalState(job.state)) {
        throw new SluiceError(
          'SLUICE_JOB_ALREADY_FINAL',
          { jobId: job.id, state: job.state },
          'The job already completed. Do not support kill.(任务已经结束，不支持kill)',
        );
      }
      await entrance.cancel(principal, job.id);
      return linkisOk(method, { execID: id, taskID: Number(job.seq) }, 'Successfully killed the job(成功kill了job)');
    }
    case 'pause': {
      await ctx.job(principal, id);
      return linkisOk(method, { execID: id }, 'success to pause job (成功pause了job)');
    }
    case 'killJobs': {
      const ids = Array.isArray(params.idList) ? params.idList.map(String) : [];
      const taskIds = Array.isArray(params.taskIDList) ? params.taskIDList.map(String) : [];
      if (ids.length !== taskIds.length) {
        throw new SluiceError('SLUICE_REQUEST_INVALID', {
          summary: 'The length of the ID list does not match the length of the TASKID list(id列表的长度与taskId列表的长度不一致)',
        });
      }
      const messages: LinkisMessage[] = [];
      for (const [i, execId] of ids.entries()) {
        const m = `/api/entrance/${execId}/kill`;
        try {
          const job = await ctx.job(principal, parseJobRef(execId) ? execId : (taskIds[i] as string));
          await entrance.cancel(principal, job.id);
          messages.push(linkisOk(m, { execID: execId }, 'Successfully killed the job(成功kill了job)'));
        } catch (err) {
          messages.push(linkisErrorMessage(m, err, req.id));
        }
      }
      return linkisOk(method, { messages }, 'success');
    }
    default:
      throw new SluiceError('SLUICE_ROUTE_NOT_FOUND', { method: req.method, url: req.url.split('?')[0] });
  }
}
