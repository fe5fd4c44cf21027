/**
 * Splits a script into statements. The protocol takes one statement per POST and rejects a trailing
 * semicolon, while scripts (and Linkis clients) send several separated by `;`.
 *
 * A `;` separates statements except inside a string ('it''s'), a quoted identifier ("a;b"), a comment
 * (-- … and /* … *\/), and the body of a SQL routine (CREATE FUNCTION … BEGIN …; …; END), where it ends
 * statements of the routine. Inside a routine, BEGIN and CASE open a block and END closes one, except
 * END IF, END LOOP, END WHILE and END REPEAT, which close blocks that BEGIN did not open.
 */

/** One statement of a script and where it starts (1-based), so errors can point into the script. */
export interface ScriptStatement {
  sql: string;
  line: number;
  column: number;
}

const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const SPACE_OR_COMMENT = /(?:\s+|--[^\n]*|\/\*[\s\S]*?\*\/)*/y;

/** Splits `script` into its non-empty statements, without the separators. */
export function splitStatements(script: string): ScriptStatement[] {
  const out: ScriptStatement[] = [];
  let start = 0;
  let depth = 0;
  let i = 0;
  const n = script.length;
  const push = (end: number) => {
    const raw = script.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    const sql = raw.trim();
    if (sql.length > 0 && !isOnlyComments(sql)) {
      const { line, column } = position(script, start + lead);
      out.push({ sql, line, column });
    }
  };
  while (i < n) {
    const c = script.charCodeAt(i);
    if (c === 39 /* ' */ || c === 34 /* " */) {
      i = skipQuoted(script, i, c);
    } else if (c === 45 /* - */ && script.charCodeAt(i + 1) === 45) {
      const eol = script.indexOf('\n', i);
      i = eol < 0 ? n : eol;
    } else if (c === 47 /* / */ && script.charCodeAt(i + 1) === 42 /* * */) {
      const close = script.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
    } else if (c === 59 /* ; */ && depth === 0) {
      push(i);
      i += 1;
      start = i;
    } else if (isWordStart(c) && (i === 0 || !isWordPart(script.charCodeAt(i - 1)))) {
      WORD.lastIndex = i;
      const word = (WORD.exec(script)?.[0] ?? '').toUpperCase();
      i += word.length;
      if (word === 'BEGIN') depth += 1;
      else if (depth > 0 && word === 'CASE') depth += 1;
      else if (depth > 0 && word === 'END') {
        SPACE_OR_COMMENT.lastIndex = i;
        SPACE_OR_COMMENT.exec(script);
        WORD.lastIndex = SPACE_OR_COMMENT.lastIndex;
        const next = (WORD.exec(script)?.[0] ?? '').toUpperCase();
        if (next !== 'IF' && next !== 'LOOP' && next !== 'WHILE' && next !== 'REPEAT') depth -= 1;
      }
    } else {
      i += 1;
    }
  }
  push(n);
  return out;
}

function isWordStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isWordPart(c: number): boolean {
  return isWordStart(c) || (c >= 48 && c <= 57);
}

/** The index after a quoted token starting at `i`; a doubled quote is an escaped one. */
function skipQuoted(s: string, i: number, quote: number): number {
  let j = i + 1;
  while (j < s.length) {
    if (s.charCodeAt(j) === quote) {
      if (s.charCodeAt(j + 1) === quote) j += 2;
      else return j + 1;
    } else {
      j += 1;
    }
  }
  return j;
}

function isOnlyComments(sql: string): boolean {
  SPACE_OR_COMMENT.lastIndex = 0;
  SPACE_OR_COMMENT.exec(sql);
  return SPACE_OR_COMMENT.lastIndex >= sql.length;
}

function position(s: string, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = s.indexOf('\n'); i >= 0 && i < index; i = s.indexOf('\n', i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return { line, column: index - lineStart + 1 };
}
