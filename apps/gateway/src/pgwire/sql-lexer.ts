/** The quoting rules a statement is scanned with: PostgreSQL/DuckDB/Trino, or MySQL's backslashes and backticks. */
export type SqlDialect = 'postgres' | 'mysql';

/** A stretch of SQL text outside any quote or comment, or a `$n` placeholder. */
type Visit = (kind: 'code' | 'placeholder' | 'semicolon', start: number, end: number) => void;

/**
 * Scans SQL once, calling `visit` for top-level code, `$n` placeholders and semicolons. Quotes
 * (`'…'` with `''`, `E'…'` and MySQL backslash escapes, `"…"`, MySQL backticks), dollar quotes
 * (`$tag$…$tag$`) and comments (`--`, `#` in MySQL, nested `/* *\/`) are skipped whole.
 */
function scan(sql: string, dialect: SqlDialect, visit: Visit): void {
  let i = 0;
  let codeStart = 0;
  const n = sql.length;
  const flush = (to: number) => {
    if (to > codeStart) visit('code', codeStart, to);
  };
  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      flush(i);
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
      codeStart = i;
    } else if (c === '#' && dialect === 'mysql') {
      flush(i);
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
      codeStart = i;
    } else if (c === '/' && next === '*') {
      flush(i);
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*' && dialect === 'postgres') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      codeStart = i;
    } else if (c === "'" || c === '"' || (c === '`' && dialect === 'mysql')) {
      const backslash = dialect === 'mysql' ? c !== '`' : c === "'" && i > 0 && /[eE]/.test(sql[i - 1] as string) && !/\w/.test(sql[i - 2] ?? ' ');
      i++;
      while (i < n) {
        if (backslash && sql[i] === '\\') i += 2;
        else if (sql[i] === c) {
          if (sql[i + 1] === c) i += 2;
          else {
            i++;
            break;
          }
        } else i++;
      }
    } else if (c === '$' && dialect === 'postgres') {
      const ph = /^\$(\d+)/.exec(sql.slice(i, i + 12));
      const prev = sql[i - 1] ?? ' ';
      if (ph && !/[\w$]/.test(prev)) {
        flush(i);
        visit('placeholder', i, i + ph[0].length);
        i += ph[0].length;
        codeStart = i;
        continue;
      }
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 66));
      if (tag && !/[\w$]/.test(prev)) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close < 0 ? n : close + tag[0].length;
      } else i++;
    } else if (c === ';') {
      flush(i);
      visit('semicolon', i, i + 1);
      i++;
      codeStart = i;
    } else i++;
  }
  flush(n);
}

/** Splits a script into statements at top-level semicolons; blank and comment-only pieces are dropped. */
export function splitStatements(sql: string, dialect: SqlDialect): string[] {
  const out: string[] = [];
  let start = 0;
  let hasCode = false;
  scan(sql, dialect, (kind, s, e) => {
    if (kind === 'semicolon') {
      if (hasCode) out.push(sql.slice(start, s).trim());
      start = e;
      hasCode = false;
    } else if (kind === 'placeholder' || sql.slice(s, e).trim() !== '') hasCode = true;
  });
  if (hasCode) out.push(sql.slice(start).trim());
  // A statement whose only "code" was inside quotes still counts: re-check pieces that look empty.
  return out.filter((s) => s.length > 0);
}

/** Whether a statement holds anything but whitespace and comments. */
export function isBlank(sql: string, dialect: SqlDialect): boolean {
  return splitStatements(sql, dialect).length === 0 && !/['"`]/.test(sql);
}

/** The highest `$n` placeholder in a statement (0 when none). */
export function maxPlaceholder(sql: string): number {
  let max = 0;
  scan(sql, 'postgres', (kind, s, e) => {
    if (kind === 'placeholder') max = Math.max(max, Number(sql.slice(s + 1, e)));
  });
  return max;
}

/** Replaces every `$n` outside quotes and comments with `values[n-1]`. */
export function substitutePlaceholders(sql: string, values: readonly string[]): string {
  let out = '';
  let last = 0;
  scan(sql, 'postgres', (kind, s, e) => {
    if (kind !== 'placeholder') return;
    const v = values[Number(sql.slice(s + 1, e)) - 1];
    if (v === undefined) return;
    out += sql.slice(last, s) + v;
    last = e;
  });
  return out + sql.slice(last);
}

/** Top-level code with quotes and comments removed (each replaced by a space), for classification. */
export function codeOnly(sql: string, dialect: SqlDialect): string {
  let out = '';
  scan(sql, dialect, (kind, s, e) => {
    out += kind === 'code' ? sql.slice(s, e) : kind === 'placeholder' ? sql.slice(s, e) : ';';
    out += ' ';
  });
  return out;
}

/** The first `n` words of a statement, upper-cased, after leading comments and parentheses. */
export function leadingWords(sql: string, n = 3): string[] {
  const code = codeOnly(sql, 'postgres').replace(/^[\s(]+/, '');
  return (code.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []).slice(0, n).map((w) => w.toUpperCase());
}
