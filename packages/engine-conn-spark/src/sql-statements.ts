/**
 * Splits a Spark SQL script into statements at top-level semicolons. Knows Spark's lexical rules:
 * '…' and "…" strings with backslash escapes, `…` identifiers (doubled backtick escapes), `--` line
 * comments and nested bracketed comments. Empty statements (only whitespace and comments) are dropped.
 * `BEGIN … END` compound statements (SQL scripting) are kept whole.
 */
export function splitSparkSql(script: string): string[] {
  const out: string[] = [];
  let start = 0;
  // Open BEGIN (B) and CASE (C) constructs; END closes the innermost. END IF/WHILE/LOOP/REPEAT/FOR
  // close constructs that only exist inside a BEGIN block, so they do not change the nesting.
  const open: ('B' | 'C')[] = [];
  let meaningful = false;
  let word = '';
  let skipNext = false;
  const flushWord = (at: number) => {
    const w = word.toUpperCase();
    word = '';
    if (!w) return;
    if (skipNext) {
      skipNext = false;
      return;
    }
    if (w === 'BEGIN') open.push('B');
    else if (w === 'CASE') open.push('C');
    else if (w === 'END') {
      const following = /^\s*([A-Za-z]+)/.exec(script.slice(at, at + 40))?.[1]?.toUpperCase();
      if (following && ['IF', 'WHILE', 'LOOP', 'REPEAT', 'FOR'].includes(following)) {
        skipNext = true;
        return;
      }
      if (following === 'CASE') skipNext = true;
      open.pop();
    }
  };
  const inBlock = () => open.includes('B');
  const push = (end: number) => {
    const text = script.slice(start, end).trim();
    if (meaningful && text) out.push(text);
    meaningful = false;
  };
  let i = 0;
  while (i < script.length) {
    const c = script[i] as string;
    const next = script[i + 1];
    if (/[A-Za-z0-9_]/.test(c)) {
      word += c;
      meaningful = true;
      i += 1;
      continue;
    }
    flushWord(i);
    if (c === '-' && next === '-') {
      const nl = script.indexOf('\n', i);
      i = nl < 0 ? script.length : nl + 1;
      continue;
    }
    if (c === '/' && next === '*') {
      let level = 1;
      i += 2;
      while (i < script.length && level > 0) {
        if (script[i] === '/' && script[i + 1] === '*') {
          level += 1;
          i += 2;
        } else if (script[i] === '*' && script[i + 1] === '/') {
          level -= 1;
          i += 2;
        } else i += 1;
      }
      continue;
    }
    if (c === "'" || c === '"') {
      meaningful = true;
      i += 1;
      while (i < script.length && script[i] !== c) i += script[i] === '\\' ? 2 : 1;
      i += 1;
      continue;
    }
    if (c === '`') {
      meaningful = true;
      i += 1;
      for (;;) {
        if (i >= script.length) break;
        if (script[i] === '`') {
          if (script[i + 1] === '`') {
            i += 2;
            continue;
          }
          break;
        }
        i += 1;
      }
      i += 1;
      continue;
    }
    if (c === ';' && !inBlock()) {
      push(i);
      start = i + 1;
      i += 1;
      continue;
    }
    if (!/\s/.test(c)) meaningful = true;
    i += 1;
  }
  flushWord(script.length);
  push(script.length);
  return out;
}
