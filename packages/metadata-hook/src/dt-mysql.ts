/** Adapter from dt-sql-parser's MySQL grammar to the lineage tree. */
import { DtAdapter, type ExprRules } from './dt-adapter.ts';
import { child, childrenOf, find, first, hasToken, kids, kind, type PNode, tok, tokenIndex } from './dt-tree.ts';
import type { ColumnDef, Cte, ExprInfo, FromItem, Query, QueryBody, Select, SelectItem, Statement } from './sql-ast.ts';

const RULES: ExprRules = {
  columnRef: ['ColumnName', 'ColumnNamePath_default', 'ColumnNamePath', 'FullColumnName'],
  func: [
    'AggregateWindowedFunction',
    'NonAggregateWindowedFunction',
    'UdfFunctionCall',
    'ScalarFunctionCall',
    'SimpleFunctionCall',
    'SubstrFunctionCall',
    'TrimFunctionCall',
    'PositionFunctionCall',
    'ExtractFunctionCall',
    'DataTypeFunctionCall',
    'CharFunctionCall',
  ],
  over: ['OverClause'],
  cases: ['CaseFunctionCall', 'CaseExpressionFunctionCall', 'CaseFuncAlternative'],
  filter: [],
  query: ['SubqueryExpressionAtom', 'UnionAndLateralSelect', 'QuerySpecification', 'QueryExpression', 'SelectExpression', 'SetOperations'],
  lambda: [],
  ignore: ['Constant', 'DataType', 'ConvertedDataType', 'IntervalType', 'StringLiteral', 'DecimalLiteral', 'FunctionName'],
};

const IDENTS = ['Uid', 'SimpleId', 'DottedId'];
const JOIN_WORDS = new Set(['LEFT', 'RIGHT', 'FULL', 'NATURAL', 'INNER', 'CROSS', 'OUTER']);
const QUERY_PARTS = [
  'UnionAndLateralSelect',
  'SelectExpression',
  'QueryExpressionBody',
  'QueryItem',
  'QueryPrimary',
  'QueryBlock',
  'SetOperations',
  'SelectStatement',
  'SelectOrTableOrValues',
  'ReplaceStatementValuesOrSelectOrTable',
  'DmlStatement',
  'QuerySpecification',
  'QueryExpression',
  'ValuesStatement',
  'SimpleSelect',
  'ParenthesisSelect',
  'UnionSelect',
  'UnionParenthesisSelect',
  'WithLateralStatement',
];

export class MySqlAdapter extends DtAdapter {
  constructor(source: string) {
    super('mysql', source, RULES);
  }

  protected identKinds(): readonly string[] {
    return IDENTS;
  }

  protected funcName(n: PNode): string {
    const name = child(n, 'FunctionName', 'FullId', 'ScalarFunctionName');
    if (name) return (this.names.parts(name).pop() ?? '').toUpperCase();
    return tok(kids(n)[0]);
  }

  /**
   * The grammar reads a backquoted name in a function argument (`DATE(\`created_at\`)`) as a string
   * constant; in MySQL a backquoted token is always an identifier, so it is a column here.
   */
  protected override walk(n: PNode, info: ExprInfo, as: 'value' | 'cond' | 'window'): void {
    if ((kind(n) === 'Constant' || kind(n) === 'StringLiteral') && this.text(n).startsWith('`')) {
      const ref = this.names.columnRef(n);
      if (as === 'value') info.refs.push(ref);
      else if (as === 'cond') info.condRefs.push(ref);
      else info.windowRefs.push(ref);
      return;
    }
    super.walk(n, info, as);
  }

  protected override isBareRef(n: PNode): boolean {
    let c: PNode | undefined = n;
    while (c && kids(c).length === 1) c = kids(c)[0];
    if (c && (kind(c) === 'Constant' || kind(c) === 'StringLiteral') && this.text(c).startsWith('`')) return true;
    return super.isBareRef(n);
  }

