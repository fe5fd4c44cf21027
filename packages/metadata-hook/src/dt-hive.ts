/** Adapter from dt-sql-parser's Hive grammar to the lineage tree. */
import { DtAdapter, type ExprRules } from './dt-adapter.ts';
import { child, childrenOf, find, first, hasToken, kids, kind, type PNode, tok, tokenIndex } from './dt-tree.ts';
import type { ColumnDef, Cte, FromItem, InsertBranch, Query, QueryBody, Select, SelectItem, Statement } from './sql-ast.ts';

const RULES: ExprRules = {
  columnRef: ['ColumnNamePath', 'ColumnName', 'ColumnNamePathAllowEmpty'],
  func: ['Function_'],
  over: ['Window_specification'],
  cases: ['WhenExpression', 'CaseExpression'],
  filter: [],
  query: ['SubQueryExpression', 'QueryStatementExpression', 'SelectStatement'],
  lambda: [],
  ignore: ['PrimitiveType', 'Type', 'StringLiteral', 'Number', 'IntervalLiteral', 'IntervalExpression', 'FunctionNameForInvoke', 'BooleanValue'],
};

const IDENTS = ['Id_'];

export class HiveAdapter extends DtAdapter {
  constructor(source: string) {
    super('hive', source, RULES);
  }

  protected identKinds(): readonly string[] {
    return IDENTS;
  }

  protected funcName(n: PNode): string {
    const name = child(n, 'FunctionNameForInvoke');
    if (name) return (this.names.parts(name).pop() ?? '').toUpperCase();
    return tok(kids(n)[0]);
  }

  protected subquery(n: PNode): Query {
    if (kind(n) === 'SubQueryExpression') {
      const inner = kids(n).find((c) => !c.symbol);
      if (!inner) this.unsupported('subquery');
      return this.subquery(inner);
    }
    if (kind(n) === 'SelectStatement') return { ctes: [], body: this.selectStatement(n), orderBy: this.orderBy(n) };
    return this.queryExpression(n);
  }

  statement(s: PNode): Statement {
    let n = kids(s)[0];
    while (kind(n) === 'ExecStatement' || kind(n) === 'DdlStatement') n = kids(n)[0];
    if (!n || n.symbol) return { kind: 'other', keyword: tok(n) };
    switch (kind(n)) {
      case 'QueryStatementExpression':
        return this.queryStatement(n);
      case 'SwitchDatabaseStatement':
        return { kind: 'use', parts: this.names.parts(kids(n)[1]) };
      case 'CreateViewStatement': {
        const cols = child(n, 'ColumnNameCommentList');
        const q = child(n, 'SelectStatementWithCTE', 'QueryStatementExpression', 'SelectStatement');
        if (!q) this.unsupported('CREATE VIEW without a query');
        return {
          kind: 'createView',
          target: this.names.parts(child(n, 'ViewNameCreate')),
          columns: cols ? find(cols, ['ColumnNameComment']).map((c) => this.names.parts(kids(c)[0]).pop() ?? '') : undefined,
          query: this.withCte(q),
          temporary: false,
          materialized: false,
        };
      }
      case 'CreateTableStatement': {
        const q = child(n, 'SelectStatementWithCTE', 'QueryStatementExpression', 'SelectStatement');
        const columns: ColumnDef[] = find(n, ['ColumnNameTypeOrConstraint', 'ColumnNameType'], ['ColumnNameTypeOrConstraint', 'ColumnNameType'])
          .map((c) => first(c, 'ColumnNameType', 'ColumnNameTypeConstraint') ?? c)
          .map((c) => ({ name: this.names.parts(kids(c)[0]).pop() ?? '', type: this.text(kids(c)[1]) }));
        const likeAt = tokenIndex(n, 'LIKE');
        return {
          kind: 'createTable',
          target: this.names.parts(child(n, 'TableNameCreate')),
          columns,
          query: q ? this.withCte(q) : undefined,
          like: likeAt >= 0 ? this.names.parts(kids(n)[likeAt + 1]) : undefined,
          options: {},
          temporary: hasToken(n, 'TEMPORARY'),
        };
      }
      default:
        return { kind: 'other', keyword: tok(kids(n)[0]) || kind(n) };
    }
  }

