/** How an option takes its value. */
export type OptionKind =
  /** one value: `-code "select 1"` */
  | 'string'
  /** `k=v`, repeatable: `-varMap a=1 -varMap b=2` */
  | 'map'
  /** no value: `--help` */
  | 'flag'
  /** an optional `true`/`false` after it: `--async`, `--async true` */
  | 'bool'
  /** a job id or taskID: `--status 42` (selects a job command) */
  | 'job';

/** The settings an option writes. */
export type OptionKey =
  | 'code'
  | 'codePath'
  | 'engineType'
  | 'codeType'
  | 'dataSource'
  | 'creator'
  | 'submitUser'
  | 'proxyUser'
  | 'variables'
  | 'labels'
  | 'runtimeParams'
  | 'startupParams'
  | 'sourceMap'
  | 'outPath'
  | 'format'
  | 'async'
  | 'leaseSeconds'
  | 'priority'
  | 'queueTimeout'
  | 'runTimeout'
  | 'executeOnce'
  | 'mode'
  | 'url'
  | 'token'
  | 'configFile'
  | 'authStrategy'
  | 'authKey'
  | 'scriptPath'
  | 'yarnCluster'
  | 'transport'
  | 'follow'
  | 'status'
  | 'kill'
  | 'log'
  | 'result'
  | 'help'
  | 'version';

/** One option: its spellings, what it sets and how it takes a value. */
export interface OptionSpec {
  key: OptionKey;
  kind: OptionKind;
  /** Spellings without dashes. Each is accepted with one or two dashes (`-code`, `--code`). */
  names: readonly string[];
  /** A value placeholder for the help text. */
  arg?: string;
  help: string;
  /** True for the names linkis-cli itself accepts (shown in the help's linkis column). */
  linkis?: boolean;
}

/**
 * Every option of `sluice`. The linkis-cli spellings (`-engineType`, `-varMap`, `--async`, `--status`…)
 * are accepted exactly, so a DolphinScheduler task keeps working with `linkis-cli` replaced by `sluice`.
 */