  protected subquery(n: PNode): Query {
    if (kind(n) === 'SubqueryExpressionAtom') {
      const inner = kids(n).find((c) => !c.symbol);
      if (!inner) this.unsupported('subquery');
      return this.query(inner);
    }
    return this.query(n);
  }

  statement(s: PNode): Statement {
    let n: PNode | undefined = child(s, 'SqlStatement') ?? s;
    n = kids(n)[0];
    while (['DmlStatement', 'DdlStatement', 'UtilityStatement', 'AdministrationStatement', 'UpdateStatement'].includes(kind(n))) n = kids(n)[0];
    if (!n || n.symbol) return { kind: 'other', keyword: tok(n) };
    switch (kind(n)) {
      case 'InsertStatement':
      case 'ReplaceStatement': {
        const cols = child(n, 'FullColumnNames', 'UidList');
        const values = child(n, 'ValuesOrValueList');
        let query: Query;
        if (values) {
          const rows = childrenOf(values, 'ExpressionsWithDefaults').map((r) =>
            find(r, ['ExpressionOrDefault', 'Expression'], ['ExpressionOrDefault', 'Expression']).map((x) => this.expr(x)),
          );
          query = { ctes: [], body: { kind: 'values', rows }, orderBy: [] };
        } else {
          const body = child(n, 'SelectOrTableOrValues', 'ReplaceStatementValuesOrSelectOrTable', 'InsertStatementValue');
          if (!body) this.unsupported('INSERT without a query');
          query = this.query(body);
        }
        return { kind: 'insert', target: this.names.parts(child(n, 'TableName')), columns: cols ? this.identList(cols) : undefined, query, overwrite: false };
      }
      case 'QueryCreateTable': {
        const q = kids(n).find((c) => QUERY_PARTS.includes(kind(c)));
        if (!q) this.unsupported('CREATE TABLE … AS without a query');
        const columns = find(child(n, 'CreateDefinitions'), ['ColumnDeclaration', 'CreateDefinition'], ['ColumnDeclaration', 'CreateDefinition'])
          .filter((c) => !!child(c, 'ColumnDefinition') || kind(c) === 'ColumnDeclaration')
          .map((c) => this.columnDef(c));
        return {
          kind: 'createTable',
          target: this.names.parts(child(n, 'TableNameCreate')),
          columns,
          query: this.query(q),
          options: {},
          temporary: hasToken(n, 'TEMPORARY'),
        };
      }
      case 'ColumnCreateTable': {
        const columns = find(child(n, 'CreateDefinitions'), ['ColumnDeclaration', 'CreateDefinition'], ['ColumnDeclaration', 'CreateDefinition'])
          .filter((c) => !!child(c, 'ColumnDefinition') || kind(c) === 'ColumnDeclaration')
          .map((c) => this.columnDef(c));
        return { kind: 'createTable', target: this.names.parts(child(n, 'TableNameCreate')), columns, options: {}, temporary: hasToken(n, 'TEMPORARY') };
      }
      case 'CopyCreateTable':
        return {
          kind: 'createTable',
          target: this.names.parts(child(n, 'TableNameCreate')),
          columns: [],
          like: this.names.parts(child(n, 'TableName')),
          options: {},
          temporary: hasToken(n, 'TEMPORARY'),
        };
      case 'CreateView': {
        const q = kids(n).find((c) => QUERY_PARTS.includes(kind(c)));
        if (!q) this.unsupported('CREATE VIEW without a query');
        const cols = child(n, 'FullColumnNames', 'UidList');
        return {
          kind: 'createView',
          target: this.names.parts(child(n, 'ViewNameCreate', 'FullId')),
          columns: cols ? this.identList(cols) : undefined,
          query: this.query(q),
          temporary: false,
          materialized: false,
        };
      }
      case 'SingleUpdateStatement': {
        const k = kids(n);
        const tn = child(n, 'TableName');
        const tAt = k.indexOf(tn as PNode);
        const aliasNode = k.slice(tAt + 1, tokenIndex(n, 'SET')).find((c) => kind(c) === 'Uid');
        return {
          kind: 'update',
          target: this.names.parts(tn),
          alias: aliasNode ? this.names.parts(aliasNode).pop() : undefined,
          sets: childrenOf(n, 'UpdatedElement').map((u) => this.assignment(u)),
          from: [],
          where: this.afterToken(n, 'WHERE'),
        };
      }
      case 'MultipleUpdateStatement': {
        const sources = this.tableSources(child(n, 'TableSources') as PNode);
        const first0 = sources[0];
        const head = first0 ? this.leftmostTable(first0) : undefined;
        if (!head) this.unsupported('multi-table UPDATE');
        return {
          kind: 'update',
          target: head.name,
          alias: head.alias,
          sets: childrenOf(n, 'UpdatedElement').map((u) => this.assignment(u)),
          from: sources,
          where: this.afterToken(n, 'WHERE'),
        };
      }
      case 'DeleteStatement': {
        const d = child(n, 'SingleDeleteStatement');
        if (!d) this.unsupported('multi-table DELETE');
        return { kind: 'delete', target: this.names.parts(child(d, 'TableName')), using: [], where: this.afterToken(d, 'WHERE') };
      }
      case 'UseStatement':
        return { kind: 'use', parts: this.names.parts(child(n, 'DatabaseName', 'Uid') ?? kids(n)[1]) };
      default:
        if (QUERY_PARTS.includes(kind(n))) return { kind: 'query', query: this.query(n) };
        return { kind: 'other', keyword: tok(kids(n)[0]) || kind(n) };
    }
  }