  /** A query statement: a SELECT, an INSERT, or a FROM-first (multi-)insert. */
  private queryStatement(n: PNode): Statement {
    const ctes = this.ctes(child(n, 'WithClause'));
    const body = child(n, 'QueryStatementExpressionBody');
    const inner = kids(body)[0];
    if (!inner) this.unsupported('empty query');
    switch (kind(inner)) {
      case 'InsertStmt': {
        const ins = this.insertClause(child(inner, 'InsertClause') as PNode);
        const sel = child(inner, 'SelectStatement');
        if (!sel) this.unsupported('INSERT without a query');
        return {
          kind: 'insert',
          target: ins.target,
          columns: ins.columns,
          query: { ctes, body: this.selectStatement(sel), orderBy: this.orderBy(sel) },
          overwrite: ins.overwrite,
          directory: ins.directory,
        };
      }
      case 'FromStatement':
        return this.fromStatement(inner, ctes);
      default:
        return { kind: 'query', query: this.queryExpression(n) };
    }
  }

  private fromStatement(n: PNode, ctes: Cte[]): Statement {
    const stmts = find(n, ['FromInsertStmt', 'FromSelectStmt'], ['FromInsertStmt', 'FromSelectStmt']);
    const branches: InsertBranch[] = [];
    let from: FromItem[] = [];
    for (const st of stmts) {
      const fc = child(st, 'FromClause');
      if (fc) from = this.fromClause(fc);
      const ins = child(st, 'InsertClause');
      const sel = this.selectParts(
        kids(st).filter((c) => kind(c) !== 'FromClause' && kind(c) !== 'InsertClause'),
        from,
      );
      if (!ins) return { kind: 'query', query: { ctes, body: sel, orderBy: [] } };
      const t = this.insertClause(ins);
      branches.push({ target: t.target, columns: t.columns, select: sel, overwrite: t.overwrite, directory: t.directory });
    }
    if (!branches.length) this.unsupported('FROM statement');
    return { kind: 'multiInsert', ctes, from, branches };
  }

  private insertClause(n: PNode): { target: string[]; columns?: string[]; overwrite: boolean; directory?: string } {
    const overwrite = hasToken(n, 'OVERWRITE');
    const dest = child(n, 'Destination');
    if (dest && hasToken(dest, 'DIRECTORY')) {
      const path = first(dest, 'StringLiteral');
      return { target: [], overwrite, directory: path ? this.text(path).slice(1, -1) : '' };
    }
    const top = first(n, 'TableOrPartition');
    const cols = child(n, 'ColumnNameList');
    return {
      target: this.names.parts(child(top, 'TableName') ?? first(n, 'TableName')),
      columns: cols ? find(cols, ['ColumnName'], ['ColumnName']).map((c) => this.names.parts(c).pop() ?? '') : undefined,
      overwrite,
    };
  }

  private withCte(n: PNode): Query {
    if (kind(n) === 'SelectStatementWithCTE') {
      const ctes = this.ctes(child(n, 'WithClause'));
      const sel = child(n, 'SelectStatement') as PNode;
      return { ctes, body: this.selectStatement(sel), orderBy: this.orderBy(sel) };
    }
    return this.subquery(n);
  }

  private ctes(n: PNode | undefined): Cte[] {
    if (!n) return [];
    return childrenOf(n, 'CteStatement').map((c) => {
      const q = child(c, 'QueryStatementExpression');
      if (!q) this.unsupported('CTE without a query');
      const cols = child(c, 'ColumnNameList');
      return {
        name: this.names.parts(kids(c)[0]).pop() ?? '',
        columns: cols ? find(cols, ['ColumnName'], ['ColumnName']).map((x) => this.names.parts(x).pop() ?? '') : undefined,
        query: this.queryExpression(q),
        recursive: false,
      };
    });
  }

