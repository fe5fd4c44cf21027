/** One statement of a script, with where it starts (1-based) and its leading keywords. */
export interface ScriptStatement {
  /** The statement without its terminating `;`; comments inside it are kept. */
  sql: string;
  line: number;
  column: number;
  /** Upper-cased words at the statement's top level, comments and literals skipped (first 8). */
  words: string[];
  /** True when `AS` appears outside parentheses (tells CREATE TABLE … AS SELECT from plain DDL). */
  topLevelAs: boolean;
}

/**
 * Splits a Flink SQL script at top-level semicolons. Semicolons inside string literals ('…', with ''
 * escapes), quoted identifiers (`…`, "…"), comments (-- and /* *\/) do not split, and neither do those
 * inside `[EXECUTE] STATEMENT SET BEGIN … END`, which is one statement. Statements with nothing but
 * whitespace and comments are dropped.
 */
export function splitStatements(script: string): ScriptStatement[] {
  const out: ScriptStatement[] = [];
  let start = 0;
  let line = 1;
  let column = 1;
  let startLine = 1;
  let startColumn = 1;
  let words: string[] = [];
  let wordsSeen = 0;
  let depth = 0;
  let topLevelAs = false;
  let lastWord = '';
  let hasCode = false;
  let i = 0;

  const advance = (to: number) => {
    for (; i < to; i += 1) {
      if (script[i] === '\n') {
        line += 1;
        column = 1;
      } else column += 1;
    }
  };
  const markCode = () => {
    if (!hasCode) {
      hasCode = true;
      startLine = line;
      startColumn = column;
      start = i;
    }
  };
  const inStatementSet = () => {
    const w = words[0] === 'EXECUTE' ? words.slice(1) : words;
    return w[0] === 'STATEMENT' && w[1] === 'SET' && w[2] === 'BEGIN';
  };
  const finish = (end: number) => {
    if (hasCode) {
      out.push({ sql: script.slice(start, end).trim(), line: startLine, column: startColumn, words, topLevelAs });
    }
    hasCode = false;
    words = [];
    wordsSeen = 0;
    depth = 0;
    topLevelAs = false;
    lastWord = '';
  };

  while (i < script.length) {
    const c = script[i];
    const next = script[i + 1];
    if (c === '-' && next === '-') {
      const end = script.indexOf('\n', i);
      advance(end < 0 ? script.length : end);
      continue;
    }
    if (c === '/' && next === '*') {
      const end = script.indexOf('*/', i + 2);
      advance(end < 0 ? script.length : end + 2);
      continue;
    }
    if (c === "'" || c === '`' || c === '"') {
      markCode();
      let j = i + 1;
      for (; j < script.length; j += 1) {
        if (script[j] === c) {
          if (script[j + 1] === c) j += 1;
          else break;
        }
      }
      lastWord = '';
      advance(Math.min(j + 1, script.length));
      continue;
    }
    if (c === ';') {
      if (inStatementSet() && lastWord !== 'END') {
        advance(i + 1);
        continue;
      }
      finish(i);
      advance(i + 1);
      continue;
    }
    if (c !== undefined && /[A-Za-z_]/.test(c)) {
      markCode();
      let j = i + 1;
      while (j < script.length && /[\w$]/.test(script[j] ?? '')) j += 1;
      const word = script.slice(i, j).toUpperCase();
      if (depth === 0) {
        if (wordsSeen < 8) words.push(word);
        wordsSeen += 1;
        if (word === 'AS') topLevelAs = true;
      }
      lastWord = word;
      advance(j);
      continue;
    }
    if (c !== undefined && !/\s/.test(c)) {
      markCode();
      if (c === '(') depth += 1;
      else if (c === ')') depth = Math.max(0, depth - 1);
      lastWord = '';
    }
    advance(i + 1);
  }
  finish(script.length);
  return out;
}

/** How a statement is sent: configure-session (DDL-like, no result), or execute statement. */
export type StatementRoute = 'configure' | 'execute';

const DDL_OBJECTS = new Set(['TABLE', 'VIEW', 'DATABASE', 'FUNCTION', 'CATALOG', 'MODEL']);

/**
 * Which endpoint runs a statement. configure-session takes CREATE/DROP/ALTER of tables, views,
 * databases, functions, catalogs and models, USE, LOAD/UNLOAD MODULE and ADD JAR; everything else
 * (queries, INSERT, SET/RESET, SHOW, EXPLAIN, and CREATE TABLE … AS SELECT, which runs a job) goes
 * through execute statement. CREATE MATERIALIZED TABLE starts a job too, so it is executed.
 */
export function routeOf(statement: ScriptStatement): StatementRoute {
  const [first, ...rest] = statement.words;
  if (first === 'USE') return 'configure';
  if ((first === 'LOAD' || first === 'UNLOAD') && rest[0] === 'MODULE') return 'configure';
  if (first === 'ADD' && rest[0] === 'JAR') return 'configure';
  if (first === 'CREATE' || first === 'DROP' || first === 'ALTER') {
    // Skip modifiers: OR REPLACE, TEMPORARY, SYSTEM, IF [NOT] EXISTS come before or after the object.
    const object = rest.find((w) => DDL_OBJECTS.has(w) || w === 'MATERIALIZED');
    if (!object || object === 'MATERIALIZED') return 'execute';
    if (first === 'CREATE' && object === 'TABLE' && statement.topLevelAs) return 'execute';
    return 'configure';
  }
  return 'execute';
}

/** True for SET and RESET, after which the session's configuration is read again. */
export function changesConfig(statement: ScriptStatement): boolean {
  const first = statement.words[0];
  return first === 'SET' || first === 'RESET';
}
