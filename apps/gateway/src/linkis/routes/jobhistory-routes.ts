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
  keep: (job: JobView) => boolean = () => true,
): Promise<{ items: JobView[]; total: number }> {
  const skip = (pageNow - 1) * pageSize;
  const items: JobView[] = [];
  let total = 0;
  let cursor: string | undefined;
  for (;;) {
    const r = await ctx.deps.entrance.list(principal, { ...base, cursor, limit: WALK_PAGE });
    for (const job of r.items) {
      if (!keep(job)) continue;
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

/** Linkis' `QueryUtils.checkNameValid`: names are letters, digits, `_`, `-` and `.`. */
function checkName(name: string, v: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(v)) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `Invalid ${name} : ${v}` });
  return v;
}

function checkDigits(name: string, v: string): string {
  if (!/^\d{1,18}$/.test(v)) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `Invalid ${name} : ${v}` });
  return v;
}

/** The filters the job list has no column for: `runType` (code type) and `engineInstance`. */
function matches(job: JobView, q: Record<string, string>): boolean {
  if (q.runType && job.codeType !== q.runType.toLowerCase()) return false;
  if (q.engineInstance && job.engineId !== q.engineInstance) return false;
  return true;
}

/** A job the caller may see, or Linkis' "not found, or no permission" error. */
async function visibleJob(ctx: LinkisContext, principal: Principal, id: string): Promise<JobView> {
  return ctx.job(principal, id).catch((err: unknown) => {
    const code = (err as SluiceError).code;
    if (code === 'SLUICE_JOB_NOT_FOUND' || code === 'SLUICE_AUTH_FORBIDDEN') throw new SluiceError(code, (err as SluiceError).details, NOT_VISIBLE);
    throw err;
  });
}

function epochToIso(name: string, v: string | undefined): string | undefined {
  if (!v) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `${name}: epoch milliseconds expected` });
  return new Date(n).toISOString();
}

/**
 * `jobhistory/{taskID}/get` (`data.task`, a `QueryTaskVO`) and `jobhistory/list` (`data.tasks` and
 * `data.totalPage`, which Linkis fills with the total row count; filters `status`, `startDate`,
 * `endDate`, `taskID`, `executeApplicationName`, `creator`, `runType`, `engineInstance`, and for admins
 * `isAdminView` with `proxyUser`), `listundonetasks`, `listundone`, `list-taskids`, `job-extra-info`
 * and `governanceStationAdmin`.
 */
