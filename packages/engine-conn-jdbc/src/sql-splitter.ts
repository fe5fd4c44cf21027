import type { JdbcDialect } from './param-schemas.ts';

/** One statement of a script, as the splitter found it. */
export interface SplitStatement {
  /** The statement's text, trimmed, without its terminating semicolon. */
  text: string;
  /** Its first keyword, upper-cased (`SELECT`, `CREATE`…), or `''` when it starts with something else. */
  keyword: string;
}

function isIdentStart(c: string): boolean {
  return /[A-Za-z_\u0080-\uffff]/.test(c);
}

function isIdentChar(c: string): boolean {
  return /[A-Za-z0-9_\u0080-\uffff]/.test(c);
}

/** Index just past a quoted run that opened at `start` with `quote`. */
function skipQuoted(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  return sql.length;
}

/** Index just past a block comment that opened at `start`; PostgreSQL nests them. */
function skipBlockComment(sql: string, start: number, nested: boolean): number {
  let depth = 1;
  let i = start + 2;
  while (i < sql.length) {
    if (nested && sql[i] === '/' && sql[i + 1] === '*') {
      depth += 1;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else {
      i += 1;
    }
  }
  return sql.length;
}

function skipLine(sql: string, start: number): number {
  const end = sql.indexOf('\n', start);
  return end < 0 ? sql.length : end + 1;
}

/** The `$tag$` opening a PostgreSQL dollar-quoted string at `start`, or undefined. */
function dollarTag(sql: string, start: number): string | undefined {
  const prev = start > 0 ? (sql[start - 1] ?? '') : '';
  if (prev && isIdentChar(prev)) return undefined; // e.g. a parameter-like name: foo$1
  let i = start + 1;
  if (sql[i] === '$') return '$$';
  if (!isIdentStart(sql[i] ?? '')) return undefined;
  while (i < sql.length && isIdentChar(sql[i] ?? '')) i += 1;
  return sql[i] === '$' ? sql.slice(start, i + 1) : undefined;
}

function isLineComment(sql: string, i: number, dialect: JdbcDialect): boolean {
  if (sql[i] === '#') return dialect === 'mysql';
  if (sql[i] !== '-' || sql[i + 1] !== '-') return false;
  // MySQL needs whitespace (or the end) after `--`: `SELECT 1--1` is arithmetic there.
  if (dialect === 'mysql') {
    const next = sql[i + 2];
    return next === undefined || /\s/.test(next);
  }
  return true;
}

/**
 * Splits a script into statements at top-level semicolons, for one SQL dialect. Quotes (with the
 * dialect's escapes), comments (`--`, `/* *\/` nested in PostgreSQL, `#` in MySQL) and PostgreSQL
 * dollar quoting are respected. Statements with nothing but whitespace and comments are dropped.
 * MySQL's client-side `DELIMITER` command is not supported.
 */
export function splitStatements(sql: string, dialect: JdbcDialect): SplitStatement[] {
  const out: SplitStatement[] = [];
  const backslashInSingle = dialect !== 'postgresql';
  let start = 0;
  let meaningful = false;
  let i = 0;
  const flush = (end: number) => {
    if (meaningful) {
      const text = sql.slice(start, end).trim();
      if (text) out.push({ text, keyword: firstKeyword(text, dialect) });
    }
    start = end + 1;
    meaningful = false;
  };
  while (i < sql.length) {
    const c = sql[i] ?? '';
    if (c === ';') {
      flush(i);
      i += 1;
      continue;
    }
    if (isLineComment(sql, i, dialect)) {
      i = skipLine(sql, i);
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      i = skipBlockComment(sql, i, dialect === 'postgresql');
      continue;
    }
    if (!/\s/.test(c)) meaningful = true;
    if (c === "'") {
      // PostgreSQL's E'…' strings take backslash escapes.
      const backslashes = backslashInSingle || (i > 0 && /[eE]/.test(sql[i - 1] ?? '') && !isIdentChar(sql[i - 2] ?? ''));
      i = skipQuoted(sql, i, "'", backslashes);
    } else if (c === '"') {
      i = skipQuoted(sql, i, '"', dialect === 'mysql');
    } else if (c === '`' && dialect !== 'postgresql') {
      i = skipQuoted(sql, i, '`', false);
    } else if (c === '$' && dialect === 'postgresql') {
      const tag = dollarTag(sql, i);
      if (tag) {
        const end = sql.indexOf(tag, i + tag.length);
        i = end < 0 ? sql.length : end + tag.length;
      } else {
        i += 1;
      }
    } else {
      i += 1;
    }
  }
  flush(sql.length);
  return out;
}

/** The first keyword of a statement, skipping leading comments and parentheses. */
export function firstKeyword(text: string, dialect: JdbcDialect): string {
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (/\s|\(/.test(c)) {
      i += 1;
    } else if (isLineComment(text, i, dialect)) {
      i = skipLine(text, i);
    } else if (c === '/' && text[i + 1] === '*') {
      i = skipBlockComment(text, i, dialect === 'postgresql');
    } else {
      break;
    }
  }
  const m = /^[A-Za-z_]+/.exec(text.slice(i));
  return m ? m[0].toUpperCase() : '';
}
