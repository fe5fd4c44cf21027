import { DIALECT_RULES, type Dialect } from './dialect.ts';

/** The kinds of token the lexer produces. */
export type TokenKind = 'word' | 'qident' | 'string' | 'number' | 'op' | 'param';

/** One token of SQL text. */
export interface Token {
  kind: TokenKind;
  /** The text as written. */
  text: string;
  /** For words, the text upper-cased (keyword matching); for quoted identifiers and strings, the unquoted value. */
  value: string;
  /** Offset of the first character in the source. */
  start: number;
  /** Offset just past the last character. */
  end: number;
}

/** Raised when the text cannot be tokenised (an unterminated string, quote or comment). */
export class SqlSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'SqlSyntaxError';
  }
}

const OPS = ['->>', '::', '<=', '>=', '<>', '!=', '||', '->', '=>', '**', '<<', '>>', '==', ':='];
const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;

/** Splits SQL text into tokens, dropping comments and whitespace, per the dialect's quoting rules. */
export function tokenize(sql: string, dialect: Dialect): Token[] {
  const rules = DIALECT_RULES[dialect];
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql.charAt(i);
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if ((c === '-' && sql.charAt(i + 1) === '-') || (c === '#' && dialect === 'mysql')) {
      while (i < n && sql.charAt(i) !== '\n') i++;
      continue;
    }
    if (c === '/' && sql.charAt(i + 1) === '*') {
      const endAt = sql.indexOf('*/', i + 2);
      if (endAt < 0) throw new SqlSyntaxError('unterminated comment', i);
      i = endAt + 2;
      continue;
    }
    const start = i;
    const closeQuote = rules.identQuotes[c];
    if (closeQuote !== undefined && !(c === '"' && rules.doubleQuoteIsString)) {
      const [value, next] = readQuoted(sql, i, closeQuote, false);
      out.push({ kind: 'qident', text: sql.slice(start, next), value, start, end: next });
      i = next;
      continue;
    }
    if (c === "'" || (c === '"' && rules.doubleQuoteIsString)) {
      const [value, next] = readQuoted(sql, i, c, rules.backslashEscapes);
      out.push({ kind: 'string', text: sql.slice(start, next), value, start, end: next });
      i = next;
      continue;
    }
    if ((c === 'E' || c === 'e') && sql.charAt(i + 1) === "'" && rules.dollarQuotes) {
      const [value, next] = readQuoted(sql, i + 1, "'", true);
      out.push({ kind: 'string', text: sql.slice(start, next), value, start, end: next });
      i = next;
      continue;
    }
    if (c === '$' && rules.dollarQuotes) {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (m) {
        const tag = m[0];
        const endAt = sql.indexOf(tag, i + tag.length);
        if (endAt < 0) throw new SqlSyntaxError('unterminated dollar-quoted string', i);
        const next = endAt + tag.length;
        out.push({ kind: 'string', text: sql.slice(start, next), value: sql.slice(i + tag.length, endAt), start, end: next });
        i = next;
        continue;
      }
    }
    if (c === '$' && /[0-9]/.test(sql.charAt(i + 1))) {
      i++;
      while (i < n && /[0-9]/.test(sql.charAt(i))) i++;
      out.push({ kind: 'param', text: sql.slice(start, i), value: sql.slice(start, i), start, end: i });
      continue;
    }
    if (c === '?') {
      out.push({ kind: 'param', text: '?', value: '?', start, end: i + 1 });
      i++;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql.charAt(i + 1)))) {
      while (i < n && /[0-9._]/.test(sql.charAt(i))) i++;
      if ((sql.charAt(i) === 'e' || sql.charAt(i) === 'E') && /[-+0-9]/.test(sql.charAt(i + 1))) {
        i += 2;
        while (i < n && /[0-9]/.test(sql.charAt(i))) i++;
      }
      // A number glued to letters (`1d`, Spark's typed literals `10L`) stays one token.
      while (i < n && WORD_PART.test(sql.charAt(i))) i++;
      out.push({ kind: 'number', text: sql.slice(start, i), value: sql.slice(start, i), start, end: i });
      continue;
    }
    if (WORD_START.test(c)) {
      while (i < n && WORD_PART.test(sql.charAt(i))) i++;
      const text = sql.slice(start, i);
      out.push({ kind: 'word', text, value: text.toUpperCase(), start, end: i });
      continue;
    }
    const op = OPS.find((o) => sql.startsWith(o, i)) ?? c;
    out.push({ kind: 'op', text: op, value: op, start, end: i + op.length });
    i += op.length;
  }
  return out;
}

function readQuoted(sql: string, at: number, close: string, backslash: boolean): [string, number] {
  let i = at + 1;
  let value = '';
  for (;;) {
    if (i >= sql.length) throw new SqlSyntaxError(`unterminated quoted text starting ${sql.slice(at, at + 20)}`, at);
    const ch = sql.charAt(i);
    if (backslash && ch === '\\') {
      value += sql.charAt(i + 1);
      i += 2;
      continue;
    }
    if (ch === close) {
      if (sql.charAt(i + 1) === close) {
        value += close;
        i += 2;
        continue;
      }
      return [value, i + 1];
    }
    value += ch;
    i++;
  }
}

/** Splits a token list into statements at top-level semicolons (empty statements are dropped). */
export function splitStatements(tokens: Token[]): Token[][] {
  const out: Token[][] = [];
  let cur: Token[] = [];
  let depth = 0;
  // A BEGIN … END block (Flink's STATEMENT SET, compound statements) holds semicolons inside it.
  let block = 0;
  for (const t of tokens) {
    if (t.kind === 'op' && (t.value === '(' || t.value === '[')) depth++;
    if (t.kind === 'op' && (t.value === ')' || t.value === ']')) depth--;
    if (t.kind === 'word' && t.value === 'BEGIN' && cur.length > 0 && isStatementSetHead(cur)) block++;
    if (t.kind === 'word' && t.value === 'END' && block > 0 && depth === 0 && !inCase(cur)) block--;
    if (t.kind === 'op' && t.value === ';' && depth <= 0 && block === 0) {
      if (cur.length > 0) out.push(cur);
      cur = [];
      depth = 0;
      continue;
    }
    cur.push(t);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

function isStatementSetHead(cur: Token[]): boolean {
  const words = cur.map((t) => t.value).join(' ');
  return /(^| )(EXECUTE )?STATEMENT SET$/.test(words);
}

function inCase(cur: Token[]): boolean {
  let open = 0;
  for (const t of cur) {
    if (t.kind !== 'word') continue;
    if (t.value === 'CASE') open++;
    if (t.value === 'END' && open > 0) open--;
  }
  return open > 0;
}
