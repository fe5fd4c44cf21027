import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { round } from './stats.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where the main thread's CPU went while it was profiled. */
export interface CpuProfileSummary {
  /** Profiled wall time, ms. */
  wallMs: number;
  /** Sampled time not idle, ms. */
  busyMs: number;
  /** Self time by owner (npm package, Sluice workspace file, node internals, GC), ms and per job. */
  byOwner: { owner: string; ms: number; msPerJob: number; share: number }[];
  /**
   * Self time charged to the nearest caller that is a package or Sluice code: node internals, native
   * calls (socket writes, fs) and their syscalls count for whoever called them. GC stays apart.
   */
  byCaller: { owner: string; ms: number; msPerJob: number; share: number }[];
  /** The functions with the most self time. */
  topFunctions: { fn: string; owner: string; ms: number; msPerJob: number }[];
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const UNATTRIBUTED = (owner: string) => owner === 'node internals' || owner.startsWith('native') || owner === '(native)' || owner.startsWith('(program');

function ownerOf(url: string, fn: string): string {
  if (!url) {
    if (fn === '(garbage collector)') return 'GC';
    if (fn === '(idle)') return '(idle)';
    if (fn === '(program)') return '(program: native, outside JS)';
    return fn ? `native ${fn}` : '(native)';
  }
  if (url.startsWith('node:')) return 'node internals';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? path);
  }
  if (path.startsWith(ROOT)) {
    const rel = path.slice(ROOT.length).split('/');
    // apps/<app>/src/... or packages/<pkg>/src/...: name the workspace and file
    if (rel[0] === 'apps' || rel[0] === 'packages') return `sluice ${rel[1]}/${rel[rel.length - 1]}`;
    return `sluice ${rel.join('/')}`;
  }
  return path;
}

/**
 * Samples the CPU of this thread (the Sluice server's event loop) through the inspector, in-process,
 * and summarises self time by owner and by function. Only the main thread is profiled.
 */
export class CpuProfiler {
  private session: Session | undefined;

  /** Starts sampling this thread every `intervalUs` microseconds. */
  async start(intervalUs = 250): Promise<void> {
    const s = new Session();
    s.connect();
    await s.post('Profiler.enable');
    await s.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await s.post('Profiler.start');
    this.session = s;
  }

  /** Stops profiling; `jobs` turns totals into per-job figures. */
  async stop(jobs: number): Promise<CpuProfileSummary | undefined> {
    const s = this.session;
    if (!s) return undefined;
    this.session = undefined;
    try {
      const { profile } = (await s.post('Profiler.stop')) as unknown as { profile: Profile };
      return summarizeProfile(profile, jobs);
    } finally {
      await s.post('Profiler.disable').catch(() => {});
      s.disconnect();
    }
  }
}

/** Self time per node, aggregated. */
export function summarizeProfile(profile: Profile, jobs: number, top = 25): CpuProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ownerCache = new Map<number, string>();
  const callerOf = (id: number): string => {
    const hit = ownerCache.get(id);
    if (hit) return hit;
    const n = byId.get(id);
    const own = n ? ownerOf(n.callFrame.url, n.callFrame.functionName) : '(unknown)';
    let out = own;
    if (UNATTRIBUTED(own)) {
      const p = parent.get(id);
      const up = p === undefined ? own : callerOf(p);
      out = up === '(root)' || up === '(unknown)' ? own : up;
    }
    if (n?.callFrame.functionName === '(root)') out = '(root)';
    ownerCache.set(id, out);
    return out;
  };
  const callers = new Map<string, number>();
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const owners = new Map<string, number>();
  const fns = new Map<string, { owner: string; us: number }>();
  let busy = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const owner = ownerOf(url, functionName);
    owners.set(owner, (owners.get(owner) ?? 0) + us);
    if (owner === '(idle)') continue;
    const caller = callerOf(id);
    callers.set(caller, (callers.get(caller) ?? 0) + us);
    busy += us;
    const file = url ? (url.split('/').pop() ?? url) : '';
    const key = `${functionName || '(anonymous)'} ${file}${file ? `:${lineNumber + 1}` : ''}`;
    const f = fns.get(key) ?? { owner, us: 0 };
    f.us += us;
    fns.set(key, f);
  }
  const ms = (us: number) => round(us / 1000, 1);
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .filter(([o]) => o !== '(idle)')
      .map(([owner, us]) => ({ owner, ms: ms(us), msPerJob: round(us / 1000 / jobs, 3), share: round((us / busy) * 100, 1) }))
      .sort((a, b) => b.ms - a.ms);
  return {
    wallMs: ms(profile.endTime - profile.startTime),
    busyMs: ms(busy),
    byOwner: rows(owners),
    byCaller: rows(callers),
    topFunctions: [...fns.entries()]
      .map(([fn, f]) => ({ fn, owner: f.owner, ms: ms(f.us), msPerJob: round(f.us / 1000 / jobs, 3) }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top),
  };
}
