import { type Principal, SluiceError } from '@sluice/core';
import type { EngineMap } from './engine-map.ts';

/** The Sluice label that keeps the Linkis `engineType` a job was submitted with. */
export const LINKIS_ENGINE_LABEL = 'linkis.engineType';

/** Labels consumed by the translation rather than copied onto the job. */
const CONSUMED_LABELS = new Set(['engineType', 'userCreator', 'codeType', 'executeOnce', 'jobQueuingTimeout', 'jobRunningTimeout']);

/** The default creator when `userCreator` is absent (`wds.linkis.default.requestApplication.name`). */
export const DEFAULT_CREATOR = 'IDE';

/** A Linkis request error with the number Linkis uses for it. */
function invalid(linkisErrCode: number, summary: string): SluiceError {
  return new SluiceError('SLUICE_REQUEST_INVALID', { summary, linkisErrCode });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function record(v: unknown, where: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) throw invalid(20008, `${where} must be an object`);
  return v;
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function seconds(label: string, v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const s = text(v).trim();
  if (!/^[0-9]+$/.test(s)) throw invalid(20009, `labels.${label} must be a number of seconds (^[0-9]+$), got "${s}"`);
  const n = Number(s);
  return n > 0 ? n : undefined;
}

/** What a Linkis submission becomes: the Sluice job body, and the Linkis engine type it named. */
export interface TranslatedSubmit {
  job: Record<string, unknown>;
  linkisEngineType: string;
}

/**
 * Translates a Linkis `entrance/submit` body (or `entrance/execute`, whose legacy 0.x shape has no
 * `executionContent`) into a Sluice job: labels `engineType` (`type-version`, mapped by the engine
 * map), `codeType` and `userCreator` (`user-creator`); `executionContent.code`; `params.variable`
 * → variables; `params.configuration.runtime|startup` → runtime/start-up parameters. The remaining
 * labels are copied onto the job. Jobs always run as the caller: a different `executeUser` or
 * `userCreator` user is refused.
 */
export function translateSubmit(body: unknown, principal: Principal, engines: EngineMap): TranslatedSubmit {
  if (!isRecord(body)) throw invalid(20008, 'the request body must be a JSON object');
  const legacy = body.executionContent === undefined && (body.executionCode !== undefined || body.executeApplicationName !== undefined);
  const labels = record(body.labels, 'labels');
  const params = record(body.params, 'params');
  const configuration = record(params.configuration, 'params.configuration');
  const runtime = record(configuration.runtime, 'params.configuration.runtime');
  const startup = record(configuration.startup, 'params.configuration.startup');
  const source = record(body.source, 'source');

  let code: unknown;
  let codeType: string;
  let engineLabel: string;
  let creator: string | undefined;
  if (legacy) {
    code = body.executionCode;
    codeType = text(body.runType ?? labels.codeType) || 'sql';
    engineLabel = text(labels.engineType ?? body.executeApplicationName);
    creator = text(body.requestApplicationName) || undefined;
  } else {
    const content = record(body.executionContent, 'executionContent');
    if (body.executionContent === undefined || !('code' in content))
      throw invalid(20010, 'Only code with runtype supported: executionContent.code is required');
    code = content.code;
    codeType = text(content.runType ?? labels.codeType);
    if (!codeType) throw invalid(20009, 'Label params invalid You need to specify runType in execution content, such as sql');
    if (Object.keys(labels).length === 0) throw invalid(20008, 'params cannot be empty ,  labels is null');
    engineLabel = text(labels.engineType);
  }
  if (typeof code !== 'string' || code.trim() === '') throw invalid(20007, 'The param executionCode cannot be empty');
  if (!engineLabel) throw invalid(50079, 'You need to specify engineTypeLabel in labels, such as spark-2.4.3');

  const executeUser = text(body.executeUser);
  if (executeUser && executeUser !== principal.user) {
    throw invalid(50080, `executeUser ${executeUser} is not ${principal.user}: Sluice runs every job as the user of the token or session`);
  }
  if (labels.userCreator !== undefined) {
    const uc = text(labels.userCreator);
    const dash = uc.lastIndexOf('-');
    if (dash <= 0 || dash === uc.length - 1) throw invalid(20009, `labels.userCreator must be user-creator, e.g. ${principal.user}-IDE; got "${uc}"`);
    const user = uc.slice(0, dash);
    if (user !== principal.user) {
      throw invalid(50080, `SubmitUser : ${principal.user} must be the same as ExecuteUser : ${principal.user} , and user : ${user} in userCreatorLabel.`);
    }
    creator = uc.slice(dash + 1);
  }

  const route = engines.resolve(engineLabel, codeType, runtime, startup);
  const variables: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(record(params.variable, 'params.variable'))) {
    variables[k] = typeof v === 'number' || typeof v === 'boolean' ? v : text(v);
  }
  const jobLabels: Record<string, string> = { [LINKIS_ENGINE_LABEL]: engineLabel };
  for (const [k, v] of Object.entries(labels)) if (!CONSUMED_LABELS.has(k)) jobLabels[k] = text(v);
  if (typeof source.scriptPath === 'string' && source.scriptPath) jobLabels['linkis.scriptPath'] = source.scriptPath;

  const job: Record<string, unknown> = {
    code,
    engineType: route.engineType,
    codeType: route.codeType,
    creator: creator ?? DEFAULT_CREATOR,
    labels: jobLabels,
  };
  if (Object.keys(variables).length) job.variables = variables;
  if (Object.keys(runtime).length) job.runtimeParams = runtime;
  if (Object.keys(startup).length) job.startupParams = startup;
  if (route.dataSource) job.dataSource = route.dataSource;
  if (labels.executeOnce !== undefined && text(labels.executeOnce).toLowerCase() !== 'false') job.executeOnce = true;
  const queue = seconds('jobQueuingTimeout', labels.jobQueuingTimeout);
  const run = seconds('jobRunningTimeout', labels.jobRunningTimeout);
  if (queue) job.queueTimeoutSeconds = queue;
  if (run) job.runTimeoutSeconds = run;
  return { job, linkisEngineType: engineLabel };
}
