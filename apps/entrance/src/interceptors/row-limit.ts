/**
 * The row limit, the Sluice version of Linkis' SQLLimitEntranceInterceptor: every top-level query
 * statement without a limit of its own gets ` LIMIT n` appended, so an interactive `select * from
 * big` cannot pull a whole table. Queries that already limit (LIMIT, FETCH FIRST/NEXT at their top
 * level) are left as they are, as are DDL, DML and non-SQL code.
 */
import { SluiceError } from '@sluice/core';
import { isRowLimitCodeType, sqlDialectOf } from './code-types.ts';
import { sqlSyntax, type Token, tokenize } from './lexer.ts';

/** Statements that start with one of these words are queries (after any opening parentheses). */
const QUERY_STARTS: ReadonlySet<string> = new Set(['SELECT', 'WITH', 'VALUES', 'FROM']);

/** A top-level occurrence of one of these words (not called as a function) makes the statement write. */
const WRITES: ReadonlySet<string> = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'UPSERT', 'CREATE', 'INTO']);

/** Words after FOR that make a locking clause, which must come after LIMIT. */
const LOCKING: ReadonlySet<string> = new Set(['UPDATE', 'SHARE', 'NO', 'KEY']);

/** Whether one statement (its significant tokens: no spaces, no comments) is a query that needs a limit. */
export function needsRowLimit(tokens: readonly Token[]): boolean {
  let first = 0;
  while (first < tokens.length && tokens[first]!.text === '(') first++;
  const lead = tokens[first];
  if (lead?.kind !== 'word' || !QUERY_STARTS.has(lead.text.toUpperCase())) return false;
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'punct') {
      if (t.text === '(') depth++;
      else if (t.text === ')') depth = Math.max(0, depth - 1);
      continue;
    }
    if (depth > 0 || t.kind !== 'word') continue;
    const word = t.text.toUpperCase();
    const next = tokens[i + 1];
    if (word === 'LIMIT' || word === 'FETCH') return false;
    if (WRITES.has(word) && next?.text !== '(') return false;
    if (word === 'FOR' && next?.kind === 'word' && LOCKING.has(next.text.toUpperCase())) return false;
  }
  return true;
}

/**
 * Appends ` LIMIT limit` to each top-level SELECT / WITH…SELECT / VALUES / FROM-first query of SQL
 * `code` that has no LIMIT or FETCH at its top level, after its last token (so before a trailing
 * comment or `;`). Statements are split on `;` outside strings and comments. `limit` 0 turns it off;
 * code of a non-SQL type is returned unchanged.
 */
export function applyRowLimit(code: string, codeType: string, limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new SluiceError('SLUICE_CONFIG_INVALID', { setting: 'rowLimit', reason: `must be a whole number ≥ 0, not ${limit}` });
  }
  if (limit === 0 || !isRowLimitCodeType(codeType)) return code;
  const insertAt: number[] = [];
  let statement: Token[] = [];
  const finish = () => {
    if (statement.length > 0 && needsRowLimit(statement)) insertAt.push(statement[statement.length - 1]!.end);
    statement = [];
  };
  for (const t of tokenize(code, sqlSyntax(sqlDialectOf(codeType)))) {
    if (t.kind === 'space' || t.kind === 'comment') continue;
    if (t.kind === 'punct' && t.text === ';') finish();
    else statement.push(t);
  }
  finish();
  const parts: string[] = [];
  let from = 0;
  for (const at of insertAt) {
    parts.push(code.slice(from, at), ` LIMIT ${limit}`);
    from = at;
  }
  parts.push(code.slice(from));
  return parts.join('');
}
