/**
 * A small table-driven lexer that tells code from strings and comments, for SQL, Python, shell,
 * Scala and Java. It does not parse: it only has to know where a comment or a string starts and
 * ends, and split the rest into words and single punctuation characters.
 */
import type { Language } from './code-types.ts';

/** Token kinds; quoted identifiers (`"x"`, `` `x` ``) are strings too. */
export type TokenKind = 'space' | 'comment' | 'string' | 'word' | 'punct';

/** One token: `code.slice(start, end)` is its text. */
export interface Token {
  readonly kind: TokenKind;
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** How one kind of quoted text is delimited. */
export interface QuoteRule {
  readonly open: string;
  readonly close: string;
  /** A doubled closing delimiter (`''`) stands for itself. */
  readonly doubling?: boolean;
  /** A backslash escapes the next character. */
  readonly backslash?: boolean;
  /** Only a one-character literal such as `'a'` or `'\n'` (Java/Scala chars); otherwise the quote is punctuation. */
  readonly charLiteral?: boolean;
}

/** The lexical rules of one language or dialect. */
export interface Syntax {
  readonly lineComments: readonly string[];
  /** `#` starts a comment only at the start of a word (shell). */
  readonly hashAtWordStart?: boolean;
  readonly blockComments?: boolean;
  readonly nestedBlockComments?: boolean;
  /** MySQL `/*! … *\/`: the text inside runs, so it is lexed as code and the delimiters as space. */
  readonly executableComments?: boolean;
  /** Ordered: longer delimiters (`'''`) before shorter ones. */
  readonly quotes: readonly QuoteRule[];
  /** PostgreSQL/DuckDB `$tag$ … $tag$`. */
  readonly dollarQuotes?: boolean;
  /** PostgreSQL `E'…'` strings use backslash escapes even where plain strings do not. */
  readonly escapeStringPrefix?: boolean;
}

/** Options of {@link sqlSyntax}. */
export interface SqlSyntaxOptions {
  /** Backslash escapes in quotes (Hive, Spark, MySQL); default false (standard SQL, DuckDB, PostgreSQL). */
  readonly backslashEscapes?: boolean;
  /** `/* /* *\/ *\/` nests (PostgreSQL, DuckDB); default false. */
  readonly nestedComments?: boolean;
  /** `#` starts a line comment (MySQL); default false. */
  readonly hashComments?: boolean;
  /** Lex MySQL `/*! … *\/` as code; default false. */
  readonly executableComments?: boolean;
}

/** The rules of a SQL dialect. */
export function sqlSyntax(options: SqlSyntaxOptions = {}): Syntax {
  const backslash = options.backslashEscapes === true;
  return {
    lineComments: options.hashComments ? ['--', '#'] : ['--'],
    blockComments: true,
    nestedBlockComments: options.nestedComments === true,
    executableComments: options.executableComments === true,
    quotes: [
      { open: "'", close: "'", doubling: true, backslash },
      { open: '"', close: '"', doubling: true, backslash },
      { open: '`', close: '`', doubling: true },
    ],
    dollarQuotes: true,
    escapeStringPrefix: true,
  };
}

/** Python: `#` comments, '…' "…" '''…''' """…""" with backslash escapes. */
export const PYTHON_SYNTAX: Syntax = {
  lineComments: ['#'],
  quotes: [
    { open: "'''", close: "'''", backslash: true },
    { open: '"""', close: '"""', backslash: true },
    { open: "'", close: "'", backslash: true },
    { open: '"', close: '"', backslash: true },
  ],
};

/** POSIX shell: `#` at a word start, '…' without escapes, "…" and `…` with backslash escapes. */
export const SHELL_SYNTAX: Syntax = {
  lineComments: ['#'],
  hashAtWordStart: true,
  quotes: [
    { open: "'", close: "'" },
    { open: '"', close: '"', backslash: true },
    { open: '`', close: '`', backslash: true },
  ],
};

/** Scala: `//`, nesting `/* *\/`, raw """…""", "…", 'c'. */
export const SCALA_SYNTAX: Syntax = {
  lineComments: ['//'],
  blockComments: true,
  nestedBlockComments: true,
  quotes: [
    { open: '"""', close: '"""' },
    { open: '"', close: '"', backslash: true },
    { open: "'", close: "'", backslash: true, charLiteral: true },
  ],
};

/** Java: `//`, `/* *\/`, text blocks, "…", 'c'. */
export const JAVA_SYNTAX: Syntax = {
  lineComments: ['//'],
  blockComments: true,
  quotes: [
    { open: '"""', close: '"""', backslash: true },
    { open: '"', close: '"', backslash: true },
    { open: "'", close: "'", backslash: true, charLiteral: true },
  ],
};

/** JSON: strings only. */
export const JSON_SYNTAX: Syntax = { lineComments: [], quotes: [{ open: '"', close: '"', backslash: true }] };

/** The default syntax of a language (standard SQL for sql). */
export function syntaxOf(language: Language): Syntax {
  switch (language) {
    case 'sql':
      return sqlSyntax();
    case 'python':
      return PYTHON_SYNTAX;
    case 'shell':
      return SHELL_SYNTAX;
    case 'scala':
      return SCALA_SYNTAX;
    case 'java':
      return JAVA_SYNTAX;
    default:
      return JSON_SYNTAX;
  }
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff || c === 0x2028 || c === 0x2029;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || (c >= 0x80 && !isSpace(c));
}

const SHELL_WORD_BREAK = new Set([';', '&', '|', '(', ')', '<', '>']);
const CHAR_LITERAL = /'(?:\\u[0-9a-fA-F]{4}|\\.|[^\\'\n])'/y;
const DOLLAR_TAG = /\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/y;