export function registerJobHistoryRoutes(scope: FastifyInstance, ctx: LinkisContext): void {
  addLinkisRoute(scope, 'GET', '/jobhistory/list', async (req, reply) => {
    const principal = await ctx.caller(req, reply);
    const q = queryOf(req);
    const pageNow = Math.max(1, intParam(q, 'pageNow', 1));
    const pageSize = Math.min(Math.max(1, intParam(q, 'pageSize', 20)), 500);
    const instance = ctx.instance(req);
    // As Linkis: everyone sees their own jobs; an admin sees everyone's (or proxyUser's) only with isAdminView=true.
    const adminView = principal.admin && q.isAdminView === 'true';
    const user = adminView ? q.proxyUser || undefined : principal.user;
    if (q.taskID) {
      const job = await ctx.job(principal, q.taskID).catch(() => null);
      const hit = job && (user === undefined || job.user === user) && matches(job, q) ? job : null;
      const tasks = hit && pageNow === 1 ? [queryTaskVO(hit, { instance })] : [];
      return linkisOk('/api/jobhistory/list', { tasks, totalPage: hit ? 1 : 0 });
    }
    const base: Omit<JobListQuery, 'cursor' | 'limit'> = { state: states(q.status) };
    if (user) base.user = user;
    if (q.creator) base.creator = checkName('creator', q.creator);
    if (q.executeApplicationName) base.engineType = checkName('executeApplicationName', q.executeApplicationName);
    const since = epochToIso('startDate', q.startDate);
    const until = epochToIso('endDate', q.endDate);
    if (since) base.since = since;
    if (until) base.until = until;
    const page = await listPage(ctx, principal, base, pageNow, pageSize, (j) => matches(j, q));
    return linkisOk('/api/jobhistory/list', { tasks: page.items.map((j) => queryTaskVO(j, { instance })), totalPage: page.total });
  });

  // Unfinished jobs of the caller (Scriptis' history panel): by default Running, Inited and Scheduled of the last day.
  const undone = (q: Record<string, string>): Omit<JobListQuery, 'cursor' | 'limit'> => {
    const end = q.endDate ? Number(q.endDate) : Date.now();
    const start = q.startDate && Number(q.startDate) !== 0 ? Number(q.startDate) : end - 86_400_000;
    const base: Omit<JobListQuery, 'cursor' | 'limit'> = {
      state: states(q.status) ?? ['Running', 'Inited', 'Scheduled'],
      since: epochToIso('startDate', String(start)),
      until: epochToIso('endDate', String(end)),
    };
    if (q.creator) base.creator = checkName('creator', q.creator);
    if (q.engineType) base.engineType = checkName('engineType', q.engineType);
    return base;
  };
  addLinkisRoute(scope, 'GET', '/jobhistory/listundonetasks', async (req, reply) => {
    const principal = await ctx.caller(req, reply);
    const q = queryOf(req);
    const pageNow = Math.max(1, intParam(q, 'pageNow', 1));
    const pageSize = Math.min(Math.max(1, intParam(q, 'pageSize', 20)), 500);
    const from = q.startTaskID ? BigInt(checkDigits('startTaskID', q.startTaskID)) : null;
    const page = await listPage(ctx, principal, { ...undone(q), user: principal.user }, pageNow, pageSize, (j) => from === null || BigInt(j.seq) >= from);
    const instance = ctx.instance(req);
    return linkisOk('/api/jobhistory/listundonetasks', { tasks: page.items.map((j) => queryTaskVO(j, { instance })), totalPage: page.total });
  });
  addLinkisRoute(scope, 'GET', '/jobhistory/listundone', async (req, reply) => {
    const principal = await ctx.caller(req, reply);
    const q = queryOf(req);
    const page = await listPage(ctx, principal, { ...undone({ ...q, status: '' }), user: principal.user }, 1, 1);
    return linkisOk('/api/jobhistory/listundone', { totalPage: page.total });
  });

  addLinkisRoute(scope, 'GET', '/jobhistory/list-taskids', async (req, reply) => {
    const principal = await ctx.caller(req, reply);
    const ids = queryOf(req).taskID ?? '';
    if (!ids) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'Invalid taskID cannot be empty' });
    if (!/^[0-9,]*$/.test(ids)) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'TaskID contains illegal characters' });
    const list = [...new Set(ids.split(',').filter(Boolean))];
    if (list.length > 30) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'TaskID size cannot exceed 30' });
    const instance = ctx.instance(req);
    const jobs = await Promise.all(list.map((id) => ctx.job(principal, id).catch(() => null)));
    return linkisOk('/api/jobhistory/list-taskids', {
      jobHistoryList: jobs.filter((j): j is JobView => j !== null).map((j) => queryTaskVO(j, { instance })),
    });
  });

  addLinkisRoute(scope, 'GET', '/jobhistory/job-extra-info', async (req, reply) => {
    const principal = await ctx.caller(req, reply);
    const jobId = queryOf(req).jobId;
    if (!jobId) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'Invalid jobId cannot be empty' });
    const job = await visibleJob(ctx, principal, jobId);
    const task = queryTaskVO(job, { instance: ctx.instance(req), code: await ctx.code(job) });
    const runtime = job.startedAt ? (job.finishedAt ? Date.parse(job.finishedAt) : Date.now()) - Date.parse(job.startedAt) : 0;
    return linkisOk('/api/jobhistory/job-extra-info', {
      metricsMap: { ...(task.metrics as Record<string, unknown>), executionCode: task.executionCode, runtime: `${(runtime / 1000).toFixed(1)}s` },
    });
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
    const job = await visibleJob(ctx, principal, m[1] as string);
    return linkisOk(`/api/jobhistory/${m[1]}/get`, { task: queryTaskVO(job, { instance: ctx.instance(req), code: await ctx.code(job) }) });
  });
}
