/**
 * Small helpers over dt-sql-parser's ANTLR parse trees (antlr4ng), shared by the grammar adapters.
 * Nodes are recognised by their context class name without the `Context` suffix (`QuerySpecification`),
 * which is how every dt-sql-parser grammar names its rules and labelled alternatives.
 */
import { DIALECT_RULES, type Dialect } from './dialect.ts';
import type { ColumnRef, ExprInfo } from './sql-ast.ts';

/** The shape of an antlr4ng parse-tree node the adapters read. */
export interface PNode {
  children?: PNode[] | null;
  symbol?: { text?: string | null; type: number; start: number; stop: number };
  start?: { start: number } | null;
  stop?: { stop: number } | null;
  parent?: PNode | null;
  getText(): string;
}

/** Raised when an adapter meets a construct it does not translate; the caller falls back. */
export class UnsupportedSyntax extends Error {
  constructor(what: string) {
    super(`dt-sql-parser adapter: unsupported ${what}`);
    this.name = 'UnsupportedSyntax';
  }
}

const nameCache = new WeakMap<object, string>();

/** The rule or alternative name of a node (`QuerySpecification`), or `''` for a token. */
export function kind(n: PNode | undefined | null): string {
  if (!n || n.symbol) return '';
  const ctor = (n as object).constructor;
  let name = nameCache.get(ctor);
  if (name === undefined) {
    name = ctor.name.endsWith('Context') ? ctor.name.slice(0, -7) : ctor.name;
    nameCache.set(ctor, name);
  }
  return name;
}

export function isToken(n: PNode | undefined | null): boolean {
  return !!n?.symbol;
}

/** The upper-cased text of a token node, `''` for rules. */
export function tok(n: PNode | undefined | null): string {
  return n?.symbol ? (n.symbol.text ?? '').toUpperCase() : '';
}

export function kids(n: PNode | undefined | null): PNode[] {
  return n?.children ?? [];
}

/** Direct children of any of the given kinds. */
export function childrenOf(n: PNode | undefined | null, ...kinds: string[]): PNode[] {
  return kids(n).filter((c) => kinds.includes(kind(c)));
}

/** The first direct child of any of the given kinds. */
export function child(n: PNode | undefined | null, ...kinds: string[]): PNode | undefined {
  return kids(n).find((c) => kinds.includes(kind(c)));
}

/** Whether a direct child is the token `word` (upper case). */
export function hasToken(n: PNode | undefined | null, word: string): boolean {
  return kids(n).some((c) => tok(c) === word);
}

/** Index of the first direct child token `word`, or -1. */
export function tokenIndex(n: PNode | undefined | null, word: string, from = 0): number {
  const k = kids(n);
  for (let i = from; i < k.length; i++) if (tok(k[i]) === word) return i;
  return -1;
}

/** Descends through single-child chains until a node of one of the kinds is found (or none). */
export function down(n: PNode | undefined | null, ...kinds: string[]): PNode | undefined {
  let c: PNode | undefined | null = n;
  while (c) {
    if (kinds.includes(kind(c))) return c;
    const k = kids(c);
    if (k.length !== 1) return undefined;
    c = k[0];
  }
  return undefined;
}

/**
 * Descendants of the given kinds, outermost first, not looking inside a match nor inside nodes of
 * the `stop` kinds.
 */
export function find(n: PNode | undefined | null, kinds: readonly string[], stop: readonly string[] = []): PNode[] {
  const out: PNode[] = [];
  const walk = (c: PNode) => {
    for (const x of kids(c)) {
      const k = kind(x);
      if (kinds.includes(k)) out.push(x);
      else if (!stop.includes(k)) walk(x);
    }
  };
  if (n) walk(n);
  return out;
}

/** The first descendant (or the node itself) of one of the kinds, depth first. */
export function first(n: PNode | undefined | null, ...kinds: string[]): PNode | undefined {
  if (!n) return undefined;
  if (kinds.includes(kind(n))) return n;
  for (const c of kids(n)) {
    const f = first(c, ...kinds);
    if (f) return f;
  }
  return undefined;
}

/** All tokens under a node, in order. */
export function tokens(n: PNode | undefined | null): PNode[] {
  const out: PNode[] = [];
  const walk = (c: PNode) => {
    if (c.symbol) {
      if (c.symbol.type !== -1) out.push(c);
      return;
    }
    for (const x of kids(c)) walk(x);
  };
  if (n) walk(n);
  return out;
}

