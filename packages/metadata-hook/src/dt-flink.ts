/** Adapter from dt-sql-parser's Flink SQL grammar to the lineage tree. */
import { DtAdapter, type ExprRules } from './dt-adapter.ts';
import { child, childrenOf, find, first, hasToken, kids, kind, type PNode, tok, tokenIndex, tokens } from './dt-tree.ts';
import type { ColumnDef, Cte, FromItem, Query, QueryBody, Select, SelectItem, Statement } from './sql-ast.ts';

const RULES: ExprRules = {
  // TimeAttrColumn: the time column of a group window (`TUMBLE(ts, …)` in GROUP BY).
  columnRef: ['ColumnName', 'ColumnNamePath', 'ColumnNamePathAllowEmpty', 'TimeAttrColumn'],
  func: ['FunctionCall', 'FunctionCallExpression'],
  over: ['WindowSpec'],
  cases: ['SimpleCase', 'SearchedCase'],
  filter: [],
  query: ['SubqueryExpression', 'QueryStatement'],
  lambda: [],
  ignore: ['ColumnType', 'Constant', 'StringLiteral', 'TimeIntervalExpression', 'FunctionName', 'ConstantDefault'],
};

const IDENTS = ['UnquotedIdentifier', 'QuotedIdentifier', 'Uid', 'UidAllowEmpty'];

function unquote(text: string): string {
  const q = text.charAt(0);
  if ((q === "'" || q === '"') && text.endsWith(q) && text.length >= 2)
    return text
      .slice(1, -1)
      .split(q + q)
      .join(q);
  return text;
}

export class FlinkAdapter extends DtAdapter {
  constructor(source: string) {
    super('flink', source, RULES);
  }

  protected identKinds(): readonly string[] {
    return IDENTS;
  }

  protected funcName(n: PNode): string {
    const name = first(n, 'FunctionName');
    if (name) return (this.names.parts(name).pop() ?? '').toUpperCase();
    // Reserved words used as function names (SUM, COUNT…) are tokens of their own rule.
    return tok(tokens(n)[0]);
  }

  protected subquery(n: PNode): Query {
    if (kind(n) === 'SubqueryExpression') {
      const q = first(n, 'QueryStatement');
      if (!q) this.unsupported('subquery');
      return this.query(q);
    }
    return this.query(n);
  }

  statement(s: PNode): Statement {
    let n = kids(s)[0];
    while (
      kind(n) === 'SqlStatement' ||
      kind(n) === 'DmlStatement' ||
      kind(n) === 'DdlStatement' ||
      kind(n) === 'UtilityStatement' ||
      kind(n) === 'CreateTable'
    )
      n = kids(n)[0];
    if (!n || n.symbol) return { kind: 'other', keyword: tok(n) };
    switch (kind(n)) {
      case 'QueryStatement':
        return { kind: 'query', query: this.query(n) };
      case 'InsertStatement': {
        const mul = child(n, 'InsertMulStatement', 'InsertMulStatementCompatibility');
        if (mul) return { kind: 'block', statements: childrenOf(mul, 'InsertSimpleStatement').map((x) => this.insert(x)) };
        const simple = child(n, 'InsertSimpleStatement');
        if (!simple) this.unsupported('INSERT');
        return this.insert(simple);
      }
      case 'InsertSimpleStatement':
        return this.insert(n);
      case 'SimpleCreateTable':
      case 'CreateTableAsSelect': {
        const columns: ColumnDef[] = [];
        for (const def of childrenOf(n, 'ColumnOptionDefinition')) {
          const d = kids(def)[0] as PNode;
          const name = this.names.parts(child(d, 'ColumnNameCreate') ?? kids(d)[0]).pop() ?? '';
          if (kind(d) === 'ComputedColumnDefinition') columns.push({ name, type: '', computed: this.expr(child(d, 'ComputedColumnExpression')) });
          else columns.push({ name, type: this.text(child(d, 'ColumnType')) });
        }
        const options: Record<string, string> = {};
        for (const p of find(child(n, 'WithOption'), ['TableProperty'])) {
          const key = unquote(this.text(child(p, 'TablePropertyKey')));
          const value = unquote(this.text(child(p, 'TablePropertyValue')));
          options[key] = value;
        }
        const q = child(n, 'QueryStatement');
        const likeAt = tokenIndex(n, 'LIKE');
        return {
          kind: 'createTable',
          target: this.names.parts(child(n, 'TablePathCreate')),
          columns,
          query: q ? this.query(q) : undefined,
          like: likeAt >= 0 ? this.names.parts(kids(n)[likeAt + 1]) : undefined,
          options,
          temporary: hasToken(n, 'TEMPORARY'),
        };
      }
      case 'CreateView': {
        const cols = child(n, 'ColumnNameList');
        return {
          kind: 'createView',
          target: this.names.parts(child(n, 'ViewPathCreate')),
          columns: cols ? find(cols, ['ColumnName'], ['ColumnName']).map((c) => this.names.parts(c).pop() ?? '') : undefined,
          query: this.query(child(n, 'QueryStatement') as PNode),
          temporary: hasToken(n, 'TEMPORARY'),
          materialized: false,
        };
      }
      case 'UseStatement':
        return { kind: 'use', parts: this.names.parts(kids(n).find((c) => !c.symbol)) };
      default:
        return { kind: 'other', keyword: tok(kids(n)[0]) || kind(n) };
    }
  }

