import { Redis } from 'ioredis';
import pg from 'pg';
import type { BenchDeployment } from './sluice-deployment.ts';
import { round, summarize } from './stats.ts';

/** One probed operation: how often it ran per job and how long it took. */
export interface ProbeRow {
  name: string;
  perJob: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  /** perJob × meanMs: the wall time this operation adds to a job (summed, whether or not on the critical path). */
  msPerJob: number;
}

/** Per-job counts and timings of database round trips, Redis commands, bus publishes and Sluice stages. */
export interface ProbeReport {
  jobs: number;
  db: { roundTripsPerJob: number; transactionsPerJob: number; poolConnectsPerJob: number; poolWait: ProbeRow | undefined; statements: ProbeRow[] };
  redis: { commandsPerJob: number; commands: ProbeRow[] };
  bus: { publishesPerJob: number; publishes: ProbeRow[] };
  stages: ProbeRow[];
}

const BLOCKING = new Set(['bzpopmin', 'bzpopmax', 'brpoplpush', 'blmove', 'bzmpop', 'xread', 'xreadgroup', 'subscribe', 'psubscribe']);

class Timings {
  readonly byName = new Map<string, number[]>();

  add(name: string, ms: number): void {
    let a = this.byName.get(name);
    if (!a) {
      a = [];
      this.byName.set(name, a);
    }
    a.push(ms);
  }

  rows(jobs: number, filter: (name: string) => boolean = () => true): ProbeRow[] {
    const out: ProbeRow[] = [];
    for (const [name, ms] of this.byName) {
      if (!filter(name)) continue;
      const s = summarize(ms);
      out.push({ name, perJob: round(ms.length / jobs, 2), meanMs: s.mean, p50Ms: s.p50, p99Ms: s.p99, msPerJob: round((ms.length / jobs) * s.mean, 2) });
    }
    return out.sort((a, b) => b.msPerJob - a.msPerJob);
  }

  count(filter: (name: string) => boolean = () => true): number {
    let n = 0;
    for (const [name, ms] of this.byName) if (filter(name)) n += ms.length;
    return n;
  }

  clear(): void {
    this.byName.clear();
  }
}

/** Collapses whitespace, masks the run's unique names, keeps the head of a statement. */
function sqlKey(text: string): string {
  const flat = text
    .replace(/\s+/g, ' ')
    .replace(/bullmq_bench[0-9a-f]+/g, 'bullmq_<prefix>')
    .trim();
  return flat.length > 90 ? `${flat.slice(0, 87)}...` : flat;
}

type AnyFn = (...args: unknown[]) => unknown;

/** Where a wrapped call's job id is, and which instants of it to remember. */
interface Marks {
  id: (args: unknown[]) => unknown;
  start?: string;
  end?: string;
}

/** Gaps between two marked instants of the same job: time spent between stages (queues, hops). */
const GAPS: { name: string; from: string; to: string }[] = [
  { name: 'gap: enqueued → runner picks the job up (BullMQ wake-up)', from: 'enqueued', to: 'run-start' },
  { name: 'gap: Succeed committed → client asks for rows (bus → WebSocket → client)', from: 'succeeded', to: 'rows-asked' },
  { name: 'gap: submit returned → WebSocket subscribe arrives (HTTP reply → client)', from: 'submitted', to: 'subscribe' },
  { name: 'gap: Succeed committed → the waiting request reads the outcome (bus → waiter)', from: 'succeeded', to: 'outcome-asked' },
];

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as PromiseLike<unknown> | undefined)?.then === 'function';
}

/**
 * Instruments a running deployment by wrapping, at run time and from the outside, the pg client, the
 * ioredis client, the event bus and the Sluice objects of the stack. Nothing in apps/ or packages/ is
 * changed; `uninstall()` restores every wrapped function.
 */
export class StageProbes {
  private readonly db = new Timings();
  private readonly redis = new Timings();
  private readonly bus = new Timings();
  private readonly stages = new Timings();
  private readonly restore: (() => void)[] = [];
  private readonly scriptNames = new Map<string, string>();
  private readonly marks = new Map<string, Map<string, number>>();

  private mark(jobId: unknown, what: string): void {
    if (typeof jobId !== 'string') return;
    let m = this.marks.get(jobId);
    if (!m) {
      if (this.marks.size > 50_000) this.marks.clear();
      m = new Map();
      this.marks.set(jobId, m);
    }
    if (m.has(what)) return; // the first occurrence counts (e.g. the first read of a subscribe)
    const now = performance.now();
    m.set(what, now);
    for (const g of GAPS) {
      if (g.to !== what) continue;
      const from = m.get(g.from);
      if (from !== undefined) this.stages.add(g.name, now - from);
    }
  }

