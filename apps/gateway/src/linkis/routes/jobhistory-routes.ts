import { JOB_STATES, type JobListQuery, type JobState, type JobView, type Principal, SluiceError } from '@sluice/core';
import type { FastifyInstance } from 'fastify';
import type { LinkisContext } from '../context.ts';
import { linkisOk } from '../envelope.ts';
import { addLinkisRoute, intParam, queryOf } from '../linkis-route.ts';
import { queryTaskVO } from '../task-view.ts';

/** Rows `jobhistory/list` counts at most for its total (the walk is by cursor, 500 rows a query). */
export const LIST_COUNT_CAP = 10_000;
const WALK_PAGE = 500;

const NOT_VISIBLE = 'The corresponding job was not found, or there may be no permission to view the job(没有找到对应的job，或者可能没有权限查看该job)';

/** One page of jobs by page number, plus how many match (up to {@link LIST_COUNT_CAP}). */
export async function listPage(
  ctx: LinkisContext,
  principal: Principal,
  base: Omit<JobListQuery, 'cursor' | 'limit'>,
  pageNow: number,
  pageSize: number,
): Promise<{ items: JobView[]; total: number }> {
  const skip = (pageNow - 1) * pageSize;
  const items: JobView[] = [];
  let total = 0;
  let cursor: string | undefined;
  for (;;) {
    const r = await ctx.deps.entrance.list(principal, { ...base, cursor, limit: WALK_PAGE });
    for (const job of r.items) {
      if (total >= skip && items.length < pageSize) items.push(job);
      total++;
    }
    if (!r.nextCursor || total >= LIST_COUNT_CAP) break;
    cursor = r.nextCursor;
  }
  return { items, total: Math.min(total, LIST_COUNT_CAP) };
}

function states(s: string | undefined): JobState[] | undefined {
  if (!s) return undefined;
  const out = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const x of out) {
    if (!(JOB_STATES as readonly string[]).includes(x))
      throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `status: unknown state ${x}; known: ${JOB_STATES.join(', ')}` });
  }
  return out.length ? (out as JobState[]) : undefined;
}

function epochToIso(name: string, v: string | undefined): string | undefined {
  if (!v) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `${name}: epoch milliseconds expected` });
  return new Date(n).toISOString();
}

/**
 * `jobhistory/{taskID}/get` (`data.task`, a `QueryTaskVO`) and `jobhistory/list` (`data.tasks` and
 * `data.totalPage`, which Linkis fills with the total row count), plus `governanceStationAdmin`.
 */
export function registerJobHistoryRoutes(scope: FastifyInstance, ctx: LinkisContext): void {
  addLinkisRoute(scope, 'GET', '/jobhistory/list', async (req, reply) => {
    const principal = await ctx.caller(req, reply);
    const q = queryOf(req);
    const pageNow = Math.max(1, intParam(q, 'pageNow', 1));
    const pageSize = Math.min(Math.max(1, intParam(q, 'pageSize', 20)), 500);
    const instance = ctx.instance(req);
    if (q.taskID) {
      const job = await ctx.job(principal, q.taskID).catch(() => null);
      const tasks = job && pageNow === 1 ? [queryTaskVO(job, { instance })] : [];
      return linkisOk('/api/jobhistory/list', { tasks, totalPage: job ? 1 : 0 });
    }
    const base: Omit<JobListQuery, 'cursor' | 'limit'> = { state: states(q.status) };
    if (q.creator) base.creator = q.creator;
    if (q.executeApplicationName) base.engineType = q.executeApplicationName;
    if (q.proxyUser && principal.admin) base.user = q.proxyUser;
    const since = epochToIso('startDate', q.startDate);
    const until = epochToIso('endDate', q.endDate);
    if (since) base.since = since;
    if (until) base.until = until;
    const page = await listPage(ctx, principal, base, pageNow, pageSize);
    return linkisOk('/api/jobhistory/list', { tasks: page.items.map((j) => queryTaskVO(j, { instance })), totalPage: page.total });
  });

  addLinkisRoute(scope, 'GET', '/jobhistory/governanceStationAdmin', async (req, reply) => {
    const principal = await ctx.caller(req, reply);
    return linkisOk('/api/jobhistory/governanceStationAdmin', {
      admin: principal.admin,
      historyAdmin: principal.admin,
      deptAdmin: false,
      canResultSet: true,
      errorMsgTip: '',
    });
  });

  addLinkisRoute(scope, ['GET', 'POST'], '/jobhistory/*', async (req, reply) => {
    const rest = (req.params as { '*': string })['*'] ?? '';
    const m = /^([^/]+)\/get\/?$/.exec(rest);
    if (!m) throw new SluiceError('SLUICE_ROUTE_NOT_FOUND', { method: req.method, url: req.url.split('?')[0] });
    const principal = await ctx.caller(req, reply);
    const job = await ctx.job(principal, m[1] as string).catch((err: unknown) => {
      const code = (err as SluiceError).code;
      if (code === 'SLUICE_JOB_NOT_FOUND' || code === 'SLUICE_AUTH_FORBIDDEN') throw new SluiceError(code, (err as SluiceError).details, NOT_VISIBLE);
      throw err;
    });
    return linkisOk(`/api/jobhistory/${m[1]}/get`, { task: queryTaskVO(job, { instance: ctx.instance(req), code: await ctx.code(job) }) });
  });
}
