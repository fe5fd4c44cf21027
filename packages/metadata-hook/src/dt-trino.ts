/** Adapter from dt-sql-parser's Trino grammar (also used for Presto) to the lineage tree. */
import { DtAdapter, type ExprRules } from './dt-adapter.ts';
import { child, childrenOf, find, first, hasToken, kids, kind, type PNode, tok, tokenIndex } from './dt-tree.ts';
import type { ColumnDef, Cte, ExprInfo, FromItem, MergeAction, Query, QueryBody, Select, SelectItem, Statement } from './sql-ast.ts';

const RULES: ExprRules = {
  columnRef: ['ColumnRef', 'ColumnName'],
  func: ['FunctionCall', 'ListAgg'],
  over: ['Over'],
  cases: ['SearchedCase', 'SimpleCase'],
  filter: ['Filter'],
  query: ['QueryStatement', 'QueryNoWith'],
  lambda: ['Lambda'],
  ignore: ['Type', 'IntervalLiteral', 'Interval', 'StringLiteral', 'NumericLiteral', 'BooleanLiteral', 'NullLiteral'],
};

const IDENTS = ['UnquotedIdentifier', 'QuotedIdentifier', 'BackQuotedIdentifier', 'DigitIdentifier'];

export class TrinoAdapter extends DtAdapter {
  constructor(dialect: 'trino' | 'presto', source: string) {
    super(dialect, source, RULES);
  }

  protected identKinds(): readonly string[] {
    return IDENTS;
  }

  protected funcName(n: PNode): string {
    const name = child(n, 'FunctionName');
    if (name) return (this.names.parts(name).pop() ?? '').toUpperCase();
    return tok(kids(n)[0]);
  }

  protected subquery(n: PNode): Query {
    return kind(n) === 'QueryNoWith' ? this.queryNoWith(n, []) : this.query(n);
  }

  statement(s: PNode): Statement {
    const n = kind(s) === 'SingleStatement' ? kids(s)[0] : s;
    if (!n) this.unsupported('empty statement');
    switch (kind(n)) {
      case 'StatementDefault':
        return { kind: 'query', query: this.rootQuery(n) };
      case 'InsertInto':
        return {
          kind: 'insert',
          target: this.names.parts(child(n, 'TableRef', 'TableName')),
          columns: child(n, 'ColumnList') ? this.identList(child(n, 'ColumnList')) : undefined,
          query: this.rootQuery(n),
          overwrite: false,
        };
      case 'CreateTableAsSelect':
        return {
          kind: 'createTable',
          target: this.names.parts(child(n, 'TableNameCreate')),
          columns: (child(n, 'ColumnAliases') ? this.identList(child(n, 'ColumnAliases')) : []).map((name) => ({ name, type: '' })),
          query: this.rootQuery(n),
          options: {},
          temporary: false,
        };
      case 'CreateTable': {
        const columns: ColumnDef[] = [];
        let like: string[] | undefined;
        for (const el of childrenOf(n, 'TableElement')) {
          const def = child(el, 'ColumnDefinition');
          if (def) {
            const name = this.names.parts(child(def, 'ColumnNameCreate') ?? kids(def)[0]).pop() ?? '';
            columns.push({ name, type: this.text(child(def, 'Type')) });
          }
          const lk = child(el, 'LikeClause');
          if (lk) like = this.names.parts(child(lk, 'TableRef', 'TableName', 'QualifiedName'));
        }
        return { kind: 'createTable', target: this.names.parts(child(n, 'TableNameCreate')), columns, like, options: {}, temporary: false };
      }
      case 'CreateView':
      case 'CreateMaterializedView':
        return {
          kind: 'createView',
          target: this.names.parts(child(n, 'ViewNameCreate')),
          query: this.rootQuery(n),
          temporary: false,
          materialized: kind(n) === 'CreateMaterializedView',
        };
      case 'Merge':
        return this.merge(n);
      case 'Update': {
        const sets = childrenOf(n, 'UpdateAssignment').map((a) => ({
          column: this.names.parts(kids(a)[0]).pop() ?? '',
          expr: this.expr(child(a, 'Expression')),
        }));
        return { kind: 'update', target: this.names.parts(child(n, 'TableRef')), sets, from: [], where: this.where(n) };
      }
      case 'Delete':
        return { kind: 'delete', target: this.names.parts(child(n, 'TableRef')), using: [], where: this.where(n) };
      case 'Use':
        return { kind: 'use', parts: this.names.parts(child(n, 'SchemaRef') ?? n).filter((p) => p.toUpperCase() !== 'USE') };
      default:
        return { kind: 'other', keyword: tok(kids(n)[0]) || kind(n) };
    }
  }

  private where(n: PNode): ExprInfo | undefined {
    const w = child(n, 'WhereClause');
    return w ? this.expr(kids(w)[1]) : undefined;
  }

  private rootQuery(n: PNode): Query {
    const root = child(n, 'RootQuery');
    const q = child(root, 'QueryStatement') ?? child(n, 'QueryStatement');
    if (!q) this.unsupported('statement without a query');
    return this.query(q);
  }