  private columnDef(c: PNode): ColumnDef {
    const name = this.names.parts(kids(c)[0]).pop() ?? '';
    const def = child(c, 'ColumnDefinition');
    return { name, type: this.text(kids(def)[0] ?? first(c, 'DataType')) };
  }

  private assignment(u: PNode): { column: string; expr: ExprInfo } {
    const k = kids(u);
    return { column: this.names.parts(k[0]).pop() ?? '', expr: this.expr(k[2]) };
  }

  private afterToken(n: PNode, word: string): ExprInfo | undefined {
    const at = tokenIndex(n, word);
    return at >= 0 ? this.expr(kids(n)[at + 1]) : undefined;
  }

  private leftmostTable(f: FromItem): { name: string[]; alias?: string } | undefined {
    if (f.kind === 'table') return { name: f.name, alias: f.alias };
    if (f.kind === 'join') return this.leftmostTable(f.left);
    return undefined;
  }

  query(n: PNode): Query {
    const ctes = this.withClause(child(n, 'WithClause'));
    // The grammar puts a single select's ORDER BY inside its specification; it orders the query.
    let spec: PNode | undefined = n;
    while (spec && kind(spec) !== 'QuerySpecification' && kids(spec).filter((c) => !c.symbol).length === 1) spec = kids(spec).find((c) => !c.symbol);
    const order =
      child(n, 'OrderByClause') ??
      (kind(spec) === 'QuerySpecification' && childrenOf(spec, 'UnionStatement').length === 0 ? child(spec, 'OrderByClause') : undefined);
    const body = this.body(n);
    return { ctes, body, orderBy: order ? find(order, ['OrderByExpression']).map((o) => this.expr(kids(o)[0])) : [] };
  }

  private withClause(w: PNode | undefined): Cte[] {
    if (!w) return [];
    const recursive = hasToken(w, 'RECURSIVE');
    return find(w, ['CommonTableExpressions'], ['CommonTableExpressions']).map((c) => {
      const k = kids(c);
      const asAt = tokenIndex(c, 'AS');
      const cols = k.slice(1, asAt).filter((x) => kind(x) === 'Uid');
      const q = k.slice(asAt).find((x) => QUERY_PARTS.includes(kind(x)));
      if (!q) this.unsupported('CTE without a query');
      return {
        name: this.names.parts(k[0]).pop() ?? '',
        columns: cols.length ? cols.map((x) => this.names.parts(x).pop() ?? '') : undefined,
        query: this.query(q),
        recursive,
      };
    });
  }