  private queryExpression(n: PNode): Query {
    const ctes = this.ctes(child(n, 'WithClause'));
    const body = child(n, 'QueryStatementExpressionBody');
    const sel = first(body, 'SelectStatement');
    if (!sel || kind(kids(body)[0]) !== 'SelectStmt') this.unsupported('subquery that is not a SELECT');
    return { ctes, body: this.selectStatement(sel), orderBy: this.orderBy(sel) };
  }

  private orderBy(sel: PNode): Select['sort'] {
    const o = child(sel, 'OrderByClause');
    return o ? [this.exprs(kids(o).filter((x) => !x.symbol))] : [];
  }

  /** SORT BY, DISTRIBUTE BY and CLUSTER BY, which the grammar attaches to the select statement. */
  private sortClauses(sel: PNode): Select['sort'] {
    return childrenOf(sel, 'SortByClause', 'DistributeByClause', 'ClusterByClause').map((c) => this.exprs(kids(c).filter((x) => !x.symbol)));
  }

  /**
   * The grammar ends a FROM-first insert after its first branch, so `FROM s INSERT … SELECT …
   * INSERT … SELECT …` arrives as a multi-insert followed by plain INSERT … SELECT statements without
   * a FROM. Those later branches read the shared FROM: they are folded back into the multi-insert.
   */
  override combine(stmts: Statement[]): Statement[] {
    const out: Statement[] = [];
    for (const st of stmts) {
      const prev = out[out.length - 1];
      if (
        prev?.kind === 'multiInsert' &&
        st.kind === 'insert' &&
        st.query.ctes.length === 0 &&
        st.query.body.kind === 'select' &&
        st.query.body.from.length === 0
      ) {
        prev.branches.push({
          target: st.target,
          columns: st.columns,
          select: { ...st.query.body, from: [...prev.from] },
          overwrite: st.overwrite,
          directory: st.directory,
        });
        continue;
      }
      out.push(st);
    }
    return out;
  }

  private selectStatement(n: PNode): QueryBody {
    let body = this.atom(child(n, 'AtomSelectStatement') as PNode);
    const extra = this.sortClauses(n);
    if (extra.length && body.kind === 'select') body.sort.push(...extra);
    for (const so of childrenOf(n, 'SetOpSelectStatement')) {
      const op = tok(kids(child(so, 'SetOperator'))[0]) || 'UNION';
      body = { kind: 'setop', op, left: body, right: this.atom(child(so, 'AtomSelectStatement') as PNode) };
    }
    return body;
  }

  private atom(n: PNode): QueryBody {
    if (!n) this.unsupported('select');
    if (tok(kids(n)[0]) === '(') {
      const inner = child(n, 'SelectStatement');
      if (!inner) this.unsupported('parenthesised select');
      return { kind: 'nested', query: { ctes: [], body: this.selectStatement(inner), orderBy: this.orderBy(inner) } };
    }
    const fc = child(n, 'FromClause');
    return this.selectParts(kids(n), fc ? this.fromClause(fc) : []);
  }

  private selectParts(parts: PNode[], from: FromItem[]): Select {
    const sel: Select = { kind: 'select', distinct: false, items: [], from, groupBy: [], sort: [] };
    for (const c of parts) {
      switch (kind(c)) {
        case 'SelectClause': {
          sel.distinct = hasToken(c, 'DISTINCT');
          for (const it of childrenOf(child(c, 'SelectList'), 'SelectItem')) sel.items.push(this.selectItem(it));
          break;
        }
        case 'WhereClause':
          sel.where = this.expr(kids(c)[1]);
          break;
        case 'GroupByClause':
          sel.groupBy.push(this.exprs(kids(c).filter((x) => !x.symbol)));
          break;
        case 'HavingClause':
          sel.having = this.expr(kids(c)[1]);
          break;
        case 'Window_clause':
          sel.sort.push(this.exprs(find(c, ['Expression'])));
          break;
        case 'OrderByClause':
        case 'SortByClause':
        case 'ClusterByClause':
        case 'DistributeByClause':
          sel.sort.push(this.exprs(kids(c).filter((x) => !x.symbol)));
          break;
        case 'LateralView': {
          const last = sel.from.pop();
          if (!last) this.unsupported('LATERAL VIEW without a table');
          sel.from.push(this.lateralView(last, c));
          break;
        }
        default:
          break;
      }
    }
    return sel;
  }

