/** Adapter from dt-sql-parser's PostgreSQL grammar to the lineage tree. */
import { DtAdapter, type ExprRules } from './dt-adapter.ts';
import { child, childrenOf, find, first, hasToken, kids, kind, type PNode, tok, tokenIndex } from './dt-tree.ts';
import type { ColumnDef, Cte, ExprInfo, FromItem, MergeAction, Query, QueryBody, Select, SelectItem, Statement } from './sql-ast.ts';

const RULES: ExprRules = {
  columnRef: ['ColumnName', 'ColumnNamePath_default', 'ColumnNamePath'],
  func: ['Func_expr', 'FuncApplication', 'Func_expr_windowless'],
  over: ['WindowSpecification', 'Over_clause'],
  cases: ['Case_expr'],
  filter: ['Filter_clause'],
  query: ['SelectWithParens', 'SelectStatement', 'SelectNoParens'],
  lambda: [],
  ignore: ['Typename', 'SimpleTypeName', 'AexprConst', 'Sconst', 'Iconst', 'FunctionName'],
};

const IDENTS = ['ColId', 'Identifier', 'ColLabel', 'InsertColumnItem', 'IndirectionLabel'];

export class PostgresAdapter extends DtAdapter {
  constructor(source: string) {
    super('postgres', source, RULES);
  }

  protected identKinds(): readonly string[] {
    return IDENTS;
  }

  protected funcName(n: PNode): string {
    const name = first(n, 'FunctionName');
    if (name) return (this.names.parts(name).pop() ?? '').toUpperCase();
    return tok(kids(n)[0]);
  }

  protected subquery(n: PNode): Query {
    return this.selectStatement(n);
  }

  statement(s: PNode): Statement {
    const stmt = child(s, 'Stmt') ?? s;
    const n = kids(stmt)[0];
    if (!n || n.symbol) return { kind: 'other', keyword: tok(n) };
    switch (kind(n)) {
      case 'SelectStatement':
        return { kind: 'query', query: this.selectStatement(n) };
      case 'InsertStatement':
        return this.insert(n);
      case 'QueryCreateTable': {
        const target = child(n, 'CreateAsTarget');
        const cols = child(target, 'OptColumnList', 'ColumnList', 'ColumnListCreate');
        return {
          kind: 'createTable',
          target: this.names.parts(child(target, 'TableNameCreate')),
          columns: this.identList(cols).map((name) => ({ name, type: '' })),
          query: this.selectStatement(child(n, 'SelectStatement') as PNode),
          options: {},
          temporary: !!child(n, 'OptTemp'),
        };
      }
      case 'ColumnCreateTable': {
        const columns: ColumnDef[] = [];
        for (const el of find(child(n, 'TableElementList'), ['ColumnDef', 'Column_def'])) {
          const name = this.names.parts(kids(el)[0]).pop() ?? '';
          columns.push({ name, type: this.text(child(el, 'Typename')) });
        }
        return { kind: 'createTable', target: this.names.parts(child(n, 'TableNameCreate')), columns, options: {}, temporary: !!child(n, 'OptTemp') };
      }
      case 'CreateView':
      case 'CreateMaterializedView': {
        const cols = child(n, 'ColumnListCreate', 'OptColumnList');
        return {
          kind: 'createView',
          target: this.names.parts(child(n, 'ViewNameCreate')),
          columns: cols ? this.identList(cols) : undefined,
          query: this.selectStatement(child(n, 'SelectStatement') as PNode),
          temporary: !!child(n, 'OptTemp'),
          materialized: kind(n) === 'CreateMaterializedView',
        };
      }
      case 'MergeStmt':
        return this.merge(n);
      case 'UpdateStmt': {
        const { name, alias } = this.targetWithAlias(child(n, 'RelationExprOptAlias'));
        const sets = find(child(n, 'SetClauseList'), ['SetClause']).map((sc) => ({
          column: this.names.parts(kids(sc)[0]).pop() ?? '',
          expr: this.expr(kids(sc)[2]),
        }));
        const from = this.fromClause(child(n, 'FromClause'));
        const w = child(n, 'WhereOrCurrentClause', 'WhereClause');
        return { kind: 'update', target: name, alias, sets, from, where: w ? this.expr(kids(w)[1]) : undefined };
      }
      case 'DeleteStmt': {
        const { name, alias } = this.targetWithAlias(child(n, 'RelationExprOptAlias'));
        const using = child(n, 'FromList') ? this.fromList(child(n, 'FromList') as PNode) : [];
        const w = child(n, 'WhereOrCurrentClause', 'WhereClause');
        return { kind: 'delete', target: name, alias, using, where: w ? this.expr(kids(w)[1]) : undefined };
      }
      default:
        return { kind: 'other', keyword: tok(kids(n)[0]) || kind(n) };
    }
  }

