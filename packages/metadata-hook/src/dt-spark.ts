/** Adapter from dt-sql-parser's Spark SQL grammar to the lineage tree. */
import { DtAdapter, type ExprRules } from './dt-adapter.ts';
import { child, childrenOf, find, first, hasToken, kids, kind, type PNode, tok, tokenIndex } from './dt-tree.ts';
import type { ColumnDef, Cte, ExprInfo, FromItem, InsertBranch, MergeAction, Query, QueryBody, Select, SelectItem, Statement } from './sql-ast.ts';

const RULES: ExprRules = {
  columnRef: ['ColumnNamePath', 'ColumnName', 'ColumnNamePathAllowEmpty'],
  func: [],
  over: ['WindowSpec'],
  cases: [],
  filter: [],
  query: ['QueryStatement', 'Query'],
  lambda: [],
  ignore: ['DataType', 'Constant', 'StringLit', 'Number', 'Interval', 'FunctionName', 'ErrorCapturingMultiUnitsInterval'],
};

const IDENTS = ['ErrorCapturingIdentifier', 'Identifier', 'StrictIdentifier', 'QuotedIdentifier'];

export class SparkAdapter extends DtAdapter {
  constructor(source: string) {
    super('spark', source, RULES);
  }

  protected identKinds(): readonly string[] {
    return IDENTS;
  }

  protected override classify(n: PNode): 'func' | 'case' | 'lambda' | undefined {
    if (kind(n) !== 'PrimaryExpression') return undefined;
    const k = kids(n);
    if (tok(k[0]) === 'CASE') return 'case';
    if (k.some((c) => tok(c) === '->')) return 'lambda';
    if (kind(k[0]) === 'FunctionName' || (k[0]?.symbol && tok(k[1]) === '(' && !['EXISTS', 'CAST', 'TRY_CAST'].includes(tok(k[0])))) return 'func';
    return undefined;
  }

  protected funcName(n: PNode): string {
    const name = child(n, 'FunctionName');
    if (name) return (this.names.parts(name).pop() ?? '').toUpperCase();
    return tok(kids(n)[0]);
  }

  protected subquery(n: PNode): Query {
    return this.query(n);
  }