  private selectItem(n: PNode): SelectItem {
    const k = kids(n);
    const head = k[0] as PNode;
    if (kind(head) === 'TableAllColumns') {
      return { expr: this.expr(undefined), star: { qualifier: this.names.parts(head).filter((p) => p !== '*'), except: [] } };
    }
    const ids = k.slice(1).filter((c) => kind(c) === 'Id_' || kind(c) === 'AliasList');
    const alias = ids.length ? (kind(ids[0]) === 'AliasList' ? this.identList(ids[0]) : this.names.parts(ids[0]))[0] : undefined;
    return { expr: this.expr(head), alias };
  }

  private fromClause(n: PNode): FromItem[] {
    const src = child(n, 'FromSource');
    const js = child(src, 'JoinSource');
    if (!js) this.unsupported('FROM source');
    return [this.joinSource(js)];
  }

  private joinSource(n: PNode): FromItem {
    const k = kids(n);
    let left = this.atomJoin(k[0] as PNode);
    for (let i = 1; i < k.length; i++) {
      const c = k[i] as PNode;
      if (kind(c) !== 'JoinSourcePart') continue;
      const right = this.atomJoin(c);
      const tokNode = k[i - 1];
      const natural = tok(kids(tokNode)[0]) === 'NATURAL';
      if (tok(k[i + 1]) === 'ON') {
        left = { kind: 'join', left, right, natural, on: this.expr(k[i + 2]) };
        i += 2;
      } else if (tok(k[i + 1]) === 'USING') {
        left = { kind: 'join', left, right, natural, using: this.identList(k[i + 2]) };
        i += 2;
      } else left = { kind: 'join', left, right, natural };
    }
    return left;
  }

  private atomJoin(n: PNode): FromItem {
    const k = kids(n);
    if (tok(k[0]) === '(') {
      const inner = child(n, 'JoinSource');
      if (!inner) this.unsupported('parenthesised join');
      return this.joinSource(inner);
    }
    let item = this.sourceItem(k[0] as PNode);
    for (const lv of childrenOf(n, 'LateralView')) item = this.lateralView(item, lv);
    return item;
  }

  private sourceItem(n: PNode): FromItem {
    switch (kind(n)) {
      case 'TableSource': {
        const ids = kids(n).filter((c) => kind(c) === 'Id_' || kind(c) === 'TableAlias');
        return { kind: 'table', name: this.names.parts(first(n, 'TableName')), alias: ids.length ? this.names.parts(ids[ids.length - 1]).pop() : undefined };
      }
      case 'SubQuerySource': {
        const q = child(n, 'QueryStatementExpression');
        if (!q) this.unsupported('derived table');
        const ids = kids(n).filter((c) => kind(c) === 'Id_');
        return { kind: 'derived', query: this.queryExpression(q), alias: ids.length ? this.names.parts(ids[ids.length - 1]).pop() : undefined };
      }
      case 'AtomjoinSource':
      case 'JoinSourcePart':
        return this.atomJoin(n);
      default:
        return this.unsupported(`table source ${kind(n)}`);
    }
  }

  private lateralView(base: FromItem, n: PNode): FromItem {
    const fn = child(n, 'Function_');
    const al = child(n, 'TableAlias');
    const asAt = tokenIndex(n, 'AS');
    const cols =
      asAt >= 0
        ? kids(n)
            .slice(asAt + 1)
            .filter((c) => kind(c) === 'Id_')
        : [];
    return {
      kind: 'lateralView',
      base,
      fn: this.expr(fn),
      alias: al ? this.names.parts(al).pop() : undefined,
      columnAliases: cols.map((c) => this.names.parts(c).pop() ?? ''),
    };
  }
}