  private targetWithAlias(n: PNode | undefined): { name: string[]; alias?: string } {
    const rel = first(n, 'TableName', 'QualifiedName');
    const aliasNode = kids(n).filter((c) => kind(c) === 'ColId');
    return { name: this.names.parts(rel), alias: aliasNode.length ? this.names.parts(aliasNode[0]).pop() : undefined };
  }

  private insert(n: PNode): Statement {
    const ctes = this.withClause(child(n, 'WithClause'));
    const target = this.names.parts(child(n, 'TableName', 'InsertTarget'));
    const rest = child(n, 'InsertRest');
    const colList = child(rest, 'InsertColumnList');
    const sel = child(rest, 'SelectStatement');
    if (!sel) this.unsupported('INSERT without a query');
    const query = this.selectStatement(sel);
    query.ctes = [...ctes, ...query.ctes];
    return {
      kind: 'insert',
      target: target.length ? target : this.names.parts(first(n, 'QualifiedName')),
      columns: colList ? childrenOf(colList, 'InsertColumnItem').map((c) => this.names.parts(c)[0] ?? '') : undefined,
      query,
      overwrite: false,
    };
  }

  private merge(n: PNode): Statement {
    const k = kids(n);
    const target = this.names.parts(child(n, 'TableName'));
    const using = tokenIndex(n, 'USING');
    const aliasNode = k.slice(0, using).filter((c) => kind(c) === 'ColId' || kind(c) === 'AliasClause');
    const source = this.dataSource(k[using + 1] as PNode);
    const on = this.expr(k[tokenIndex(n, 'ON') + 1]);
    const actions: MergeAction[] = [];
    for (const w of childrenOf(n, 'MergeWhenClause')) {
      const wk = kids(w);
      const andAt = tokenIndex(w, 'AND');
      const cond = andAt >= 0 ? this.expr(wk[andAt + 1]) : undefined;
      const upd = child(w, 'MergeUpdate');
      const ins = child(w, 'MergeInsert');
      if (upd) {
        const sets: { column: string; expr: ExprInfo }[] = [];
        const uk = kids(upd);
        for (let i = 0; i < uk.length; i++) {
          if (tok(uk[i + 1]) === '=' && !uk[i]?.symbol) {
            sets.push({ column: this.names.parts(uk[i]).pop() ?? '', expr: this.expr(uk[i + 2]) });
            i += 2;
          }
        }
        for (const sc of find(upd, ['SetClause'])) sets.push({ column: this.names.parts(kids(sc)[0]).pop() ?? '', expr: this.expr(kids(sc)[2]) });
        actions.push({ kind: 'update', sets, star: false, cond });
      } else if (ins) {
        const cols = child(ins, 'OptColumnList', 'ColumnList', 'InsertColumnList');
        const vals = child(ins, 'DefaultValuesOrValues', 'ValuesClause');
        actions.push({
          kind: 'insert',
          columns: cols ? this.identList(cols) : undefined,
          values: kids(vals)
            .filter((c) => !c.symbol)
            .map((c) => this.expr(c)),
          star: false,
          cond,
        });
      } else if (hasToken(w, 'DELETE') || find(w, ['MergeDelete']).length) actions.push({ kind: 'delete', cond });
    }
    const alias = aliasNode.length ? this.names.parts(aliasNode[aliasNode.length - 1]).pop() : undefined;
    return { kind: 'merge', target, alias, source, on, actions };
  }