  private insert(n: PNode): Statement {
    const q = child(n, 'QueryStatement');
    if (!q) {
      const values = child(n, 'ValuesDefinition');
      if (!values) this.unsupported('INSERT without a query');
    }
    const cols = child(n, 'ColumnNameList');
    const query: Query = q
      ? this.query(q)
      : {
          ctes: [],
          body: {
            kind: 'values',
            rows: find(child(n, 'ValuesDefinition'), ['ValuesRowDefinition']).map((r) =>
              kids(r)
                .filter((x) => !x.symbol)
                .map((x) => this.expr(x)),
            ),
          },
          orderBy: [],
        };
    return {
      kind: 'insert',
      target: this.names.parts(child(n, 'TablePath')),
      columns: cols ? find(cols, ['ColumnName'], ['ColumnName']).map((c) => this.names.parts(c).pop() ?? '') : undefined,
      query,
      overwrite: hasToken(n, 'OVERWRITE'),
    };
  }

  query(n: PNode): Query {
    if (kind(n) !== 'QueryStatement') this.unsupported(`query ${kind(n)}`);
    const k = kids(n);
    const order = child(n, 'OrderByClause');
    const orderBy = order ? find(order, ['OrderItemDefinition']).map((o) => this.expr(kids(o)[0])) : [];
    const w = child(n, 'WithClause');
    if (w) {
      const ctes: Cte[] = childrenOf(w, 'WithItem').map((it) => {
        const nameNode = child(it, 'WithItemName');
        const cols = kids(it).filter((c) => kind(c) === 'ColumnName');
        return {
          name: this.names.parts(nameNode).pop() ?? '',
          columns: cols.length ? cols.map((c) => this.names.parts(c).pop() ?? '') : undefined,
          query: this.query(child(it, 'QueryStatement') as PNode),
          recursive: false,
        };
      });
      const inner = k.find((c) => kind(c) === 'QueryStatement');
      if (!inner) this.unsupported('WITH without a query');
      const q = this.query(inner);
      return { ctes: [...ctes, ...q.ctes], body: q.body, orderBy: [...q.orderBy, ...orderBy] };
    }
    return { ctes: [], body: this.body(n), orderBy };
  }