  /** The body of a query node: its select blocks joined by set operators. */
  private body(n: PNode): QueryBody {
    const k = kind(n);
    if (k === 'QuerySpecification') {
      let body: QueryBody = this.select(n);
      for (const u of childrenOf(n, 'UnionStatement')) body = this.union(body, u);
      return body;
    }
    if (k === 'ValuesStatement') {
      return {
        kind: 'values',
        rows: find(n, ['ExpressionsWithDefaults', 'Expressions']).map((r) =>
          kids(r)
            .filter((x) => !x.symbol)
            .map((x) => this.expr(x)),
        ),
      };
    }
    if (k === 'QueryExpression' && tok(kids(n)[0]) === '(') {
      const inner = kids(n).find((c) => !c.symbol);
      if (!inner) this.unsupported('empty parentheses');
      return { kind: 'nested', query: this.query(inner) };
    }
    let body: QueryBody | undefined;
    let op = 'UNION';
    for (const c of kids(n)) {
      const ck = kind(c);
      const t = tok(c);
      if (t === 'UNION' || t === 'EXCEPT' || t === 'INTERSECT') {
        op = t;
        continue;
      }
      if (ck === 'UnionStatement' && body) {
        body = this.union(body, c);
        continue;
      }
      if (QUERY_PARTS.includes(ck)) {
        const b = this.body(c);
        body = body ? { kind: 'setop', op, left: body, right: b } : b;
      }
    }
    if (!body) this.unsupported(`query ${k}`);
    return body;
  }

  private union(left: QueryBody, u: PNode): QueryBody {
    const op = tok(kids(u)[0]) || 'UNION';
    const q = kids(u).find((c) => QUERY_PARTS.includes(kind(c)));
    if (!q) this.unsupported('set operation');
    return { kind: 'setop', op, left, right: this.body(q) };
  }

  private select(n: PNode): Select {
    const sel: Select = { kind: 'select', distinct: false, items: [], from: [], groupBy: [], sort: [] };
    sel.distinct = childrenOf(n, 'SelectSpec').some((s) => tok(kids(s)[0]) === 'DISTINCT');
    for (const e of kids(child(n, 'SelectElements'))) {
      if (tok(e) === '*') sel.items.push({ expr: this.expr(undefined), star: { qualifier: [], except: [] } });
      else if (!e.symbol) sel.items.push(this.selectElement(e));
    }
    const from = child(n, 'FromClause');
    if (from) {
      const ts = child(from, 'TableSources');
      if (ts) sel.from = this.tableSources(ts);
      const w = tokenIndex(from, 'WHERE');
      if (w >= 0) sel.where = this.expr(kids(from)[w + 1]);
    }
    const g = child(n, 'GroupByClause');
    if (g) sel.groupBy.push(this.exprs(childrenOf(g, 'GroupByItem').map((x) => kids(x)[0] as PNode)));
    const h = child(n, 'HavingClause');
    if (h) sel.having = this.expr(kids(h)[1]);
    return sel;
  }

  private selectElement(e: PNode): SelectItem {
    if (kind(e) === 'SelectElement_star') {
      const all = first(e, 'TableAllColumns');
      const qual = this.names.parts(all ?? e).filter((p) => p !== '*' && p !== '.*');
      return { expr: this.expr(undefined), star: { qualifier: qual, except: [] } };
    }
    const k = kids(e);
    const exprNode = k[0] as PNode;
    const inner = kids(exprNode);
    // The alias sits either next to the expression or inside its wrapper.
    const asAt = k.findIndex((c) => tok(c) === 'AS');
    let alias: string | undefined;
    const aliasNode = asAt >= 0 ? k[asAt + 1] : k.length > 1 ? k[k.length - 1] : undefined;
    if (aliasNode && !aliasNode.symbol) alias = this.names.parts(aliasNode).pop();
    let target = exprNode;
    const innerAs = inner.findIndex((c) => tok(c) === 'AS');
    if (innerAs >= 0) {
      alias = this.names.parts(inner[innerAs + 1]).pop();
      target = inner[0] as PNode;
    } else if (inner.length === 2 && !inner[1]?.symbol && kind(inner[1]) === 'Uid') {
      alias = this.names.parts(inner[1]).pop();
      target = inner[0] as PNode;
    }
    if (aliasNode && kind(aliasNode) === 'StringLiteral') alias = this.text(aliasNode).slice(1, -1);
    return { expr: this.expr(target), alias };
  }

