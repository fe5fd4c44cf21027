import {
  isFinalState,
  JobListQuerySchema,
  JobOutcomeSchema,
  type JobView,
  JobViewSchema,
  LogLineSchema,
  type Principal,
  ResultSetViewSchema,
  SubmitJobSchema,
} from '@sluice/core';
import type { EntranceApi } from '@sluice/entrance';
import { z } from 'zod';
import type { JobEnds } from '../job-ends.ts';
import { type AnyRouteSpec, route } from './route-spec.ts';

const JobIdParams = z.object({ id: z.string().min(1).max(64).describe('job id') });
const ResultParams = JobIdParams.extend({ n: z.coerce.number().int().min(0).max(100_000).describe('result set index, from 0') });

export const JobListSchema = z.object({ items: z.array(JobViewSchema), nextCursor: z.string().nullable() });
export const LogPageSchema = z.object({
  jobId: z.string(),
  lines: z.array(LogLineSchema),
  nextFrom: z.number().int().describe('line number to ask for next'),
  complete: z.boolean().describe('true when the job has ended and every line was returned'),
});
export const ResultListSchema = z.object({ items: z.array(ResultSetViewSchema) });
export const RowPageSchema = z.object({
  resultSet: ResultSetViewSchema,
  offset: z.number().int(),
  rows: z.array(z.array(z.unknown())).describe('rows as arrays in column order'),
});

/** `wait` and `rows`: how long a request may wait for the job to end, and how many rows it returns inline. */
export const WaitQuerySchema = z.object({
  wait: z.coerce
    .number()
    .min(0)
    .max(60)
    .default(0)
    .describe('seconds to wait for the job to end before answering (0–60, fractions allowed); 0 answers at once'),
  rows: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(1000)
    .describe('when the job ended within the wait: the most rows of each result set returned inline in `results`'),
});

const WAIT_DESCRIPTION =
  'With `wait`, the response comes when the job has ended or the wait ran out, whichever is first; a job that ended carries `results`, the first `rows` rows of each result set, so a short query needs this one request.';

/**
 * The job after waiting up to `waitS` seconds for it to end: with its first rows when it ended, as it
 * is now otherwise. `ends` is the server's shared wait; without it (the OpenAPI generator) no wait happens.
 */
async function waited(entrance: EntranceApi, ends: JobEnds | undefined, principal: Principal, job: JobView, waitS: number, rows: number) {
  if (waitS <= 0 || !ends) return job;
  const seen = isFinalState(job.state) ? false : await ends.until(principal, job.id, waitS * 1000);
  return entrance.outcome(principal, job.id, rows, seen ? seen.end : undefined);
}

