/**
 * Linkis job ids, produced and parsed without any state, so any gateway resolves any id.
 *
 * - taskID: the job's numeric `seq`.
 * - short exec id (Linkis `jobReqId`): `{creator}_{user}_{engine}_{seq}`, the Linkis scheduler form
 *   `{creator}_{user}_{engineType}_{index}` with the seq as the index.
 * - execID: `exec_id` + len3(appName) + len3(instance) + appName + instance + shortId
 *   (`ZuulEntranceUtils.generateExecID`), e.g. `exec_id018014linkis-cg-entrance127.0.0.1:9001IDE_alice_duckdb_7`.
 * - legacy execID (the WebSocket path): len2(creator) + len2(engine) + len2(instance) + creator +
 *   engine + instance + shortId, e.g. `030618IDEduckdb127.0.0.1:9001…`.
 */

/** The application name Linkis clients expect in an execID. */
export const ENTRANCE_APP_NAME = 'linkis-cg-entrance';

/** The parts of a job an id is built from. */
export interface JobIdParts {
  seq: string;
  user: string;
  creator: string;
  /** Engine name, e.g. `duckdb` (a `name-version` label is cut at its first dash). */
  engine: string;
}

const SEQ = /^[1-9][0-9]{0,17}$/;
const ULID = /^[0-9A-Z]{26}$/;

function engineName(engine: string): string {
  const dash = engine.indexOf('-');
  return dash < 0 ? engine : engine.slice(0, dash);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** The Linkis `jobReqId`: `{creator}_{user}_{engine}_{seq}`. */
export function shortExecId(job: JobIdParts): string {
  return `${job.creator}_${job.user}_${engineName(job.engine)}_${job.seq}`;
}

/** The execID of a job in the current Linkis format. */
export function execIdOf(job: JobIdParts, instance: string): string {
  return `exec_id${pad(ENTRANCE_APP_NAME.length, 3)}${pad(instance.length, 3)}${ENTRANCE_APP_NAME}${instance}${shortExecId(job)}`;
}

/**
 * The execID in the deprecated format the Linkis WebSocket path produces. Parts longer than two digits
 * can count fall back to the current format, which every parser here accepts as well.
 */
export function legacyExecIdOf(job: JobIdParts, instance: string): string {
  const engine = engineName(job.engine);
  if (job.creator.length > 99 || engine.length > 99 || instance.length > 99) return execIdOf(job, instance);
  return `${pad(job.creator.length, 2)}${pad(engine.length, 2)}${pad(instance.length, 2)}${job.creator}${engine}${instance}${shortExecId(job)}`;
}

/** The Sluice job reference (seq or ULID) inside a short exec id, if there is one. */
function refInShortId(shortId: string): string | null {
  if (SEQ.test(shortId) || ULID.test(shortId)) return shortId;
  const m = /_([1-9][0-9]{0,17})$/.exec(shortId);
  return m ? (m[1] as string) : null;
}

/** Splits an execID of the current format into `[exec_id, appName, instances, shortId]`, or null. */
export function splitExecId(id: string): [string, string, string, string] | null {
  const m = /^exec_id(\d{3})(\d{3})/.exec(id);
  if (!m) return null;
  const appLen = Number(m[1]);
  const instLen = Number(m[2]);
  const rest = id.slice(13);
  if (rest.length <= appLen + instLen) return null;
  return ['exec_id', rest.slice(0, appLen), rest.slice(appLen, appLen + instLen), rest.slice(appLen + instLen)];
}

/** Splits a legacy execID into `[creator, engine, instance, shortId]`, or null. */
export function splitLegacyExecId(id: string): [string, string, string, string] | null {
  const m = /^(\d{2})(\d{2})(\d{2})/.exec(id);
  if (!m) return null;
  const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const rest = id.slice(6);
  if (rest.length <= a + b + c) return null;
  return [rest.slice(0, a), rest.slice(a, a + b), rest.slice(a + b, a + b + c), rest.slice(a + b + c)];
}

/**
 * Resolves whatever a Linkis client puts where a job id goes: an execID (current or legacy format), a
 * numeric taskID (Linkis 1.5–1.8 accept those too) or a Sluice job id. Returns the Sluice reference
 * the entrance accepts (seq or ULID), or null when the id names no job Sluice could have made.
 */
export function parseJobRef(id: string): string | null {
  if (SEQ.test(id) || ULID.test(id)) return id;
  const current = splitExecId(id);
  if (current) return refInShortId(current[3]);
  const legacy = splitLegacyExecId(id);
  if (legacy) return refInShortId(legacy[3]);
  return null;
}