  statement(s: PNode): Statement {
    let n = kids(s)[0];
    if (kind(n) === 'DmlStatement') {
      // `WITH … INSERT …`: the CTEs precede the statement they scope.
      const ctes = this.ctes(child(n, 'Ctes'));
      const inner = kids(n).find((c) => !c.symbol && kind(c) !== 'Ctes');
      if (ctes.length && inner) {
        const st = this.statement({ children: [inner], getText: () => '' } as PNode);
        if (st.kind === 'insert') return { ...st, query: { ...st.query, ctes: [...ctes, ...st.query.ctes] } };
        if (st.kind === 'multiInsert') return { ...st, ctes: [...ctes, ...st.ctes] };
        this.unsupported('WITH before a statement other than INSERT');
      }
      n = kids(n)[0];
    }
    if (kind(n) === 'DmlStatementNoWith') n = kids(n)[0];
    if (!n || n.symbol) return { kind: 'other', keyword: tok(n) };
    switch (kind(n)) {
      case 'StatementDefault':
        return { kind: 'query', query: this.query(child(n, 'QueryStatement') as PNode) };
      case 'InsertFromQuery': {
        const ins = child(n, 'InsertInto') as PNode;
        const q = child(n, 'QueryStatement');
        if (!q) this.unsupported('INSERT without a query');
        const t = this.insertTarget(ins);
        const query = this.query(q);
        const ctes = this.ctes(child(n, 'Ctes'));
        query.ctes = [...ctes, ...query.ctes];
        return { kind: 'insert', target: t.target, columns: t.columns, query, overwrite: t.overwrite, directory: t.directory };
      }
      case 'MultipleInsert':
        return this.multiInsert(n);
      case 'CreateTable': {
        const q = child(n, 'QueryStatement');
        const cols = child(n, 'CreateOrReplaceTableColTypeList', 'ColTypeList');
        const columns: ColumnDef[] = cols ? find(cols, ['CreateOrReplaceTableColType', 'ColType', 'ColDefinition']).map((c) => this.columnDef(c)) : [];
        const options: Record<string, string> = {};
        const provider = child(n, 'TableProvider');
        if (provider) options.provider = (this.names.parts(kids(provider)[1]).pop() ?? '').toLowerCase();
        return {
          kind: 'createTable',
          target: this.names.parts(child(n, 'TableNameCreate')),
          columns,
          query: q ? this.query(q) : undefined,
          options,
          temporary: hasToken(n, 'TEMPORARY'),
        };
      }
      case 'CreateTableLike':
        return {
          kind: 'createTable',
          target: this.names.parts(child(n, 'TableNameCreate')),
          columns: [],
          like: this.names.parts(child(n, 'TableName')),
          options: {},
          temporary: false,
        };
      case 'CreateView':
      case 'CreateMaterializedView': {
        const cols = child(n, 'IdentifierCommentList', 'IdentifierList');
        return {
          kind: 'createView',
          target: this.names.parts(child(n, 'ViewNameCreate')),
          columns: cols ? this.identList(cols) : undefined,
          query: this.query(child(n, 'QueryStatement') as PNode),
          temporary: hasToken(n, 'TEMPORARY'),
          materialized: kind(n) === 'CreateMaterializedView',
        };
      }
      case 'MergeIntoTable':
        return this.merge(n);
      case 'UpdateTable': {
        const al = child(n, 'TableAlias');
        return {
          kind: 'update',
          target: this.names.parts(child(n, 'TableName')),
          alias: al ? this.alias(al).alias : undefined,
          sets: this.assignments(child(n, 'AssignmentList')),
          from: [],
          where: this.where(n),
        };
      }
      case 'DeleteFromTable': {
        const al = child(n, 'TableAlias');
        return {
          kind: 'delete',
          target: this.names.parts(child(n, 'TableName')),
          alias: al ? this.alias(al).alias : undefined,
          using: [],
          where: this.where(n),
        };
      }
      case 'UseNamespace':
        return { kind: 'use', parts: this.names.parts(child(n, 'NamespaceName')) };
      default:
        return { kind: 'other', keyword: tok(kids(n)[0]) || kind(n) };
    }
  }

  private where(n: PNode): ExprInfo | undefined {
    const w = child(n, 'WhereClause');
    return w ? this.expr(kids(w)[1]) : undefined;
  }

  private columnDef(c: PNode): ColumnDef {
    return { name: this.names.parts(kids(c)[0]).pop() ?? '', type: this.text(child(c, 'DataType') ?? first(c, 'DataType')) };
  }

  private assignments(n: PNode | undefined): { column: string; expr: ExprInfo }[] {
    return childrenOf(n, 'Assignment').map((a) => ({ column: this.names.parts(kids(a)[0]).pop() ?? '', expr: this.expr(kids(a)[2]) }));
  }

  private insertTarget(ins: PNode): { target: string[]; columns?: string[]; overwrite: boolean; directory?: string } {
    const overwrite = hasToken(ins, 'OVERWRITE');
    if (hasToken(ins, 'DIRECTORY')) {
      const path = first(ins, 'StringLit');
      return { target: [], overwrite, directory: path ? this.text(path).slice(1, -1) : '' };
    }
    const cols = child(ins, 'ColumnNameSeq', 'IdentifierList');
    return {
      target: this.names.parts(child(ins, 'TableName', 'IdentifierReference')),
      columns: cols ? find(cols, ['ColumnName', ...IDENTS], ['ColumnName', ...IDENTS]).map((c) => this.names.parts(c).pop() ?? '') : undefined,
      overwrite,
    };
  }

  private multiInsert(n: PNode): Statement {
    const from = this.fromClause(child(n, 'FromClause') as PNode);
    const branches: InsertBranch[] = [];
    const k = kids(n);
    for (let i = 0; i < k.length; i++) {
      if (kind(k[i]) !== 'InsertInto') continue;
      const body = k[i + 1];
      if (!body || kind(body) !== 'FromStatementBody') this.unsupported('multi-insert branch');
      const t = this.insertTarget(k[i] as PNode);
      const select = this.selectParts(kids(body), from);
      branches.push({ target: t.target, columns: t.columns, select, overwrite: t.overwrite, directory: t.directory });
    }
    return { kind: 'multiInsert', ctes: this.ctes(child(n, 'Ctes')), from, branches };
  }

