import { CliError } from './cli-error.ts';
import { EXIT } from './exit-codes.ts';
import { findOption, GLUED_OPTION_NAMES, OPTIONS, type OptionKey, type OptionSpec } from './options.ts';

/** What the command line asks for. */
export type Command = 'submit' | 'status' | 'log' | 'result' | 'kill' | 'help' | 'version';

/** The sluice-style command words: `sluice submit …`, `sluice status <id>`. */
export const COMMAND_WORDS: readonly Command[] = ['submit', 'status', 'log', 'result', 'kill', 'help', 'version'];

/** Options whose values are `k=v` maps. */
export type MapKey = 'variables' | 'labels' | 'runtimeParams' | 'startupParams' | 'sourceMap';

/** A parsed command line. Values are still text; {@link buildSubmitRequest} checks them. */
export interface ParsedArgs {
  command: Command;
  /** The job of `status|log|result|kill`: a job id or a numeric taskID. */
  jobRef?: string;
  /** A script file given as an argument (linkis-cli's `script-path`). */
  scriptFile?: string;
  /** Single values by option, the last one given. */
  values: Partial<Record<OptionKey, string>>;
  /** `k=v` options, merged per option. */
  maps: Record<MapKey, Record<string, string>>;
  /** Options given without a value (`--follow`, `--execute-once`). */
  flags: ReadonlySet<OptionKey>;
  /** `--async` or `--async true`. */
  async: boolean;
}

interface Pair {
  spec: OptionSpec;
  /** The spelling used, for messages. */
  name: string;
  value: string;
  /** Index of the argument the value came from, or -1 for `--x=v` and flags. */
  valueIndex: number;
}

/**
 * Parses the arguments of `sluice`. Both styles are accepted:
 *
 * - sluice style: `sluice submit --engine duckdb --code "select 1"`, `sluice status <id>`;
 * - linkis-cli style: `sluice -engineType duckdb-1.5 -codeType sql -code "select 1"`, `sluice --status 42`.
 *
 * Every option may be written with one or two dashes, and `--name=value` works too. The glued form
 * that DolphinScheduler's Linkis task produces (`-engineType spark-2.4.3-codeType sql-code "select 1"`,
 * its option/value pairs concatenated without a blank) is taken apart: when an argument stands where
 * an option should be and the previous value ends with `-<linkis option>`, that suffix is the option.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const pairs: Pair[] = [];
  const positionals: string[] = [];
  let command: Command | undefined;
  let i = 0;
  const first = argv[0];
  if (first !== undefined && (COMMAND_WORDS as readonly string[]).includes(first)) {
    command = first as Command;
    i = 1;
  }
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.length > 1 && arg.startsWith('-')) {
      const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      const inline = eq < 0 ? undefined : body.slice(eq + 1);
      const spec = findOption(name);
      if (!spec) throw usage(`unknown option ${dashed(arg, name)}${suggest(name)}`);
      if (spec.kind === 'flag') {
        if (inline !== undefined) throw usage(`option ${dashed(arg, name)} takes no value`);
        pairs.push({ spec, name: dashed(arg, name), value: 'true', valueIndex: -1 });
      } else if (spec.kind === 'bool') {
        let value = 'true';
        let valueIndex = -1;
        if (inline !== undefined) value = inline;
        else if (/^(true|false)$/i.test(argv[i + 1] ?? '')) {
          value = argv[++i] as string;
          valueIndex = i;
        }
        if (!/^(true|false)$/i.test(value)) throw usage(`option ${dashed(arg, name)} takes true or false, not ${JSON.stringify(value)}`);
        pairs.push({ spec, name: dashed(arg, name), value: value.toLowerCase(), valueIndex });
      } else {
        let value = inline;
        let valueIndex = -1;
        if (value === undefined) {
          if (i + 1 >= argv.length) throw usage(`option ${dashed(arg, name)} needs a value${spec.arg ? ` ${spec.arg}` : ''}`);
          value = argv[++i] as string;
          valueIndex = i;
        }
        pairs.push({ spec, name: dashed(arg, name), value, valueIndex });
      }
      continue;
    }
    // An argument where an option should be: a glued DolphinScheduler pair, or a script file.
    const last = pairs[pairs.length - 1];
    const glued = last && last.valueIndex === i - 1 && (last.spec.kind === 'string' || last.spec.kind === 'map') ? unglue(last.value) : undefined;
    if (last && glued) {
      last.value = glued.value;
      pairs.push({ spec: glued.spec, name: `-${glued.name}`, value: arg, valueIndex: i });
    } else {
      positionals.push(arg);
    }
  }
  return assemble(command, pairs, positionals);
}

function dashed(arg: string, name: string): string {
  return `${arg.startsWith('--') ? '--' : '-'}${name}`;
}

function usage(message: string): CliError {
  return new CliError(EXIT.usage, message);
}

function suggest(name: string): string {
  const lower = name.toLowerCase();
  const hit = OPTIONS.flatMap((o) => o.names).find((n) => n.toLowerCase() === lower || (lower.length >= 4 && n.toLowerCase().startsWith(lower)));
  return hit ? ` (did you mean -${hit}?)` : '';
}

function unglue(value: string): { value: string; spec: OptionSpec; name: string } | undefined {
  for (const name of GLUED_OPTION_NAMES) {
    const suffix = `-${name}`;
    if (value.length > suffix.length && value.endsWith(suffix)) {
      const spec = findOption(name);
      if (spec) return { value: value.slice(0, -suffix.length), spec, name };
    }
  }
  return undefined;
}

/** Splits `k=v` at the first `=` and strips quotes around the value, as linkis-cli does. */
export function parseKeyValue(option: string, text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw usage(`option ${option} takes key=value, not ${JSON.stringify(text)}`);
  const key = text.slice(0, eq).trim();
  let value = text.slice(eq + 1);
  if (value.length >= 2 && ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))) value = value.slice(1, -1);
  if (!key) throw usage(`option ${option} takes key=value, not ${JSON.stringify(text)}`);
  return [key, value];
}

