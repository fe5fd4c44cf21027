/**
 * The common part of the adapters from dt-sql-parser parse trees to the parser-neutral lineage tree
 * (`sql-ast.ts`): the expression walker, which every grammar configures with the names of its rules.
 * Each grammar's adapter (Trino, Spark/Hive, Flink, PostgreSQL, MySQL) adds the statement, query and
 * relation structure, which differ too much between the grammars to share.
 */
import type { Dialect } from './dialect.ts';
import { AGGREGATES, emptyInfo, find, kids, MASKING, mergeInfo, Names, kind as nodeKind, type PNode, sourceText, tok, UnsupportedSyntax } from './dt-tree.ts';
import type { ColumnRef, ExprInfo, Query, Statement } from './sql-ast.ts';

/** How a grammar names the expression rules the walker must recognise. */
export interface ExprRules {
  /** Nodes whose whole subtree is a (dotted) column reference. */
  columnRef: readonly string[];
  /** Function calls; `funcName` gives their upper-cased name. */
  func: readonly string[];
  /** Window clauses (`OVER (…)`), read as window keys. */
  over: readonly string[];
  /** CASE expressions. */
  cases: readonly string[];
  /** Aggregate `FILTER (WHERE …)` clauses, read as conditions. */
  filter: readonly string[];
  /** Subqueries: the node is handed to the adapter's `subquery`. */
  query: readonly string[];
  /** Lambdas (`x -> …`), whose parameters are not columns. */
  lambda: readonly string[];
  /** Nodes that read no column: types, literals, interval units, named-argument names. */
  ignore: readonly string[];
}

/** One grammar's adapter: the parse tree of one statement in, a lineage statement out. */
export abstract class DtAdapter {
  protected readonly names: Names;
  private readonly lambdaParams: Set<string>[] = [];

  constructor(
    protected readonly dialect: Dialect,
    protected readonly source: string,
    protected readonly rules: ExprRules,
  ) {
    this.names = new Names(dialect);
  }

  /** Translates one statement node (the grammar's single-statement rule). */
  abstract statement(n: PNode): Statement;

  /** Post-processes the statements one text parsed into (grammar quirks); identity by default. */
  combine(stmts: Statement[]): Statement[] {
    return stmts;
  }

  /** Translates a subquery node found inside an expression. */
  protected abstract subquery(n: PNode): Query;

  /** The upper-cased name of a function-call node. */
  protected abstract funcName(n: PNode): string;

  /** The parameter names of a lambda node. */
  protected lambdaParamsOf(n: PNode): string[] {
    const k = kids(n);
    const arrow = k.findIndex((c) => tok(c) === '->');
    return (arrow < 0 ? [] : k.slice(0, arrow)).flatMap((c) => this.names.parts(c)).filter((p) => p !== '(' && p !== ')' && p !== ',');
  }

  protected text(n: PNode | undefined | null): string {
    return sourceText(this.source, n);
  }

  protected unsupported(what: string): never {
    throw new UnsupportedSyntax(what);
  }

  /** What an expression reads. */
  protected expr(n: PNode | undefined | null): ExprInfo {
    const info = emptyInfo();
    if (!n) return info;
    this.walk(n, info, 'value');
    info.text = this.text(n);
    if (info.refs.length === 1 && info.subqueries.length === 0 && info.condRefs.length === 0 && this.isBareRef(n)) info.bare = info.refs[0];
    return info;
  }

  /** Several expression nodes read together (a GROUP BY list, the arguments of a call). */
  protected exprs(nodes: readonly PNode[]): ExprInfo {
    const info = emptyInfo();
    for (const n of nodes) mergeInfo(info, this.expr(n));
    info.text = nodes.map((n) => this.text(n)).join(', ');
    return info;
  }

  /** Whether the node is, through single-child chains (and parentheses), one column reference. */
  protected isBareRef(n: PNode): boolean {
    let c: PNode | undefined = n;
    while (c) {
      if (this.rules.columnRef.includes(nodeKind(c))) return true;
      const k = kids(c);
      if (k.length === 1) c = k[0];
      else if (k.length === 3 && tok(k[0]) === '(' && tok(k[2]) === ')') c = k[1];
      else return false;
    }
    return false;
  }