  private merge(n: PNode): Statement {
    const target = this.names.parts(child(n, 'TableRef'));
    const k = kids(n);
    const using = tokenIndex(n, 'USING');
    const aliasNode = k.slice(1, using).find((c) => IDENTS.includes(kind(c)));
    const source = this.relation(k[using + 1] as PNode);
    const on = this.expr(k[tokenIndex(n, 'ON') + 1]);
    const actions: MergeAction[] = [];
    for (const c of k) {
      const ck = kind(c);
      if (ck !== 'MergeUpdate' && ck !== 'MergeDelete' && ck !== 'MergeInsert') continue;
      const ck2 = kids(c);
      const andAt = tokenIndex(c, 'AND');
      const cond = andAt >= 0 ? this.expr(ck2[andAt + 1]) : undefined;
      if (ck === 'MergeDelete') actions.push({ kind: 'delete', cond });
      else if (ck === 'MergeUpdate') {
        const sets: { column: string; expr: ExprInfo }[] = [];
        for (let i = tokenIndex(c, 'SET') + 1; i < ck2.length; i++) {
          if (tok(ck2[i + 1]) === '=') {
            sets.push({ column: this.names.parts(ck2[i]).pop() ?? '', expr: this.expr(ck2[i + 2]) });
            i += 2;
          }
        }
        actions.push({ kind: 'update', sets, star: false, cond });
      } else {
        const values = tokenIndex(c, 'VALUES');
        const cols = ck2.slice(tokenIndex(c, 'INSERT') + 1, values).filter((x) => IDENTS.includes(kind(x)));
        actions.push({
          kind: 'insert',
          columns: cols.length ? cols.map((x) => this.names.parts(x).pop() ?? '') : undefined,
          values: ck2
            .slice(values + 1)
            .filter((x) => kind(x) === 'Expression')
            .map((x) => this.expr(x)),
          star: false,
          cond,
        });
      }
    }
    return { kind: 'merge', target, alias: aliasNode ? this.names.parts(aliasNode).pop() : undefined, source, on, actions };
  }

  query(n: PNode): Query {
    const w = child(n, 'With');
    const ctes: Cte[] = [];
    if (w) {
      const recursive = hasToken(w, 'RECURSIVE');
      for (const nq of childrenOf(w, 'NamedQuery')) {
        const nameNode = kids(nq).find((c) => IDENTS.includes(kind(c)) || kind(c) === 'Identifier');
        const aliases = child(nq, 'ColumnAliases');
        ctes.push({
          name: this.names.parts(nameNode).pop() ?? '',
          columns: aliases ? this.identList(aliases) : undefined,
          query: this.query(child(nq, 'QueryStatement') as PNode),
          recursive,
        });
      }
    }
    const body = child(n, 'QueryNoWith');
    if (!body) this.unsupported('query without a body');
    return this.queryNoWith(body, ctes);
  }

  private queryNoWith(n: PNode, ctes: Cte[]): Query {
    const k = kids(n);
    const orderAt = tokenIndex(n, 'ORDER');
    const orderBy =
      orderAt >= 0
        ? k
            .slice(orderAt)
            .filter((c) => kind(c) === 'SortItem')
            .map((c) => this.expr(kids(c)[0]))
        : [];
    return { ctes, body: this.queryTerm(k[0] as PNode), orderBy };
  }

  private queryTerm(n: PNode): QueryBody {
    switch (kind(n)) {
      case 'QueryTermDefault':
        return this.queryPrimary(kids(n)[0] as PNode);
      case 'SetOperation': {
        const k = kids(n);
        const terms = k.filter((c) => !c.symbol && kind(c) !== 'SetQuantifier');
        const op = k.find((c) => ['UNION', 'INTERSECT', 'EXCEPT'].includes(tok(c)));
        return { kind: 'setop', op: tok(op) || 'UNION', left: this.queryTerm(terms[0] as PNode), right: this.queryTerm(terms[1] as PNode) };
      }
      default:
        return this.queryPrimary(n);
    }
  }

  private queryPrimary(n: PNode): QueryBody {
    switch (kind(n)) {
      case 'QueryPrimaryDefault':
        return this.select(child(n, 'QuerySpecification') as PNode);
      case 'QuerySpecification':
        return this.select(n);
      case 'Subquery':
        return { kind: 'nested', query: this.queryNoWith(child(n, 'QueryNoWith') as PNode, []) };
      case 'Table':
        return { kind: 'tableRef', name: this.names.parts(child(n, 'TableRef', 'QualifiedName', 'TableName')) };
      case 'InlineTable':
        return {
          kind: 'values',
          rows: childrenOf(n, 'Expression').map((e) => {
            const row = first(e, 'RowConstructor');
            return row && this.text(row) === this.text(e) ? childrenOf(row, 'Expression').map((x) => this.expr(x)) : [this.expr(e)];
          }),
        };
      default:
        return this.unsupported(`query term ${kind(n)}`);
    }
  }