  private merge(n: PNode): Statement {
    const k = kids(n);
    const using = tokenIndex(n, 'USING');
    const targetAlias = k.slice(0, using).find((c) => kind(c) === 'TableAlias');
    const srcNode = k[using + 1] as PNode;
    const srcAlias = k.slice(using + 1, tokenIndex(n, 'ON')).find((c) => kind(c) === 'TableAlias');
    let source: FromItem;
    const sub = kind(srcNode) === 'QueryStatement' ? srcNode : first(srcNode, 'QueryStatement');
    const alias = srcAlias ? this.alias(srcAlias) : {};
    if (sub && tok(k[using + 1]) !== '(' && kind(srcNode) !== 'IdentifierReference') source = { kind: 'derived', query: this.query(sub), ...alias };
    else if (tok(k[using + 1]) === '(') {
      const q = k.slice(using + 1).find((c) => kind(c) === 'QueryStatement');
      if (!q) this.unsupported('MERGE source');
      source = { kind: 'derived', query: this.query(q), ...alias };
    } else source = { kind: 'table', name: this.names.parts(srcNode), ...alias };
    const on = this.expr(k[tokenIndex(n, 'ON') + 1]);
    const actions: MergeAction[] = [];
    for (const c of k) {
      const ck = kind(c);
      if (ck !== 'MatchedClause' && ck !== 'NotMatchedClause' && ck !== 'NotMatchedBySourceClause') continue;
      const ckids = kids(c);
      const andAt = tokenIndex(c, 'AND');
      const cond = andAt >= 0 ? this.expr(ckids[andAt + 1]) : undefined;
      const act = child(c, 'NotMatchedAction', 'MatchedAction') ?? c;
      if (hasToken(act, 'DELETE')) actions.push({ kind: 'delete', cond });
      else if (hasToken(act, 'UPDATE')) {
        actions.push({ kind: 'update', sets: this.assignments(child(act, 'AssignmentList')), star: hasToken(act, '*'), cond });
      } else if (hasToken(act, 'INSERT')) {
        const star = hasToken(act, '*');
        const ak = kids(act);
        const valuesAt = tokenIndex(act, 'VALUES');
        const cols = child(act, 'MultipartIdentifierList', 'IdentifierList', 'ColumnNameSeq');
        actions.push({
          kind: 'insert',
          columns: cols
            ? find(cols, ['MultipartIdentifier', ...IDENTS], ['MultipartIdentifier', ...IDENTS]).map((x) => this.names.parts(x).pop() ?? '')
            : undefined,
          values:
            valuesAt >= 0
              ? ak
                  .slice(valuesAt + 1)
                  .filter((x) => kind(x) === 'Expression')
                  .map((x) => this.expr(x))
              : [],
          star,
          cond,
        });
      }
    }
    return {
      kind: 'merge',
      target: this.names.parts(child(n, 'TableName')),
      alias: targetAlias ? this.alias(targetAlias).alias : undefined,
      source,
      on,
      actions,
    };
  }

  private ctes(n: PNode | undefined): Cte[] {
    if (!n) return [];
    return childrenOf(n, 'NamedQuery').map((nq) => {
      const cols = child(nq, 'IdentifierList');
      return {
        name: this.names.parts(kids(nq)[0]).pop() ?? '',
        columns: cols ? this.identList(cols) : undefined,
        query: this.query(child(nq, 'QueryStatement') as PNode),
        recursive: false,
      };
    });
  }

  query(n: PNode): Query {
    if (kind(n) !== 'QueryStatement' && kind(n) !== 'Query') this.unsupported(`query ${kind(n)}`);
    const ctes = this.ctes(child(n, 'Ctes'));
    const term = child(n, 'QueryTerm');
    if (!term) this.unsupported('query without a body');
    const org = child(n, 'QueryOrganization');
    const orderBy = org ? find(org, ['SortItem']).map((x) => this.expr(kids(x)[0])) : [];
    return { ctes, body: this.term(term), orderBy };
  }