  private addRef(info: ExprInfo, ref: ColumnRef, as: 'value' | 'cond' | 'window'): void {
    if (!ref.name) return;
    const head = ref.qualifier[0] ?? ref.name;
    if (this.lambdaParams.some((s) => s.has(head))) return;
    if (as === 'value') info.refs.push(ref);
    else if (as === 'cond') info.condRefs.push(ref);
    else info.windowRefs.push(ref);
  }

  /**
   * For grammars whose expression alternatives are not labelled (Spark's `primaryExpression`): what a
   * node is, from its children. Undefined: go by the rule names in `rules`.
   */
  protected classify(_n: PNode): 'func' | 'case' | 'lambda' | undefined {
    return undefined;
  }

  /** Reads one node of an expression into `info`. */
  protected walk(n: PNode, info: ExprInfo, as: 'value' | 'cond' | 'window'): void {
    if (n.symbol) return;
    const k = nodeKind(n);
    const r = this.rules;
    const cls = this.classify(n);
    if (r.ignore.includes(k)) return;
    if (r.columnRef.includes(k)) {
      this.addRef(info, this.names.columnRef(n), as);
      return;
    }
    if (r.query.includes(k)) {
      info.subqueries.push(this.subquery(n));
      return;
    }
    if (cls === 'lambda' || r.lambda.includes(k)) {
      this.lambdaParams.push(new Set(this.lambdaParamsOf(n)));
      try {
        const k2 = kids(n);
        const arrow = k2.findIndex((c) => tok(c) === '->');
        for (const c of k2.slice(arrow + 1)) this.walk(c, info, as);
      } finally {
        this.lambdaParams.pop();
      }
      return;
    }
    if (cls === 'func' || r.func.includes(k)) {
      const name = this.funcName(n);
      const inner = emptyInfo();
      for (const c of kids(n)) {
        const ck = nodeKind(c);
        if (r.over.includes(ck)) this.walkInto(c, inner, 'window');
        else if (r.filter.includes(ck)) this.walkInto(c, inner, 'cond');
        else this.walk(c, inner, 'value');
      }
      if (AGGREGATES.has(name)) inner.aggregate = true;
      if (MASKING.has(name)) inner.masking = true;
      mergeInfo(info, inner, as);
      return;
    }
    if (r.over.includes(k)) {
      this.walkInto(n, info, 'window');
      return;
    }
    if (cls === 'case' || r.cases.includes(k)) {
      this.walkCase(n, info, as, { mode: 'cond' });
      return;
    }
    for (const c of kids(n)) this.walk(c, info, as);
  }

  private walkInto(n: PNode, info: ExprInfo, as: 'cond' | 'window'): void {
    const inner = emptyInfo();
    for (const c of kids(n)) this.walk(c, inner, 'value');
    mergeInfo(info, inner, as);
  }

  /** CASE: the operand and WHEN conditions decide (indirect); THEN and ELSE results flow. */
  private walkCase(n: PNode, info: ExprInfo, as: 'value' | 'cond' | 'window', state: { mode: 'cond' | 'value' }): void {
    for (const c of kids(n)) {
      const t = tok(c);
      if (t === 'CASE' || t === 'WHEN') {
        state.mode = 'cond';
        continue;
      }
      if (t === 'THEN' || t === 'ELSE') {
        state.mode = 'value';
        continue;
      }
      if (t) continue;
      if (kids(c).some((x) => tok(x) === 'WHEN')) {
        this.walkCase(c, info, as, state);
        continue;
      }
      if (state.mode === 'cond') {
        const inner = emptyInfo();
        this.walk(c, inner, 'value');
        mergeInfo(info, inner, as === 'window' ? 'window' : 'cond');
      } else this.walk(c, info, as);
    }
  }

  /** Identifiers of a parenthesised list node (`(a, b, c)`), or of the given nodes. */
  protected identList(n: PNode | undefined | null): string[] {
    if (!n) return [];
    return find(n, this.identKinds())
      .map((x) => this.names.parts(x))
      .map((p) => p[p.length - 1] ?? '')
      .filter((x) => x !== '');
  }

  /** The kinds of identifier rule of the grammar (for `identList`). */
  protected abstract identKinds(): readonly string[];
}