  private select(n: PNode): Select {
    const sel: Select = { kind: 'select', distinct: false, items: [], from: [], groupBy: [], sort: [] };
    const q = child(n, 'SetQuantifier');
    sel.distinct = tok(kids(q)[0]) === 'DISTINCT';
    for (const item of childrenOf(child(n, 'SelectList'), 'SelectItem', 'SelectAllWithoutTable', 'SelectAll')) sel.items.push(this.selectItem(item));
    const k = kids(n);
    const fromAt = tokenIndex(n, 'FROM');
    if (fromAt >= 0) {
      for (let i = fromAt + 1; i < k.length; i++) {
        const c = k[i] as PNode;
        if (tok(c) === ',') continue;
        if (c.symbol || !kind(c).includes('Relation')) break;
        sel.from.push(this.relation(c));
      }
    }
    const w = child(n, 'WhereClause');
    if (w) sel.where = this.expr(kids(w)[1]);
    const g = child(n, 'GroupBy');
    if (g) sel.groupBy.push(this.exprs(find(g, ['Expression', 'ColumnRef'])));
    const h = child(n, 'HavingClause');
    if (h) sel.having = this.expr(kids(h)[1]);
    const win = kids(n).filter((c) => kind(c) === 'WindowDefinition');
    for (const wd of win) sel.sort.push(this.exprs(find(wd, ['Expression'])));
    return sel;
  }

  private selectItem(n: PNode): SelectItem {
    const inner = kids(n).length === 1 && !kids(n)[0]?.symbol ? (kids(n)[0] as PNode) : n;
    const ik = kids(inner);
    if (tok(ik[ik.length - 1]) === '*' || kind(inner) === 'SelectAllWithoutTable') {
      const qual = ik.filter((c) => !c.symbol);
      return { expr: this.expr(undefined), star: { qualifier: qual.flatMap((c) => this.names.parts(c)), except: [] } };
    }
    if (tok(ik[1]) === '.' && tok(ik[2]) === '*') {
      return { expr: this.expr(undefined), star: { qualifier: this.names.parts(ik[0]), except: [] } };
    }
    const exprNode = ik[0] as PNode;
    const rest = ik.slice(1).filter((c) => !c.symbol);
    const alias = rest.length ? this.names.parts(rest[rest.length - 1]).pop() : undefined;
    return { expr: this.expr(exprNode), alias };
  }

  relation(n: PNode): FromItem {
    switch (kind(n)) {
      case 'RelationDefault':
        return this.sampled(child(n, 'SampledRelation') as PNode);
      case 'SampledRelation':
        return this.sampled(n);
      case 'JoinRelation': {
        const k = kids(n);
        const left = this.relation(k[0] as PNode);
        const rightNode = k.slice(1).find((c) => ['SampledRelation', 'RelationDefault', 'JoinRelation'].includes(kind(c)));
        if (!rightNode) this.unsupported('join without a right side');
        const right = this.relation(rightNode);
        const crit = child(n, 'JoinCriteria');
        const natural = hasToken(n, 'NATURAL');
        if (!crit) return { kind: 'join', left, right, natural };
        if (hasToken(crit, 'USING')) return { kind: 'join', left, right, natural, using: this.identList(crit) };
        return {
          kind: 'join',
          left,
          right,
          natural,
          on: this.exprs(
            kids(crit)
              .slice(1)
              .filter((c) => !c.symbol),
          ),
        };
      }
      default:
        return this.unsupported(`relation ${kind(n)}`);
    }
  }

  private sampled(n: PNode): FromItem {
    const aliased = first(n, 'AliasedRelation');
    if (!aliased) this.unsupported('relation');
    const k = kids(aliased);
    const prim = k[0] as PNode;
    const idents = k.slice(1).filter((c) => IDENTS.includes(kind(c)) || kind(c) === 'Identifier');
    const alias = idents.length ? this.names.parts(idents[0]).pop() : undefined;
    const colAliases = child(aliased, 'ColumnAliases');
    const columnAliases = colAliases ? this.identList(colAliases) : undefined;
    return this.primary(prim, alias, columnAliases);
  }

  private primary(n: PNode, alias: string | undefined, columnAliases: string[] | undefined): FromItem {
    const k = kind(n);
    if (k === 'TableName') return { kind: 'table', name: this.names.parts(first(n, 'TableRef') ?? n), alias, columnAliases };
    if (k === 'ParenthesizedRelation') {
      const inner = this.relation(kids(n)[1] as PNode);
      return alias !== undefined && inner.kind === 'table' ? { ...inner, alias } : inner;
    }
    if (k === 'ExpressionSourceTable' || k === 'RelationSourceTable') return this.primary(kids(n)[0] as PNode, alias, columnAliases);
    if (k === 'SubqueryRelation' || k === 'Lateral') {
      const q = child(n, 'QueryStatement');
      if (!q) this.unsupported('subquery relation');
      return { kind: 'derived', query: this.query(q), alias, columnAliases };
    }
    if (k === 'Unnest') {
      return { kind: 'function', name: ['unnest'], args: this.exprs(childrenOf(n, 'Expression')), literalArgs: [], alias, columnAliases };
    }
    return this.unsupported(`table source ${k}`);
  }
}