  private term(n: PNode): QueryBody {
    const k = kids(n);
    const terms = k.filter((c) => kind(c) === 'QueryTerm');
    if (terms.length === 2) {
      const op = k.find((c) => ['UNION', 'INTERSECT', 'EXCEPT', 'MINUS'].includes(tok(c)));
      return { kind: 'setop', op: tok(op) || 'UNION', left: this.term(terms[0] as PNode), right: this.term(terms[1] as PNode) };
    }
    const prim = child(n, 'QueryPrimary');
    if (!prim) this.unsupported('query term');
    return this.primary(prim);
  }

  private primary(n: PNode): QueryBody {
    const spec = child(n, 'QuerySpecification');
    if (spec) return this.selectParts(kids(spec), []);
    const q = child(n, 'QueryStatement', 'Query');
    if (q) return { kind: 'nested', query: this.query(q) };
    if (hasToken(n, 'TABLE')) return { kind: 'tableRef', name: this.names.parts(child(n, 'TableName', 'IdentifierReference')) };
    const inline = child(n, 'InlineTable');
    if (inline) return this.inline(inline);
    const fsb = child(n, 'FromStatementBody');
    const fc = child(n, 'FromClause');
    if (fc && fsb) return this.selectParts(kids(fsb), this.fromClause(fc));
    return this.unsupported(`query ${this.text(n).slice(0, 20)}`);
  }

  private inline(n: PNode): QueryBody {
    return {
      kind: 'values',
      rows: childrenOf(n, 'Expression').map((e) => {
        const p = first(e, 'PrimaryExpression');
        const inner = p && tok(kids(p)[0]) === '(' && this.text(p) === this.text(e) ? childrenOf(p, 'Expression') : [];
        return inner.length > 1 ? inner.map((x) => this.expr(x)) : [this.expr(e)];
      }),
    };
  }

  /** A select block from its clauses (a query specification, or a multi-insert branch over `sharedFrom`). */
  private selectParts(parts: PNode[], sharedFrom: FromItem[]): Select {
    const sel: Select = { kind: 'select', distinct: false, items: [], from: [...sharedFrom], groupBy: [], sort: [] };
    for (const c of parts) {
      switch (kind(c)) {
        case 'SelectClause': {
          const q = child(c, 'SetQuantifier');
          sel.distinct = tok(kids(q)[0]) === 'DISTINCT';
          for (const e of find(c, ['NamedExpression'])) sel.items.push(this.namedExpression(e));
          break;
        }
        case 'FromClause':
          sel.from = this.fromClause(c);
          break;
        case 'WhereClause':
          sel.where = this.expr(kids(c)[1]);
          break;
        case 'AggregationClause':
          sel.groupBy.push(
            this.exprs(find(c, ['GroupByClause', 'Expression'], ['GroupByClause']).flatMap((g) => (kind(g) === 'GroupByClause' ? kids(g) : [g]))),
          );
          break;
        case 'HavingClause':
          sel.having = this.expr(kids(c)[1]);
          break;
        case 'WindowClause':
          sel.sort.push(this.exprs(find(c, ['Expression'])));
          break;
        case 'QueryOrganization':
          sel.sort.push(...find(c, ['SortItem']).map((x) => this.expr(kids(x)[0])));
          break;
        default:
          break;
      }
    }
    return sel;
  }

  private namedExpression(e: PNode): SelectItem {
    const k = kids(e);
    const head = k[0] as PNode;
    if (kind(head) === 'TableAllColumns' || this.text(head) === '*' || this.text(head).endsWith('.*')) {
      const parts = this.names.parts(head).filter((p) => p !== '*');
      return { expr: this.expr(undefined), star: { qualifier: parts, except: [] } };
    }
    const aliasNode = k.slice(1).find((c) => !c.symbol);
    let alias = aliasNode ? this.names.parts(aliasNode).pop() : undefined;
    if (aliasNode && kind(aliasNode) === 'IdentifierList') alias = this.identList(aliasNode)[0];
    return { expr: this.expr(head), alias };
  }