/** Splits `code` into tokens; every character belongs to exactly one token. Unterminated strings and comments run to the end. */
export function tokenize(code: string, syntax: Syntax): Token[] {
  const tokens: Token[] = [];
  const n = code.length;
  let executableDepth = 0;
  let i = 0;
  const push = (kind: TokenKind, end: number) => {
    tokens.push({ kind, start: i, end, text: code.slice(i, end) });
    i = end;
  };
  outer: while (i < n) {
    const c = code.charCodeAt(i);
    // A word character other than $ never starts a comment, a string or a dollar quote.
    if (c !== 36 && isWordChar(c)) {
      let j = i + 1;
      while (j < n && isWordChar(code.charCodeAt(j))) j++;
      push('word', j);
      continue;
    }
    if (isSpace(c)) {
      let j = i + 1;
      while (j < n && isSpace(code.charCodeAt(j))) j++;
      push('space', j);
      continue;
    }
    if (syntax.blockComments && code.startsWith('/*', i)) {
      if (syntax.executableComments && code[i + 2] === '!') {
        executableDepth++;
        push('space', i + 3);
        continue;
      }
      push('comment', blockCommentEnd(code, i, syntax.nestedBlockComments === true));
      continue;
    }
    if (executableDepth > 0 && code.startsWith('*/', i)) {
      executableDepth--;
      push('space', i + 2);
      continue;
    }
    for (const prefix of syntax.lineComments) {
      if (!code.startsWith(prefix, i)) continue;
      if (prefix === '#' && syntax.hashAtWordStart && i > 0) {
        const prev = code[i - 1]!;
        if (!isSpace(prev.charCodeAt(0)) && !SHELL_WORD_BREAK.has(prev)) continue;
      }
      const eol = code.indexOf('\n', i);
      push('comment', eol < 0 ? n : eol);
      continue outer;
    }
    for (const rule of syntax.quotes) {
      if (!code.startsWith(rule.open, i)) continue;
      if (rule.charLiteral) {
        CHAR_LITERAL.lastIndex = i;
        if (!CHAR_LITERAL.test(code)) continue;
        push('string', CHAR_LITERAL.lastIndex);
        continue outer;
      }
      const eString =
        syntax.escapeStringPrefix === true &&
        rule.open === "'" &&
        i > 0 &&
        (code[i - 1] === 'E' || code[i - 1] === 'e') &&
        (i < 2 || !isWordChar(code.charCodeAt(i - 2)));
      push('string', quoteEnd(code, i, rule, rule.backslash === true || eString));
      continue outer;
    }
    if (syntax.dollarQuotes && c === 36 && (i === 0 || !isWordChar(code.charCodeAt(i - 1)))) {
      DOLLAR_TAG.lastIndex = i;
      const m = DOLLAR_TAG.exec(code);
      if (m) {
        const close = code.indexOf(m[0], i + m[0].length);
        push('string', close < 0 ? n : close + m[0].length);
        continue;
      }
    }
    if (isWordChar(c)) {
      let j = i + 1;
      while (j < n && isWordChar(code.charCodeAt(j))) j++;
      push('word', j);
      continue;
    }
    push('punct', i + 1);
  }
  return tokens;
}

function blockCommentEnd(code: string, start: number, nested: boolean): number {
  let depth = 0;
  let j = start;
  while (j < code.length) {
    if (code.startsWith('/*', j) && (nested || depth === 0)) {
      depth++;
      j += 2;
    } else if (code.startsWith('*/', j)) {
      depth--;
      j += 2;
      if (depth === 0) return j;
    } else {
      j++;
    }
  }
  return code.length;
}

function quoteEnd(code: string, start: number, rule: QuoteRule, backslash: boolean): number {
  let j = start + rule.open.length;
  while (j < code.length) {
    if (backslash && code[j] === '\\') {
      j += 2;
      continue;
    }
    if (code.startsWith(rule.close, j)) {
      if (rule.doubling && code.startsWith(rule.close, j + rule.close.length)) {
        j += 2 * rule.close.length;
        continue;
      }
      return j + rule.close.length;
    }
    j++;
  }
  return code.length;
}

/** Start/end offsets of every comment of `code`, in order. */
export function commentRanges(code: string, syntax: Syntax): Array<readonly [number, number]> {
  return tokenize(code, syntax)
    .filter((t) => t.kind === 'comment')
    .map((t) => [t.start, t.end] as const);
}