/** The REST routes of jobs under /api/v1. `ends` serves the requests that wait for a job to end. */
export function jobRoutes(entrance: EntranceApi, ends?: JobEnds): AnyRouteSpec[] {
  return [
    route({
      method: 'POST',
      url: '/api/v1/jobs',
      operationId: 'submitJob',
      summary: 'Submit a job',
      tags: ['jobs'],
      description: WAIT_DESCRIPTION,
      query: WaitQuerySchema,
      body: SubmitJobSchema,
      bodyValidatedByHandler: true,
      headers: [{ name: 'Idempotency-Key', description: 'a retried request with the same key returns the same job' }],
      responses: [
        { status: 201, description: 'the job was created (with `results` when it ended within the wait)', schema: JobOutcomeSchema },
        { status: 200, description: 'a retry with the same Idempotency-Key: the job created before', schema: JobOutcomeSchema },
      ],
      async handler({ principal, body, query, headers, reply }) {
        const key = headers['idempotency-key'];
        const out = await entrance.submit(principal, body, typeof key === 'string' ? key : undefined);
        reply.code(out.created ? 201 : 200);
        // The job's owner may be another user (an admin's executeUser); the admin may read it.
        return waited(entrance, ends, principal, out.job, query.wait, query.rows);
      },
    }),
    route({
      method: 'GET',
      url: '/api/v1/whoami',
      operationId: 'whoami',
      summary: 'The user of the presented token, and whether it is an admin',
      tags: ['auth'],
      responses: [{ status: 200, description: 'the caller', schema: z.object({ user: z.string(), admin: z.boolean() }) }],
      handler: async ({ principal }) => ({ user: principal.user, admin: principal.admin }),
    }),
    route({
      method: 'GET',
      url: '/api/v1/jobs',
      operationId: 'listJobs',
      summary: 'List jobs, newest first, with cursor paging',
      tags: ['jobs'],
      query: JobListQuerySchema,
      responses: [{ status: 200, description: 'a page of jobs', schema: JobListSchema }],
      handler: ({ principal, query }) => entrance.list(principal, query),
    }),
    route({
      method: 'GET',
      url: '/api/v1/jobs/:id',
      operationId: 'getJob',
      summary: 'Get a job: state, progress, timestamps, engine and error',
      description: WAIT_DESCRIPTION,
      tags: ['jobs'],
      params: JobIdParams,
      query: WaitQuerySchema,
      responses: [{ status: 200, description: 'the job (with `results` when it ended within the wait)', schema: JobOutcomeSchema }],
      async handler({ principal, params, query }) {
        if (query.wait <= 0 || !ends) return entrance.get(principal, params.id);
        // One read: a job that has already ended comes back with its rows at once.
        const now = await entrance.outcome(principal, params.id, query.rows);
        return isFinalState(now.state) ? now : waited(entrance, ends, principal, now, query.wait, query.rows);
      },
    }),
    route({
      method: 'GET',
      url: '/api/v1/jobs/:id/log',
      operationId: 'getJobLog',
      summary: 'Read numbered log lines',
      tags: ['jobs'],
      params: JobIdParams,
      query: z.object({
        from: z.coerce.number().int().min(1).default(1).describe('first line number (1-based)'),
        limit: z.coerce.number().int().min(1).max(10_000).default(1000),
      }),
      responses: [{ status: 200, description: 'log lines', schema: LogPageSchema }],
      handler: ({ principal, params, query }) => entrance.log(principal, params.id, query.from, query.limit),
    }),
    route({
      method: 'GET',
      url: '/api/v1/jobs/:id/results',
      operationId: 'listResultSets',
      summary: 'List result sets with schema and row count',
      tags: ['results'],
      params: JobIdParams,
      responses: [{ status: 200, description: 'result sets', schema: ResultListSchema }],
      handler: async ({ principal, params }) => ({ items: await entrance.resultSets(principal, params.id) }),
    }),
    route({
      method: 'GET',
      url: '/api/v1/jobs/:id/results/:n',
      operationId: 'getResultRows',
      summary: 'Read a page of rows of one result set',
      tags: ['results'],
      params: ResultParams,
      query: z.object({ offset: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(10_000).default(1000) }),
      responses: [{ status: 200, description: 'rows', schema: RowPageSchema }],
      async handler({ principal, params, query }) {
        const page = await entrance.readRows(principal, params.id, params.n, query.offset, query.limit);
        return { resultSet: page.resultSet, offset: query.offset, rows: page.rows };
      },
    }),
    route({
      method: 'GET',
      url: '/api/v1/jobs/:id/results/:n/download',
      operationId: 'downloadResult',
      summary: 'Stream a whole result set as CSV or JSON lines',
      description:
        'With follow=true the set may still be being written: the answer waits until the job begins the set ' +
        '(404 SLUICE_RESULT_NOT_FOUND if the job ends without it) and streams rows as the job writes them, each once ' +
        'and in order, at the pace the client reads; it ends when the set is sealed. If the job fails or is ' +
        'cancelled before that, the response is aborted: the chunked body has no terminating chunk, so every HTTP ' +
        'client reports a truncated transfer, never a short but complete-looking file; GET the job for its error. ' +
        'Without follow, a set the job has not sealed is 404.',
      tags: ['results'],
      params: ResultParams,
      query: z.object({
        format: z.enum(['csv', 'jsonl']).default('csv'),
        follow: z.enum(['true', 'false']).default('false').describe('stream a set that is still being written'),
      }),
      responses: [
        { status: 200, description: 'CSV with a header row', contentType: 'text/csv' },
        { status: 200, description: 'one JSON object per line', contentType: 'application/x-ndjson' },
      ],
      async handler({ principal, params, query, reply }) {
        const stream = await entrance.download(principal, params.id, params.n, query.format, query.follow === 'true');
        const ext = query.format === 'csv' ? 'csv' : 'jsonl';
        reply.header('content-type', query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
        reply.header('content-disposition', `attachment; filename="${params.id}-${params.n}.${ext}"`);
        return reply.send(stream);
      },
    }),
    route({
      method: 'POST',
      url: '/api/v1/jobs/:id/lease',
      operationId: 'renewJobLease',
      summary: 'Renew the client lease of a job submitted with clientLeaseSeconds (a job whose lease lapses is cancelled)',
      tags: ['jobs'],
      params: JobIdParams,
      responses: [
        {
          status: 200,
          description: 'the new lease deadline (null when the job has no lease or has ended)',
          schema: z.object({ jobId: z.string(), leaseUntil: z.string().nullable() }),
        },
      ],
      handler: ({ principal, params }) => entrance.renewLease(principal, params.id),
    }),
    route({
      method: 'POST',
      url: '/api/v1/jobs/:id/cancel',
      operationId: 'cancelJob',
      summary: 'Cancel a job in any non-final state',
      tags: ['jobs'],
      params: JobIdParams,
      responses: [{ status: 200, description: 'the job after the cancel request (Cancelled, or Running until the engine stops it)', schema: JobViewSchema }],
      handler: ({ principal, params }) => entrance.cancel(principal, params.id),
    }),
  ];
}