  private body(n: PNode): QueryBody {
    const k = kids(n);
    const subs = k.filter((c) => kind(c) === 'QueryStatement');
    const op = k.find((c) => ['UNION', 'INTERSECT', 'EXCEPT', 'MINUS'].includes(tok(c)));
    if (op && subs.length === 2) return { kind: 'setop', op: tok(op), left: this.body(subs[0] as PNode), right: this.body(subs[1] as PNode) };
    if (tok(k[0]) === '(' && subs.length === 1) return { kind: 'nested', query: this.query(subs[0] as PNode) };
    const sel = child(n, 'SelectStatement');
    if (sel) return this.select(kids(sel));
    if (child(n, 'SelectClause')) return this.select(k);
    const values = child(n, 'ValuesClause');
    if (values) {
      return {
        kind: 'values',
        rows: find(values, ['Expression']).map((e) => {
          const row = first(e, 'RowConstructor');
          return row ? childrenOf(row, 'Expression').map((x) => this.expr(x)) : [this.expr(e)];
        }),
      };
    }
    return this.unsupported(`query ${this.text(n).slice(0, 20)}`);
  }

  private select(parts: PNode[]): Select {
    const sel: Select = { kind: 'select', distinct: false, items: [], from: [], groupBy: [], sort: [] };
    for (const c of parts) {
      switch (kind(c)) {
        case 'SelectClause': {
          sel.distinct = tok(kids(child(c, 'SetQuantifier'))[0]) === 'DISTINCT';
          const list = child(c, 'SelectList');
          if (list && tok(kids(list)[0]) === '*' && kids(list).length === 1)
            sel.items.push({ expr: this.expr(undefined), star: { qualifier: [], except: [] } });
          for (const it of childrenOf(list, 'ColumnProjectItem')) sel.items.push(this.item(it));
          if (!list && hasToken(c, '*')) sel.items.push({ expr: this.expr(undefined), star: { qualifier: [], except: [] } });
          break;
        }
        case 'FromClause': {
          const te = child(c, 'TableExpression');
          if (te) sel.from = this.tableExpressionList(te);
          break;
        }
        case 'WhereClause':
          sel.where = this.expr(kids(c)[1]);
          break;
        case 'GroupByClause':
          sel.groupBy.push(this.exprs(childrenOf(c, 'GroupItemDefinition').flatMap((g) => kids(g).filter((x) => !x.symbol))));
          break;
        case 'HavingClause':
          sel.having = this.expr(kids(c)[1]);
          break;
        case 'WindowClause':
          sel.sort.push(this.exprs(find(c, ['Expression'])));
          break;
        default:
          break;
      }
    }
    return sel;
  }

  private item(n: PNode): SelectItem {
    const k = kids(n);
    const head = k[0] as PNode;
    if (kind(head) === 'TableAllColumns' || this.text(head).endsWith('*')) {
      return { expr: this.expr(undefined), star: { qualifier: this.names.parts(head).filter((p) => p !== '*'), except: [] } };
    }
    const al = child(n, 'ColumnAlias');
    let alias = al ? this.names.parts(kids(al).find((c) => !c.symbol)).pop() : undefined;
    // `f() OVER (…) AS a`: the alias sits inside the window item.
    const ow = first(head, 'OverWindowItem');
    if (ow && alias === undefined) {
      const owk = kids(ow);
      const asAt = tokenIndex(ow, 'AS');
      const last = owk[owk.length - 1];
      if (asAt >= 0) alias = this.names.parts(owk[asAt + 1]).pop();
      else if (last && !last.symbol && kind(last) !== 'WindowSpec' && kind(last) !== 'FunctionCall') alias = this.names.parts(last).pop();
    }
    return { expr: this.expr(head), alias };
  }

  /** `a, b` and `a JOIN b ON …` (the grammar nests both in tableExpression). */
  private tableExpressionList(n: PNode): FromItem[] {
    const k = kids(n);
    if (k.some((c) => tok(c) === ','))
      return k
        .filter((c) => !c.symbol)
        .flatMap((c) =>
          kind(c) === 'TableExpression'
            ? this.tableExpressionList(c)
            : kind(c) === 'TableReference'
              ? [this.tableReference(c)]
              : this.unsupported(`FROM item ${kind(c)}`),
        );
    return [this.tableExpression(n)];
  }

