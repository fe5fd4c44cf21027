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

function sqlReadings(): Syntax[] {
  const out: Syntax[] = [];
  for (const backslashEscapes of [false, true]) {
    for (const nestedComments of [false, true]) {
      for (const hashComments of [false, true]) out.push(sqlSyntax({ backslashEscapes, nestedComments, hashComments, executableComments: true }));
    }
  }
  return out;
}

/** `null` stands for "no comment stripping at all" (the raw code, whitespace collapsed). */
function readingsOf(language: Language): Array<Syntax | null> {
  switch (language) {
    case 'sql':
      return sqlReadings();
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
    for (const reading of readingsOf(l)) forms.add(normalizeCode(code, reading));
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