  private dataSource(n: PNode): FromItem {
    const sub = first(n, 'SelectWithParens');
    const aliasNode = kids(n).filter((c) => kind(c) === 'ColId' || kind(c) === 'AliasClause');
    const alias = aliasNode.length ? this.aliasOf(aliasNode[aliasNode.length - 1] as PNode) : {};
    if (sub) return { kind: 'derived', query: this.selectStatement(sub), ...alias };
    return { kind: 'table', name: this.names.parts(first(n, 'TableName', 'QualifiedName')), ...alias };
  }

  private aliasOf(n: PNode): { alias?: string; columnAliases?: string[] } {
    if (kind(n) === 'ColId') return { alias: this.names.parts(n).pop() };
    const cols = first(n, 'NameList', 'Name_list', 'ColumnList');
    const id = kids(n).find((c) => kind(c) === 'ColId' || kind(c) === 'Identifier');
    return { alias: id ? this.names.parts(id).pop() : undefined, columnAliases: cols ? this.identList(cols) : undefined };
  }

  private withClause(n: PNode | undefined): Cte[] {
    if (!n) return [];
    const recursive = hasToken(n, 'RECURSIVE');
    const ctes: Cte[] = [];
    for (const c of find(n, ['CommonTableExpr'])) {
      const cols = child(c, 'OptNameList', 'NameList', 'ColumnList');
      const q = first(child(c, 'PreParableStmt') ?? c, 'SelectStatement', 'SelectNoParens', 'SelectWithParens');
      if (!q) this.unsupported('a WITH query that is not a SELECT');
      ctes.push({
        name: this.names.parts(kids(c)[0]).pop() ?? '',
        columns: cols ? this.identList(cols) : undefined,
        query: this.selectStatement(q),
        recursive,
      });
    }
    return ctes;
  }

  selectStatement(n: PNode): Query {
    switch (kind(n)) {
      case 'SelectStatement':
        return this.selectStatement(kids(n)[0] as PNode);
      case 'SelectWithParens': {
        const inner = kids(n).find((c) => !c.symbol);
        if (!inner) this.unsupported('empty parentheses');
        return this.selectStatement(inner);
      }
      case 'SelectNoParens': {
        const ctes = this.withClause(child(n, 'WithClause'));
        const sc = child(n, 'SelectClause');
        const sort = child(n, 'SortClause', 'OptSortClause');
        return { ctes, body: this.selectClause(sc as PNode), orderBy: sort ? find(sort, ['SortBy']).map((x) => this.expr(kids(x)[0])) : [] };
      }
      default:
        return this.unsupported(`query ${kind(n)}`);
    }
  }

  /** A select clause: simple selects joined by set operators, read left to right. */
  private selectClause(n: PNode): QueryBody {
    const terms: (QueryBody | string)[] = [];
    const flatten = (c: PNode) => {
      const k = kind(c);
      if (k === 'SelectClause') {
        for (const x of kids(c)) flatten(x);
        return;
      }
      if (k === 'SimpleSelect') {
        const ck = kids(c);
        const opAt = ck.findIndex((x) => kind(x).startsWith('SetOperator') || ['UNION', 'INTERSECT', 'EXCEPT'].includes(tok(x)));
        if (opAt >= 0) {
          terms.push(this.simpleSelect(c, opAt));
          const op = ck[opAt] as PNode;
          terms.push(tok(kids(op)[0] ?? op) || 'UNION');
          for (const x of ck.slice(opAt + 1)) if (!x.symbol && !kind(x).startsWith('SetOperator')) flatten(x);
          return;
        }
        terms.push(this.simpleSelect(c, ck.length));
        return;
      }
      if (k === 'SelectWithParens') {
        terms.push({ kind: 'nested', query: this.selectStatement(c) });
        return;
      }
      if (k.startsWith('SetOperator') || ['UNION', 'INTERSECT', 'EXCEPT'].includes(tok(c))) {
        terms.push(tok(kids(c)[0] ?? c) || tok(c) || 'UNION');
        return;
      }
      if (!c.symbol) this.unsupported(`select clause part ${k}`);
    };
    flatten(n);
    let body = terms[0];
    if (body === undefined || typeof body === 'string') return this.unsupported('select clause');
    for (let i = 1; i + 1 < terms.length; i += 2) {
      const right = terms[i + 1];
      if (right === undefined || typeof right === 'string') this.unsupported('set operation');
      body = { kind: 'setop', op: String(terms[i]), left: body, right };
    }
    return body;
  }