const JOB_COMMANDS: Partial<Record<OptionKey, Command>> = { status: 'status', kill: 'kill', log: 'log', result: 'result' };

function assemble(word: Command | undefined, pairs: Pair[], positionals: string[]): ParsedArgs {
  const values: Partial<Record<OptionKey, string>> = {};
  const maps: Record<MapKey, Record<string, string>> = { variables: {}, labels: {}, runtimeParams: {}, startupParams: {}, sourceMap: {} };
  const flags = new Set<OptionKey>();
  const jobOptions: Pair[] = [];
  let async = false;
  for (const p of pairs) {
    switch (p.spec.kind) {
      case 'flag':
        flags.add(p.spec.key);
        break;
      case 'bool':
        if (p.spec.key === 'async') async = p.value === 'true';
        break;
      case 'job':
        jobOptions.push(p);
        break;
      case 'map': {
        const [k, v] = parseKeyValue(p.name, p.value);
        const map = maps[p.spec.key as MapKey];
        if (k in map && map[k] !== v) throw usage(`option ${p.name} sets ${k} twice, to ${JSON.stringify(map[k])} and ${JSON.stringify(v)}`);
        map[k] = v;
        break;
      }
      default:
        values[p.spec.key] = p.value;
    }
  }
  if (flags.has('help') || word === 'help') return { command: 'help', values, maps, flags, async };
  if (flags.has('version') || word === 'version') return { command: 'version', values, maps, flags, async };
  if (jobOptions.length > 1) throw usage(`${jobOptions.map((p) => p.name).join(' and ')} cannot be combined: give one job command`);
  const jobOption = jobOptions[0];
  if (jobOption && word && word !== 'submit') throw usage(`${word} and ${jobOption.name} cannot be combined`);
  const command: Command = jobOption ? (JOB_COMMANDS[jobOption.spec.key] as Command) : (word ?? 'submit');
  if (command === 'submit') {
    if (positionals.length > 1) throw usage(`unexpected arguments after the script file ${positionals[0]}: ${positionals.slice(1).join(' ')}`);
    return { command, scriptFile: positionals[0], values, maps, flags, async };
  }
  const jobRef = jobOption ? jobOption.value : positionals.shift();
  if (!jobRef) throw usage(`${command} needs a job id or taskID: sluice ${command} <id>`);
  if (positionals.length > 0) throw usage(`unexpected arguments: ${positionals.join(' ')}`);
  if (values.code !== undefined || values.codePath !== undefined) throw usage(`${command} takes a job, not code`);
  return { command, jobRef, values, maps, flags, async };
}