  /** Wraps the pg and ioredis clients, the bus and the stack's objects; call once per deployment. */
  install(dep: BenchDeployment): void {
    this.patchPg();
    this.patchRedis();
    const { stack } = dep;
    const bus = stack.infra.bus as unknown as Record<string, AnyFn>;
    this.wrap(
      bus,
      'publish',
      (args) => {
        const topic = String(args[0]).split('.')[0];
        return `${topic} ${(args[1] as { type?: string })?.type ?? '?'}`;
      },
      this.bus,
    );
    const entrance = stack.entrance as unknown as Record<string, AnyFn>;
    this.wrap(entrance, 'submit', 'entrance.submit');
    this.wrap(entrance, 'get', 'entrance.get', undefined, { id: (a) => a[1], start: 'subscribe' });
    this.wrap(entrance, 'log', 'entrance.log');
    this.wrap(entrance, 'outcome', 'entrance.outcome', undefined, { id: (a) => a[1], start: 'outcome-asked' });
    this.wrap(entrance, 'readRows', 'entrance.readRows', undefined, { id: (a) => a[1], start: 'rows-asked' });
    const store = stack.store as unknown as Record<string, AnyFn>;
    for (const m of ['insert', 'admit', 'lastLogLine', 'setEngine', 'appendLogs', 'addResultSet', 'get', 'resultSets', 'readLogs', 'updateProgress'])
      this.wrap(store, m, `store.${m}`);
    this.wrap(store, 'transition', (args) => `store.transition→${String(args[2])}`, undefined, {
      id: (a) => (a[2] === 'Succeed' ? a[0] : undefined),
      end: 'succeeded',
    });
    const admission = (stack.entrance as unknown as { admission?: Record<string, AnyFn> }).admission;
    if (admission) {
      this.wrap(admission, 'admitGroup', 'admission.admitGroup');
      this.wrap(admission, 'enqueue', 'admission.enqueue', undefined, { id: (a) => (a[0] as { jobId?: string })?.jobId, end: 'enqueued' });
    }
    const queue = stack.infra.queue as unknown as Record<string, AnyFn>;
    this.wrap(queue, 'enqueue', 'queue.enqueue');
    const results = stack.infra.results as unknown as Record<string, AnyFn>;
    this.wrap(results, 'create', 'results.create');
    this.wrapGenerator(results, 'read', 'results.read');
    const manager = stack.manager;
    if (manager) {
      this.wrap(manager.runner as unknown as Record<string, AnyFn>, 'run', 'runner.run', undefined, {
        id: (a) => (a[0] as { jobId?: string })?.jobId,
        start: 'run-start',
      });
      const engines = manager.engines as unknown as Record<string, AnyFn>;
      this.wrap(engines, 'acquire', 'engines.acquire');
      this.wrap(engines, 'release', 'engines.release');
      for (const p of manager.engines.list()) this.wrapGenerator(p.engine as unknown as Record<string, AnyFn>, 'execute', 'engine.execute');
    }
  }

  /** Forgets everything measured so far. */
  reset(): void {
    for (const t of [this.db, this.redis, this.bus, this.stages]) t.clear();
    this.marks.clear();
  }

  /** What was measured since the last reset, per job of `jobs`. */
  report(jobs: number): ProbeReport {
    const isTx = (n: string) => n === 'BEGIN' || n === 'COMMIT' || n === 'ROLLBACK';
    const isSql = (n: string) => n !== 'pool.connect (wait)';
    const isCmd = (n: string) => !BLOCKING.has(n.split(' ')[0] ?? '');
    return {
      jobs,
      db: {
        roundTripsPerJob: round(this.db.count(isSql) / jobs, 2),
        transactionsPerJob: round(this.db.count((n) => n === 'BEGIN') / jobs, 2),
        poolConnectsPerJob: round(this.db.count((n) => n === 'pool.connect (wait)') / jobs, 2),
        poolWait: this.db.rows(jobs, (n) => n === 'pool.connect (wait)')[0],
        statements: this.db.rows(jobs, (n) => isSql(n)).map((r) => (isTx(r.name) ? { ...r, name: `(${r.name})` } : r)),
      },
      redis: { commandsPerJob: round(this.redis.count(isCmd) / jobs, 2), commands: this.redis.rows(jobs) },
      bus: { publishesPerJob: round(this.bus.count() / jobs, 2), publishes: this.bus.rows(jobs) },
      stages: this.stages.rows(jobs),
    };
  }

  /** Restores every wrapped function. */
  uninstall(): void {
    for (const r of this.restore.splice(0).reverse()) r();
  }