  /** The select block of a SimpleSelect, up to `end` (the first set operator). */
  private simpleSelect(n: PNode, end: number): QueryBody {
    const k = kids(n).slice(0, end);
    const values = k.find((c) => kind(c) === 'ValuesClause');
    if (values) {
      // Each row is a parenthesised expression list (the grammar reuses executeParamClause for it).
      const rows: ExprInfo[][] = kids(values)
        .filter((c) => !c.symbol)
        .map((row) => find(row, ['Expression'], ['Expression']).map((e) => this.expr(e)));
      return { kind: 'values', rows };
    }
    if (tok(k[0]) === 'TABLE') return { kind: 'tableRef', name: this.names.parts(first(n, 'TableName', 'QualifiedName')) };
    const sel: Select = { kind: 'select', distinct: false, items: [], from: [], groupBy: [], sort: [] };
    sel.distinct = k.some((c) => kind(c) === 'Distinct_clause' || kind(c) === 'DistinctClause' || tok(c) === 'DISTINCT');
    const body = k.find((c) => kind(c) === 'SqlExpression') ?? n;
    const parts = kind(body) === 'SqlExpression' ? kids(body) : k;
    for (const c of parts) {
      switch (kind(c)) {
        case 'TargetList':
        case 'Opt_target_list':
          for (const t of find(c, ['Target_label', 'Target_star'])) sel.items.push(this.target(t));
          break;
        case 'FromClause':
          sel.from = this.fromClause(c);
          break;
        case 'WhereClause':
          sel.where = this.expr(kids(c)[1]);
          break;
        case 'GroupClause':
          sel.groupBy.push(this.exprs(find(c, ['Expression'])));
          break;
        case 'HavingClause':
          sel.having = this.expr(kids(c)[1]);
          break;
        case 'WindowClause':
          sel.sort.push(this.exprs(find(c, ['Expression'])));
          break;
        case 'Distinct_clause':
        case 'DistinctClause':
          sel.distinct = true;
          break;
        default:
          break;
      }
    }
    return sel;
  }

  private target(t: PNode): SelectItem {
    const k = kids(t);
    if (kind(t) === 'Target_star' || (k.length === 1 && tok(k[0]) === '*')) return { expr: this.expr(undefined), star: { qualifier: [], except: [] } };
    const inner = k[0] as PNode;
    // `q.*`
    const text = this.text(inner);
    if (text.endsWith('*') && !text.includes('(')) {
      const parts = this.names.parts(inner).filter((p) => p !== '*');
      return { expr: this.expr(undefined), star: { qualifier: parts, except: [] } };
    }
    const exprNode = kind(inner) === 'SelectExpressionColumnName' || kind(inner) === 'SelectLiteralColumnName' ? inner : inner;
    const aliasNode = k.slice(1).find((c) => !c.symbol);
    const innerKids = kids(exprNode);
    // Some alternatives keep the alias inside the column-name node.
    const nestedAlias = innerKids.length > 1 && tok(innerKids[innerKids.length - 2]) === 'AS' ? innerKids[innerKids.length - 1] : undefined;
    const alias = aliasNode ? this.names.parts(aliasNode).pop() : nestedAlias ? this.names.parts(nestedAlias).pop() : undefined;
    return { expr: this.expr(nestedAlias ? innerKids[0] : exprNode), alias };
  }