  private tableExpression(n: PNode): FromItem {
    const k = kids(n);
    const tes = k.filter((c) => kind(c) === 'TableExpression');
    if (tes.length === 2) {
      const left = this.tableExpression(tes[0] as PNode);
      const right = this.tableExpression(tes[1] as PNode);
      const natural = hasToken(n, 'NATURAL');
      const cond = child(n, 'JoinCondition');
      if (!cond) return { kind: 'join', left, right, natural };
      if (hasToken(cond, 'USING')) return { kind: 'join', left, right, natural, using: this.identList(cond) };
      return { kind: 'join', left, right, natural, on: this.expr(kids(cond)[1]) };
    }
    if (tes.length === 1 && tok(k[0]) === '(') return this.tableExpression(tes[0] as PNode);
    const ref = child(n, 'TableReference');
    if (ref) return this.tableReference(ref);
    const tvf = child(n, 'WindowTVFClause');
    if (tvf) return this.windowTvf(tvf);
    return this.unsupported(`table expression ${this.text(n).slice(0, 20)}`);
  }

  private tableReference(n: PNode): FromItem {
    const al = child(n, 'TableAlias');
    const ids = al ? kids(al).filter((c) => !c.symbol) : [];
    const alias = ids.length ? this.names.parts(ids[0]).pop() : undefined;
    const colAliases = al ? child(al, 'IdentifierList', 'ColumnNameList') : undefined;
    const columnAliases = colAliases ? this.identList(colAliases) : undefined;
    const prim = child(n, 'TablePrimary');
    if (!prim) this.unsupported('table reference');
    const path = child(prim, 'TablePath');
    if (path) return { kind: 'table', name: this.names.parts(path), alias, columnAliases };
    const atom = child(prim, 'AtomExpressionTable');
    if (atom) {
      const q = child(atom, 'QueryStatement');
      if (!q) this.unsupported('derived table');
      return { kind: 'derived', query: this.query(q), alias, columnAliases };
    }
    if (child(prim, 'QueryStatement')) return { kind: 'derived', query: this.query(child(prim, 'QueryStatement') as PNode), alias, columnAliases };
    const fn = first(prim, 'FunctionName');
    if (fn) {
      const args = find(prim, ['Expression', 'FunctionParam']);
      return { kind: 'function', name: this.names.parts(fn).map((p) => p.toLowerCase()), args: this.exprs(args), literalArgs: [], alias, columnAliases };
    }
    return this.unsupported(`table ${this.text(prim).slice(0, 20)}`);
  }

  private windowTvf(n: PNode): FromItem {
    const e = child(n, 'WindowTVFExpression');
    const fn = this.text(child(e, 'WindowTVFName'));
    let source: FromItem | undefined;
    const args = [];
    for (const p of childrenOf(e, 'WindowTVFParam')) {
      if (hasToken(p, 'TABLE')) source = { kind: 'table', name: this.names.parts(kids(p).find((c) => !c.symbol)) };
      else args.push(p);
    }
    if (!source) this.unsupported('window TVF without a table');
    const info = this.exprs([]);
    for (const a of args) {
      const d = first(a, 'ColumnDescriptor');
      if (d)
        info.refs.push(
          ...find(d, ['Uid', 'UnquotedIdentifier', 'QuotedIdentifier'], ['Uid', 'UnquotedIdentifier', 'QuotedIdentifier']).map((x) => this.names.columnRef(x)),
        );
      else {
        const x = this.expr(a);
        info.refs.push(...x.refs);
        info.subqueries.push(...x.subqueries);
      }
    }
    const al = kids(n).find((c) => kind(c) === 'TableAlias');
    return { kind: 'tvf', fn, source, args: info, alias: al ? this.names.parts(kids(al).find((c) => !c.symbol)).pop() : undefined };
  }
}