  private wrap(obj: Record<string, AnyFn>, method: string, label: string | ((args: unknown[]) => string), into: Timings = this.stages, marks?: Marks): void {
    const orig = obj[method];
    if (typeof orig !== 'function') return;
    const own = Object.hasOwn(obj, method);
    const probes = this;
    obj[method] = function (this: unknown, ...args: unknown[]) {
      const name = typeof label === 'string' ? label : label(args);
      const t0 = performance.now();
      const id = marks?.id(args);
      if (marks?.start) probes.mark(id, marks.start);
      const r = orig.apply(this, args);
      const done = (value?: unknown) => {
        into.add(name, performance.now() - t0);
        if (marks?.end) probes.mark(id, marks.end);
        // submit resolves to { job }: remember when the HTTP handler got its answer.
        if (name === 'entrance.submit') probes.mark((value as { job?: { id?: string } } | undefined)?.job?.id, 'submitted');
      };
      if (isThenable(r)) r.then(done, () => done());
      else done(r);
      return r;
    };
    this.restore.push(() => {
      if (own) obj[method] = orig;
      else delete obj[method];
    });
  }

  private wrapGenerator(obj: Record<string, AnyFn>, method: string, label: string): void {
    const orig = obj[method];
    if (typeof orig !== 'function') return;
    const own = Object.hasOwn(obj, method);
    const stages = this.stages;
    obj[method] = async function* (this: unknown, ...args: unknown[]) {
      const t0 = performance.now();
      try {
        yield* orig.apply(this, args) as AsyncGenerator<unknown>;
      } finally {
        stages.add(label, performance.now() - t0);
      }
    };
    this.restore.push(() => {
      if (own) obj[method] = orig;
      else delete obj[method];
    });
  }

  private patchPg(): void {
    const db = this.db;
    const proto = pg.Client.prototype as unknown as Record<string, AnyFn>;
    const origQuery = proto.query as AnyFn;
    proto.query = function (this: unknown, ...args: unknown[]) {
      const config = args[0] as string | { text?: string; submit?: unknown } | undefined;
      const text = typeof config === 'string' ? config : config?.text;
      if (!text || (typeof config === 'object' && typeof config?.submit === 'function' && !config.text)) return origQuery.apply(this, args);
      const key = sqlKey(text);
      const t0 = performance.now();
      const cb = args.findIndex((a, i) => i > 0 && typeof a === 'function');
      if (cb > 0) {
        const user = args[cb] as AnyFn;
        args[cb] = (...res: unknown[]) => {
          db.add(key, performance.now() - t0);
          return user(...res);
        };
        return origQuery.apply(this, args);
      }
      const r = origQuery.apply(this, args);
      if (isThenable(r)) {
        const done = () => db.add(key, performance.now() - t0);
        r.then(done, done);
      }
      return r;
    };
    const poolProto = pg.Pool.prototype as unknown as Record<string, AnyFn>;
    const ownConnect = Object.hasOwn(poolProto, 'connect');
    const origConnect = poolProto.connect as AnyFn;
    poolProto.connect = function (this: unknown, ...args: unknown[]) {
      const t0 = performance.now();
      const done = () => db.add('pool.connect (wait)', performance.now() - t0);
      if (typeof args[0] === 'function') {
        const user = args[0] as AnyFn;
        return origConnect.call(this, (...res: unknown[]) => {
          done();
          return user(...res);
        });
      }
      const r = origConnect.apply(this, args);
      if (isThenable(r)) r.then(done, done);
      return r;
    };
    this.restore.push(() => {
      proto.query = origQuery;
      if (ownConnect) poolProto.connect = origConnect;
      else delete poolProto.connect;
    });
  }

  private patchRedis(): void {
    const redis = this.redis;
    const names = this.scriptNames;
    const proto = Redis.prototype as unknown as Record<string, AnyFn> & { scriptsSet?: Record<string, { sha: string }> };
    const orig = proto.sendCommand as AnyFn;
    proto.sendCommand = function (this: { scriptsSet?: Record<string, { sha: string }> }, ...args: unknown[]) {
      const command = args[0] as { name: string; args: unknown[]; promise: Promise<unknown> };
      let name = command.name;
      if (name === 'evalsha') {
        const sha = String(command.args[0]);
        let script = names.get(sha);
        if (!script) {
          for (const [n, s] of Object.entries(this.scriptsSet ?? {})) if (s.sha === sha) script = n;
          names.set(sha, script ?? sha.slice(0, 8));
        }
        name = `evalsha ${script ?? names.get(sha)}`;
      }
      const t0 = performance.now();
      const r = orig.apply(this, args);
      const done = () => redis.add(name, performance.now() - t0);
      command.promise.then(done, done);
      return r;
    };
    this.restore.push(() => {
      proto.sendCommand = orig;
    });
  }
}