  private fromClause(n: PNode | undefined): FromItem[] {
    const list = child(n, 'FromList');
    return list ? this.fromList(list) : [];
  }

  private fromList(n: PNode): FromItem[] {
    return childrenOf(n, 'TableRef').map((t) => this.tableRef(t));
  }

  private tableRef(n: PNode): FromItem {
    const k = kids(n);
    let i = 0;
    let left: FromItem;
    if (tok(k[0]) === '(') {
      const innerRef = k.find((c) => kind(c) === 'TableRef');
      if (!innerRef) this.unsupported('parenthesised relation');
      left = this.tableRef(innerRef);
      i = k.findIndex((c) => tok(c) === ')') + 1;
      const al = k[i];
      if (al && kind(al) === 'AliasClause' && left.kind === 'table') {
        left = { ...left, ...this.aliasOf(al) };
        i++;
      }
    } else {
      if (tok(k[0]) === 'LATERAL') i++;
      const prim = k[i] as PNode;
      i++;
      let alias: { alias?: string; columnAliases?: string[] } = {};
      const al = k[i];
      if (al && (kind(al) === 'AliasClause' || kind(al) === 'Func_alias_clause')) {
        alias = this.aliasOf(al);
        i++;
      }
      left = this.primary(prim, alias);
    }
    while (i < k.length) {
      const natural = tok(k[i]) === 'NATURAL';
      const joinAt = tokenIndex(n, 'JOIN', i);
      if (joinAt < 0) break;
      const right = k[joinAt + 1];
      if (!right || kind(right) !== 'TableRef') this.unsupported('join');
      const r = this.tableRef(right);
      const qual = k[joinAt + 2];
      i = joinAt + 2;
      if (qual && kind(qual) === 'JoinQual') {
        i++;
        if (hasToken(qual, 'USING')) left = { kind: 'join', left, right: r, natural, using: this.identList(qual) };
        else left = { kind: 'join', left, right: r, natural, on: this.expr(kids(qual)[1]) };
      } else left = { kind: 'join', left, right: r, natural: natural || hasToken(n, 'NATURAL') };
    }
    return left;
  }

  private primary(n: PNode, alias: { alias?: string; columnAliases?: string[] }): FromItem {
    switch (kind(n)) {
      case 'RelationExpr':
        return { kind: 'table', name: this.names.parts(first(n, 'TableName', 'QualifiedName')), ...alias };
      case 'ExpressionTable': {
        const sub = child(n, 'SelectWithParens');
        const al = child(n, 'AliasClause') ?? child(child(n, 'FuncAliasClause'), 'AliasClause');
        const ft = child(n, 'FuncTable');
        if (ft) return this.primary(ft, al ? this.aliasOf(al) : alias);
        if (!sub) this.unsupported('table expression');
        return { kind: 'derived', query: this.selectStatement(sub), ...(al ? this.aliasOf(al) : alias) };
      }
      case 'SelectWithParens':
        return { kind: 'derived', query: this.selectStatement(n), ...alias };
      case 'Func_table':
      case 'FuncTable': {
        const fn = first(n, 'FuncExprWindowless', 'Func_expr_windowless', 'FuncApplication', 'Func_application');
        const name = this.names.parts(first(fn, 'FunctionName', 'Func_name')).map((p) => p.toLowerCase());
        const args = find(fn, ['Func_arg_expr', 'Expression'], ['Expression']);
        return { kind: 'function', name: name.length ? name : ['unnest'], args: this.exprs(args), literalArgs: [], ...alias };
      }
      default:
        return this.unsupported(`table source ${kind(n)}`);
    }
  }
}