/** Folds and unquotes identifiers per dialect. */
export class Names {
  private readonly rules;
  constructor(readonly dialect: Dialect) {
    this.rules = DIALECT_RULES[dialect];
  }

  /** One identifier as written (quoted or not), folded as the engine folds it. */
  ident(text: string): string {
    const q = text.charAt(0);
    const close = this.rules.identQuotes[q];
    if (close !== undefined && text.length >= 2 && text.endsWith(close) && !(q === '"' && this.rules.doubleQuoteIsString)) {
      const inner = text
        .slice(1, -1)
        .split(close + close)
        .join(close);
      return this.rules.foldQuoted === 'lower' ? inner.toLowerCase() : inner;
    }
    if (q === '"' || q === '`') {
      // A quote style the dialect does not use for identifiers but the grammar accepted as one.
      const inner = text.slice(1, -1);
      return this.rules.foldQuoted === 'lower' ? inner.toLowerCase() : inner;
    }
    return this.rules.foldUnquoted === 'lower' ? text.toLowerCase() : text;
  }

  /** The parts of a dotted name: every token under the node but the dots. */
  parts(n: PNode | undefined | null): string[] {
    return (
      tokens(n)
        .map((t) => t.symbol?.text ?? '')
        // MySQL lexes `.name` as one token.
        .map((t) => (t.length > 1 && t.startsWith('.') ? t.slice(1) : t))
        .filter((t) => t !== '.' && t !== '')
        .map((t) => this.ident(t))
    );
  }

  /** A column reference from a dotted name. */
  columnRef(n: PNode): ColumnRef {
    const p = this.parts(n);
    return { qualifier: p.slice(0, -1), name: p[p.length - 1] ?? '' };
  }
}

/** The source text of a node. */
export function sourceText(source: string, n: PNode | undefined | null): string {
  if (!n) return '';
  if (n.symbol) return source.slice(n.symbol.start, n.symbol.stop + 1);
  const a = n.start?.start;
  const b = n.stop?.stop;
  if (a === undefined || b === undefined || b < a) return '';
  return source.slice(a, b + 1);
}

export function emptyInfo(): ExprInfo {
  return { refs: [], condRefs: [], windowRefs: [], subqueries: [], aggregate: false, masking: false, text: '' };
}

/** Merges what `from` reads into `into`; `as` says where plain references go. */
export function mergeInfo(into: ExprInfo, from: ExprInfo, as: 'value' | 'cond' | 'window' = 'value'): void {
  if (as === 'value') into.refs.push(...from.refs);
  else if (as === 'cond') into.condRefs.push(...from.refs);
  else into.windowRefs.push(...from.refs);
  if (as === 'window') into.windowRefs.push(...from.condRefs, ...from.windowRefs);
  else {
    into.condRefs.push(...from.condRefs);
    into.windowRefs.push(...from.windowRefs);
  }
  into.subqueries.push(...from.subqueries);
  if (as === 'value') {
    into.aggregate ||= from.aggregate;
    into.masking ||= from.masking;
  }
}

export const AGGREGATES = new Set(
  (
    'COUNT SUM AVG MIN MAX STDDEV STDDEV_POP STDDEV_SAMP VARIANCE VAR_POP VAR_SAMP ARRAY_AGG STRING_AGG LISTAGG GROUP_CONCAT ' +
    'COLLECT_LIST COLLECT_SET APPROX_DISTINCT APPROX_COUNT_DISTINCT APPROX_PERCENTILE PERCENTILE PERCENTILE_CONT PERCENTILE_DISC ' +
    'BOOL_AND BOOL_OR EVERY ANY_VALUE ARBITRARY FIRST_VALUE LAST_VALUE MEDIAN MODE COUNT_IF COUNTIF MAX_BY MIN_BY ARG_MAX ARG_MIN ' +
    'BIT_AND BIT_OR JSON_AGG JSONB_AGG JSON_ARRAYAGG JSON_OBJECTAGG HISTOGRAM LIST FIRST LAST CORR COVAR_POP COVAR_SAMP'
  ).split(' '),
);

export const MASKING = new Set('MD5 SHA SHA1 SHA2 SHA256 SHA512 HASH XXHASH64 MURMUR3 CRC32 FARM_FINGERPRINT MASK MASK_HASH HMAC_SHA256 TO_HEX'.split(' '));