  private fromClause(n: PNode): FromItem[] {
    const out: FromItem[] = [];
    for (const c of kids(n)) {
      if (kind(c) === 'Relation') out.push(this.relation(c));
      else if (kind(c) === 'LateralView') {
        const last = out.pop();
        if (!last) this.unsupported('LATERAL VIEW without a table');
        out.push(this.lateralView(last, c));
      }
    }
    return out;
  }

  private lateralView(base: FromItem, n: PNode): FromItem {
    const k = kids(n);
    const open = tokenIndex(n, '(');
    const close = tokenIndex(n, ')', open);
    const args = k.slice(open + 1, close).filter((c) => kind(c) === 'Expression');
    const fn = this.exprs(args);
    const nameNode = k[open - 1];
    fn.text = `${this.text(nameNode)}(${fn.text})`;
    const al = child(n, 'TableAlias');
    const after = k.slice(close + 1).filter((c) => kind(c) === 'Identifier' || kind(c) === 'ErrorCapturingIdentifier');
    return {
      kind: 'lateralView',
      base,
      fn,
      alias: al ? this.names.parts(al).pop() : undefined,
      columnAliases: after.map((c) => this.names.parts(c).pop() ?? ''),
    };
  }

  private relation(n: PNode): FromItem {
    const k = kids(n).filter((c) => !c.symbol);
    let left = this.relationPrimary(k[0] as PNode);
    for (const j of k.slice(1)) {
      if (kind(j) !== 'JoinRelation') this.unsupported(`relation part ${kind(j)}`);
      const jk = kids(j);
      const rightNode = jk.find((c) => !c.symbol && kind(c) !== 'JoinType' && kind(c) !== 'JoinCriteria');
      if (!rightNode) this.unsupported('join');
      const right = this.relationPrimary(rightNode);
      const crit = child(j, 'JoinCriteria');
      const natural = hasToken(j, 'NATURAL');
      if (!crit) left = { kind: 'join', left, right, natural };
      else if (hasToken(crit, 'USING')) left = { kind: 'join', left, right, natural, using: this.identList(crit) };
      else left = { kind: 'join', left, right, natural, on: this.expr(kids(crit)[1]) };
    }
    return left;
  }

  private alias(n: PNode): { alias?: string; columnAliases?: string[] } {
    const list = child(n, 'IdentifierList');
    const id = kids(n).find((c) => IDENTS.includes(kind(c)));
    return { alias: id ? this.names.parts(id).pop() : undefined, columnAliases: list ? this.identList(list) : undefined };
  }

  private relationPrimary(n: PNode): FromItem {
    const al = child(n, 'TableAlias');
    const alias = al ? this.alias(al) : {};
    switch (kind(n)) {
      case 'TableName':
      case 'TableSource': {
        const name = this.names.parts(kind(n) === 'TableName' ? n : child(n, 'TableName'));
        return { kind: 'table', name, ...alias };
      }
      case 'SubQueryTableSource': {
        const src = child(n, 'AtomSubQueryTableSource') ?? n;
        const q = child(src, 'QueryStatement', 'Query');
        if (!q) this.unsupported('derived table');
        const a2 = child(src, 'TableAlias');
        return { kind: 'derived', query: this.query(q), ...(a2 ? this.alias(a2) : alias) };
      }
      case 'JoinTableSource': {
        const r = child(n, 'Relation');
        if (!r) this.unsupported('parenthesised relation');
        return this.relation(r);
      }
      case 'InlineTableSource': {
        const inline = child(n, 'InlineTable');
        if (!inline) this.unsupported('VALUES table');
        return { kind: 'derived', query: { ctes: [], body: this.inline(inline), orderBy: [] }, ...alias };
      }
      case 'FunctionTableSource': {
        const fn = first(n, 'FunctionName');
        return {
          kind: 'function',
          name: this.names.parts(fn).map((p) => p.toLowerCase()),
          args: this.exprs(find(n, ['Expression'])),
          literalArgs: [],
          ...alias,
        };
      }
      case 'Relation':
        return this.relation(n);
      default:
        return this.unsupported(`table source ${kind(n)}`);
    }
  }
}