  private tableSources(n: PNode): FromItem[] {
    return kids(n)
      .filter((c) => !c.symbol)
      .map((c) => this.tableSource(c));
  }

  private tableSource(n: PNode): FromItem {
    const k = kind(n);
    if (k === 'TableSourceNested') {
      const base = kids(n).filter((c) => !c.symbol);
      return this.joined(base);
    }
    if (k === 'TableSourceBase' || k === 'TableSource') return this.joined(kids(n).filter((c) => !c.symbol));
    return this.item(n);
  }

  private joined(parts: PNode[]): FromItem {
    let left = this.item(parts[0] as PNode);
    for (const j of parts.slice(1)) {
      const jk = kids(j);
      const rightNode = jk.find((c) => !c.symbol && kind(c) !== 'JoinSpec');
      if (!rightNode) this.unsupported('join');
      const right = this.item(rightNode);
      const spec = childrenOf(j, 'JoinSpec');
      const natural = kind(j) === 'NaturalJoin';
      const using = spec.find((s) => hasToken(s, 'USING'));
      const on = spec.find((s) => hasToken(s, 'ON'));
      if (using) left = { kind: 'join', left, right, natural, using: this.identList(using) };
      else if (on) left = { kind: 'join', left, right, natural, on: this.expr(kids(on)[1]) };
      else {
        const onAt = tokenIndex(j, 'ON');
        left = { kind: 'join', left, right, natural, on: onAt >= 0 ? this.expr(jk[onAt + 1]) : undefined };
      }
    }
    return left;
  }

  private item(n: PNode): FromItem {
    switch (kind(n)) {
      case 'AtomTableItem': {
        const k = kids(n);
        let aliasNode = k.filter((c) => kind(c) === 'Uid').pop();
        // The grammar takes the LEFT / RIGHT of `a LEFT JOIN b` as a's alias; it is the join's kind.
        if (aliasNode && JOIN_WORDS.has(this.text(aliasNode).toUpperCase())) aliasNode = undefined;
        return { kind: 'table', name: this.names.parts(child(n, 'TableName')), alias: aliasNode ? this.names.parts(aliasNode).pop() : undefined };
      }
      case 'SubqueryTableItem': {
        const src = child(n, 'AtomSubQueryTableSource') ?? n;
        const q = kids(src).find((c) => QUERY_PARTS.includes(kind(c)));
        if (!q) this.unsupported('derived table');
        const aliasNode = [...kids(src), ...kids(n)].filter((c) => kind(c) === 'Uid').pop();
        const cols = child(src, 'UidList') ?? child(n, 'UidList');
        return {
          kind: 'derived',
          query: this.query(q),
          alias: aliasNode ? this.names.parts(aliasNode).pop() : undefined,
          columnAliases: cols ? this.identList(cols) : undefined,
        };
      }
      case 'TableSourcesItem': {
        const ts = child(n, 'TableSources');
        const items = ts ? this.tableSources(ts) : [];
        if (items.length !== 1) this.unsupported('parenthesised table list');
        return items[0] as FromItem;
      }
      case 'TableSourceBase':
      case 'TableSourceNested':
      case 'TableSource':
        return this.tableSource(n);
      default:
        return this.unsupported(`table source ${kind(n)}`);
    }
  }
}
