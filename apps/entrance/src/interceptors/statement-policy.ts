/**
 * The statement policy: administrator regular expressions (SLUICE_DENY_PATTERNS) that a job's code
 * must not match. Matching is done on the code with comments replaced by one space and whitespace
 * collapsed, case-insensitively, so `DROP /*x*\/ TABLE` or `Drop\n\tTable` still match `drop\s+table`.
 *
 * Where the dialect is uncertain (are backslashes escapes? do comments nest? is `#` a comment?) the
 * code is normalized under each reading and denied if any reading matches: a comment trick that
 * fools one reading is plain code in another. It is a guard rail, not a sandbox.
 */
import { SluiceError } from '@sluice/core';
import { type Language, languageOf } from './code-types.ts';
import { JAVA_SYNTAX, JSON_SYNTAX, PYTHON_SYNTAX, SCALA_SYNTAX, SHELL_SYNTAX, type Syntax, sqlSyntax, tokenize } from './lexer.ts';

/** A `/*` that opens inside an unclosed `/*`: only then can nesting change where a comment ends. */
const NESTED_OPEN = /\/\*(?:(?!\*\/)[\s\S])*?\/\*/;

/** The SQL readings worth trying for `code`: a variant only matters when its trigger character occurs. */
function sqlReadings(code: string): Syntax[] {
  const backslash = code.includes('\\') ? [false, true] : [false];
  const nested = NESTED_OPEN.test(code) ? [false, true] : [false];
  const hash = code.includes('#') ? [false, true] : [false];
  const out: Syntax[] = [];
  for (const backslashEscapes of backslash) {
    for (const nestedComments of nested) {
      for (const hashComments of hash) out.push(sqlSyntax({ backslashEscapes, nestedComments, hashComments, executableComments: true }));
    }
  }
  return out;
}

/** `null` stands for "no comment stripping at all" (the raw code, whitespace collapsed). */
function readingsOf(language: Language, code: string): Array<Syntax | null> {
  switch (language) {
    case 'sql':
      return sqlReadings(code);
    case 'python':
      return [PYTHON_SYNTAX];
    // Shell quoting (heredocs, $'…') is beyond this lexer: also match the code with its comments in.
    case 'shell':
      return [SHELL_SYNTAX, null];
    case 'scala':
    case 'java':
      return [SCALA_SYNTAX, JAVA_SYNTAX];
    default:
      return [JSON_SYNTAX];
  }
}

/** `code` with every comment replaced by one space, whitespace runs collapsed to one space, trimmed. */
export function normalizeCode(code: string, syntax: Syntax | null): string {
  const text = syntax
    ? tokenize(code, syntax)
        .map((t) => (t.kind === 'comment' || t.kind === 'space' ? ' ' : t.text))
        .join('')
    : code;
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The distinct normalized forms `code` is matched against: for a known code type, one per plausible
 * reading of its language (eight SQL dialect readings for SQL); without a code type or for an unknown
 * one, the readings of every language.
 */
export function policyForms(code: string, codeType?: string): string[] {
  const language = codeType === undefined ? undefined : languageOf(codeType);
  const languages: Language[] = language ? [language] : ['sql', 'python', 'shell', 'scala', 'json'];
  const forms = new Set<string>();
  for (const l of languages) {
    for (const reading of readingsOf(l, code)) forms.add(normalizeCode(code, reading));
  }
  return [...forms];
}

/**
 * Throws SLUICE_JOB_STATEMENT_DENIED with the pattern's source for the first of `patterns` that
 * matches `code` (comments stripped, whitespace collapsed, case ignored). `codeType` narrows the
 * comment syntax; without it every language's is tried.
 */
export function checkStatementPolicy(code: string, patterns: readonly RegExp[], codeType?: string): void {
  if (patterns.length === 0) return;
  const forms = policyForms(code, codeType);
  for (const pattern of patterns) {
    const re = new RegExp(pattern.source, `${pattern.flags.replace(/[gyi]/g, '')}i`);
    if (forms.some((f) => re.test(f))) throw new SluiceError('SLUICE_JOB_STATEMENT_DENIED', { pattern: pattern.source });
  }
}