export const OPTIONS: readonly OptionSpec[] = [
  { key: 'code', kind: 'string', names: ['code'], arg: '<code>', help: 'the code to run', linkis: true },
  {
    key: 'codePath',
    kind: 'string',
    names: ['codePath', 'file', 'f'],
    arg: '<file>',
    help: 'read the code from a file (or give it as the last argument)',
    linkis: true,
  },
  {
    key: 'engineType',
    kind: 'string',
    names: ['engineType', 'engine-type', 'engine', 'e'],
    arg: '<name-version>',
    help: 'engine, e.g. duckdb-1.5, duckdb, shell',
    linkis: true,
  },
  { key: 'codeType', kind: 'string', names: ['codeType', 'code-type'], arg: '<type>', help: 'sql, shell, … (default: the engine’s first)', linkis: true },
  { key: 'dataSource', kind: 'string', names: ['data-source', 'dataSource', 'datasource'], arg: '<name>', help: 'run on a registered data source' },
  { key: 'creator', kind: 'string', names: ['creator'], arg: '<app>', help: 'the submitting application (default sluice-cli)', linkis: true },
  { key: 'submitUser', kind: 'string', names: ['submitUser', 'submit-user'], arg: '<user>', help: 'the user the token belongs to (checked)', linkis: true },
  {
    key: 'proxyUser',
    kind: 'string',
    names: ['proxyUser', 'proxy-user'],
    arg: '<user>',
    help: 'run as this user (see README: not yet supported for another user)',
    linkis: true,
  },
  {
    key: 'variables',
    kind: 'map',
    names: ['varMap', 'var'],
    arg: '<k=v>',
    help: 'a job variable for the code, repeatable (see docs/variables.md)',
    linkis: true,
  },
  { key: 'labels', kind: 'map', names: ['labelMap', 'label'], arg: '<k=v>', help: 'a job label, repeatable', linkis: true },
  { key: 'runtimeParams', kind: 'map', names: ['runtimeMap', 'runtime'], arg: '<k=v>', help: 'an engine runtime parameter, repeatable', linkis: true },
  { key: 'startupParams', kind: 'map', names: ['confMap', 'conf'], arg: '<k=v>', help: 'an engine start-up parameter, repeatable', linkis: true },
  { key: 'sourceMap', kind: 'map', names: ['sourceMap'], arg: '<k=v>', help: 'accepted for linkis-cli; stored as labels source.<k>', linkis: true },
  {
    key: 'outPath',
    kind: 'string',
    names: ['outPath', 'out-path', 'out', 'o'],
    arg: '<dir>',
    help: 'write each result set to a file in <dir> instead of stdout',
    linkis: true,
  },
  { key: 'format', kind: 'string', names: ['format'], arg: '<fmt>', help: 'table (stdout default), csv (file default), tsv or json' },
  { key: 'async', kind: 'bool', names: ['async'], arg: '[true|false]', help: 'submit, print the job id and exit; no lease', linkis: true },
  { key: 'leaseSeconds', kind: 'string', names: ['lease-seconds', 'leaseSeconds'], arg: '<s>', help: 'client lease of a sync run (default 30, 5–3600)' },
  { key: 'priority', kind: 'string', names: ['priority'], arg: '<0-10>', help: 'priority within the job’s group (default 5)' },
  { key: 'queueTimeout', kind: 'string', names: ['queue-timeout'], arg: '<s>', help: 'give up when still queued after <s> seconds' },
  { key: 'runTimeout', kind: 'string', names: ['run-timeout'], arg: '<s>', help: 'stop the job after it ran <s> seconds' },
  { key: 'executeOnce', kind: 'flag', names: ['execute-once'], help: 'run on a fresh engine, stopped afterwards' },
  { key: 'mode', kind: 'string', names: ['mode'], arg: '<ujes|once>', help: 'linkis-cli mode: once = --execute-once', linkis: true },
  { key: 'url', kind: 'string', names: ['url', 'gatewayUrl'], arg: '<url>', help: 'Sluice URL (default SLUICE_URL, then the config file)', linkis: true },
  {
    key: 'token',
    kind: 'string',
    names: ['token', 'authVal'],
    arg: '<token>',
    help: 'API token (prefer SLUICE_TOKEN: arguments are visible in ps)',
    linkis: true,
  },
  { key: 'configFile', kind: 'string', names: ['config', 'userConf'], arg: '<file>', help: 'config file (JSON, or linkis-cli .properties)', linkis: true },
  { key: 'authStrategy', kind: 'string', names: ['authStg'], arg: '<token>', help: 'linkis-cli auth strategy: only token is supported', linkis: true },
  { key: 'authKey', kind: 'string', names: ['authKey'], arg: '<key>', help: 'linkis-cli token key: accepted and ignored', linkis: true },
  { key: 'scriptPath', kind: 'string', names: ['scriptPath'], arg: '<path>', help: 'linkis-cli script path label: stored as label scriptPath', linkis: true },
  { key: 'yarnCluster', kind: 'string', names: ['yarnCluster'], arg: '<name>', help: 'linkis-cli label: stored as label yarnCluster', linkis: true },
  { key: 'transport', kind: 'string', names: ['transport'], arg: '<ws|poll>', help: 'follow the job over WebSocket (default) or REST polling' },
  { key: 'follow', kind: 'flag', names: ['follow'], help: 'log: keep printing until the job ends' },
  { key: 'status', kind: 'job', names: ['status'], arg: '<id>', help: 'print a job’s status as linkis-cli JSON', linkis: true },
  { key: 'kill', kind: 'job', names: ['kill'], arg: '<id>', help: 'cancel a job and wait until it stopped', linkis: true },
  { key: 'log', kind: 'job', names: ['log'], arg: '<id>', help: 'print a job’s log', linkis: true },
  { key: 'result', kind: 'job', names: ['result'], arg: '<id>', help: 'print a job’s result sets', linkis: true },
  { key: 'help', kind: 'flag', names: ['help', 'h'], help: 'this help', linkis: true },
  { key: 'version', kind: 'flag', names: ['version'], help: 'the CLI’s version', linkis: true },
];

const byName = new Map<string, OptionSpec>();
for (const spec of OPTIONS) for (const name of spec.names) byName.set(name, spec);

/** The option spelled `name` (without dashes), if any. */
export function findOption(name: string): OptionSpec | undefined {
  return byName.get(name);
}

/**
 * linkis-cli's single-dash option names that take a value. DolphinScheduler's Linkis task glues each
 * option to the previous value (`-engineType spark-2.4.3-codeType sql`); these are the names the
 * parser may split off the end of such a value, longest first.
 */
export const GLUED_OPTION_NAMES: readonly string[] = [
  'engineType',
  'codeType',
  'codePath',
  'code',
  'submitUser',
  'proxyUser',
  'creator',
  'varMap',
  'confMap',
  'runtimeMap',
  'labelMap',
  'sourceMap',
  'outPath',
  'scriptPath',
  'yarnCluster',
].sort((a, b) => b.length - a.length);
