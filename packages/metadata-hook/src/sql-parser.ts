import { DIALECT_RULES, type Dialect } from './dialect.ts';
import type { ColumnDef, Cte, ExprInfo, FromItem, InsertBranch, MergeAction, Query, QueryBody, Select, SelectItem, Statement } from './sql-ast.ts';
import { SqlSyntaxError, splitStatements, type Token, tokenize } from './sql-lexer.ts';

/** One statement of a script: its text and its tree, or the reason it could not be parsed. */
export interface ParsedStatement {
  index: number;
  text: string;
  statement?: Statement;
  error?: SqlSyntaxError;
}

/** Words that end an expression or cannot be an implicit alias. */
const CLAUSE_WORDS = new Set(
  (
    'FROM WHERE GROUP HAVING ORDER LIMIT OFFSET FETCH UNION INTERSECT EXCEPT MINUS WINDOW QUALIFY INTO ON USING JOIN INNER LEFT RIGHT FULL ' +
    'CROSS NATURAL OUTER SEMI ANTI LATERAL WHEN THEN ELSE END AND OR NOT IS IN AS SET VALUES SELECT WITH INSERT PARTITION CLUSTER ' +
    'DISTRIBUTE SORT TABLESAMPLE FOR RETURNING EMIT MATCH_RECOGNIZE PIVOT UNPIVOT ASOF POSITIONAL LIKE ILIKE BETWEEN ESCAPE COLLATE ' +
    'OVER FILTER WITHIN RESPECT IGNORE NULLS BY ASC DESC NULLS FIRST LAST DO CONFLICT DUPLICATE TO MATCHED'
  ).split(' '),
);

/** Unquoted words that are never column references. */
const NOT_COLUMNS = new Set(
  (
    'NULL TRUE FALSE UNKNOWN CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP LOCALTIME LOCALTIMESTAMP CURRENT_USER SESSION_USER USER ' +
    'CURRENT_CATALOG CURRENT_SCHEMA CURRENT_ROLE SYSDATE DEFAULT DISTINCT ALL AND OR NOT IS IN LIKE ILIKE RLIKE REGEXP SIMILAR BETWEEN ' +
    'CASE WHEN THEN ELSE END AS ESCAPE BOTH LEADING TRAILING ASC DESC NULLS FIRST LAST ROWS RANGE GROUPS UNBOUNDED PRECEDING ' +
    'FOLLOWING CURRENT ROW DIV MOD XOR SEPARATOR ARRAY MAP STRUCT ROW INTERVAL'
  ).split(' '),
);

const AGGREGATES = new Set(
  (
    'COUNT SUM AVG MIN MAX STDDEV STDDEV_POP STDDEV_SAMP VARIANCE VAR_POP VAR_SAMP ARRAY_AGG STRING_AGG LISTAGG GROUP_CONCAT ' +
    'COLLECT_LIST COLLECT_SET APPROX_DISTINCT APPROX_COUNT_DISTINCT APPROX_PERCENTILE PERCENTILE PERCENTILE_CONT PERCENTILE_DISC ' +
    'BOOL_AND BOOL_OR EVERY ANY_VALUE ARBITRARY FIRST_VALUE LAST_VALUE MEDIAN MODE COUNT_IF COUNTIF MAX_BY MIN_BY ARG_MAX ARG_MIN ' +
    'BIT_AND BIT_OR JSON_AGG JSONB_AGG JSON_ARRAYAGG JSON_OBJECTAGG HISTOGRAM LIST FIRST LAST CORR COVAR_POP COVAR_SAMP'
  ).split(' '),
);

const MASKING = new Set('MD5 SHA SHA1 SHA2 SHA256 SHA512 HASH XXHASH64 MURMUR3 CRC32 FARM_FINGERPRINT MASK MASK_HASH HMAC_SHA256 TO_HEX'.split(' '));

const TIME_UNIT_FIRST_ARG = new Set('TIMESTAMPADD TIMESTAMPDIFF DATEADD DATEDIFF DATE_DIFF DATE_ADD DATEPART DATETRUNC'.split(' '));
const TIME_UNITS = new Set(
  'YEAR YEARS QUARTER MONTH MONTHS WEEK WEEKS DAY DAYS HOUR HOURS MINUTE MINUTES SECOND SECONDS MILLISECOND MICROSECOND NANOSECOND DOW DOY EPOCH'.split(' '),
);

const JOIN_WORDS = new Set(['JOIN', 'INNER', 'LEFT', 'RIGHT', 'FULL', 'CROSS', 'NATURAL', 'OUTER', 'SEMI', 'ANTI', 'ASOF', 'POSITIONAL', 'STRAIGHT_JOIN']);

function emptyInfo(): ExprInfo {
  return { refs: [], condRefs: [], windowRefs: [], subqueries: [], aggregate: false, masking: false, text: '' };
}

/** Parses a script of one or more statements. Statements that fail to parse carry their error. */
export function parseScript(sql: string, dialect: Dialect): ParsedStatement[] {
  let tokens: Token[];
  try {
    tokens = tokenize(sql, dialect);
  } catch (e) {
    const error = e instanceof SqlSyntaxError ? e : new SqlSyntaxError(String(e), 0);
    return [{ index: 0, text: sql, error }];
  }
  return splitStatements(tokens).map((stmtTokens, index) => {
    const first = stmtTokens[0];
    const last = stmtTokens[stmtTokens.length - 1];
    const text = first && last ? sql.slice(first.start, last.end) : '';
    try {
      return { index, text, statement: new StatementParser(stmtTokens, sql, dialect).parseStatement() };
    } catch (e) {
      const error = e instanceof SqlSyntaxError ? e : new SqlSyntaxError(e instanceof Error ? e.message : String(e), first?.start ?? 0);
      return { index, text, error };
    }
  });
}

/** A recursive-descent parser over one statement's tokens. */
class StatementParser {
  private pos = 0;
  private readonly rules;
  /** Stack of collectors that expressions report their column references to. */
  private lambdaParams: Set<string>[] = [];

  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
    private readonly dialect: Dialect,
  ) {
    this.rules = DIALECT_RULES[dialect];
  }

  // ---- token helpers ----

  private peek(k = 0): Token | undefined {
    return this.tokens[this.pos + k];
  }

  private atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }

  private isWord(v: string, k = 0): boolean {
    const t = this.peek(k);
    return t?.kind === 'word' && t.value === v;
  }

  private isOp(v: string, k = 0): boolean {
    const t = this.peek(k);
    return t?.kind === 'op' && t.value === v;
  }

  private eatWord(...vs: string[]): boolean {
    const t = this.peek();
    if (t?.kind === 'word' && vs.includes(t.value)) {
      this.pos++;
      return true;
    }
    return false;
  }

  private eatWords(...vs: string[]): boolean {
    for (let k = 0; k < vs.length; k++) if (!this.isWord(vs[k] ?? '', k)) return false;
    this.pos += vs.length;
    return true;
  }

  private eatOp(v: string): boolean {
    if (this.isOp(v)) {
      this.pos++;
      return true;
    }
    return false;
  }

  private fail(what: string): never {
    const t = this.peek();
    const at = t ? `'${t.text}'` : 'end of statement';
    throw new SqlSyntaxError(`expected ${what} but found ${at}`, t?.start ?? this.source.length);
  }

  private expectWord(v: string): void {
    if (!this.eatWord(v)) this.fail(v);
  }

  private expectOp(v: string): void {
    if (!this.eatOp(v)) this.fail(`'${v}'`);
  }

  /** Skips a balanced parenthesised group starting at `(`. */
  private skipParens(): void {
    this.expectOp('(');
    let depth = 1;
    while (depth > 0) {
      const t = this.peek();
      if (!t) this.fail("')'");
      if (t.kind === 'op' && t.value === '(') depth++;
      if (t.kind === 'op' && t.value === ')') depth--;
      this.pos++;
    }
  }

  private fold(t: Token): string {
    if (t.kind === 'qident') return this.rules.foldQuoted === 'lower' ? t.value.toLowerCase() : t.value;
    return this.rules.foldUnquoted === 'lower' ? t.text.toLowerCase() : t.text;
  }

  private isIdentToken(t: Token | undefined): boolean {
    return t !== undefined && (t.kind === 'word' || t.kind === 'qident');
  }

  /** An identifier (word or quoted). */
  private ident(): string {
    const t = this.peek();
    if (!t || !this.isIdentToken(t)) this.fail('an identifier');
    this.pos++;
    return this.fold(t);
  }

  /** A dotted name such as `catalog.schema.table`. */
  private qualifiedName(): string[] {
    const parts = [this.ident()];
    while (this.isOp('.') && this.isIdentToken(this.peek(1))) {
      this.pos++;
      parts.push(this.ident());
    }
    return parts;
  }

  private identList(): string[] {
    this.expectOp('(');
    const out: string[] = [];
    do {
      out.push(this.ident());
      // Column lists in DDL-like places may carry types or sort orders; skip to the comma.
      while (!this.atEnd() && !this.isOp(',') && !this.isOp(')')) {
        if (this.isOp('(')) this.skipParens();
        else this.pos++;
      }
    } while (this.eatOp(','));
    this.expectOp(')');
    return out;
  }

  private textFrom(startPos: number): string {
    const a = this.tokens[startPos];
    const b = this.tokens[this.pos - 1];
    return a && b && this.pos > startPos ? this.source.slice(a.start, b.end) : '';
  }

  // ---- statements ----

  parseStatement(): Statement {
    const stmt = this.statement();
    if (!this.atEnd()) this.fail('end of statement');
    return stmt;
  }

  private statement(): Statement {
    const t = this.peek();
    if (!t) this.fail('a statement');
    if (this.isOp('(')) return { kind: 'query', query: this.query() };
    switch (t.value) {
      case 'SELECT':
      case 'VALUES':
      case 'TABLE':
        return { kind: 'query', query: this.query() };
      case 'WITH':
        return this.withStatement();
      case 'FROM':
        return this.fromFirst([]);
      case 'INSERT':
      case 'REPLACE':
      case 'UPSERT':
        return this.insert();
      case 'CREATE':
        return this.create();
      case 'MERGE':
        return this.merge();
      case 'UPDATE':
        return this.update();
      case 'DELETE':
        return this.deleteStmt();
      case 'USE':
        this.pos++;
        this.eatWord('DATABASE', 'SCHEMA', 'CATALOG');
        return { kind: 'use', parts: this.qualifiedName() };
      case 'EXECUTE':
      case 'BEGIN':
        if (this.isWord('STATEMENT', 1) || this.isWord('STATEMENT', 2) || t.value === 'BEGIN') return this.statementSet();
        break;
      case 'EXPLAIN':
        this.pos++;
        this.pos = this.tokens.length;
        return { kind: 'other', keyword: 'EXPLAIN' };
    }
    if (!OTHER_STATEMENTS.has(t.value)) this.fail('a statement');
    this.pos = this.tokens.length;
    return { kind: 'other', keyword: t.value };
  }

  /** Flink `EXECUTE STATEMENT SET BEGIN …; …; END` and bare `BEGIN STATEMENT SET; …` blocks. */
  private statementSet(): Statement {
    this.eatWord('EXECUTE');
    this.eatWords('STATEMENT', 'SET');
    this.expectWord('BEGIN');
    this.eatWords('STATEMENT', 'SET');
    const statements: Statement[] = [];
    while (!this.atEnd() && !this.isWord('END')) {
      if (this.eatOp(';')) continue;
      statements.push(this.statement());
    }
    this.expectWord('END');
    return { kind: 'block', statements };
  }

  private withStatement(): Statement {
    const ctes = this.withClause();
    if (this.isWord('INSERT')) {
      const ins = this.insert();
      if (ins.kind === 'insert') ins.query.ctes.unshift(...ctes);
      return ins;
    }
    if (this.isWord('FROM')) return this.fromFirst(ctes);
    const query = this.queryAfterWith(ctes);
    return { kind: 'query', query };
  }

  private withClause(): Cte[] {
    this.expectWord('WITH');
    const recursive = this.eatWord('RECURSIVE');
    const ctes: Cte[] = [];
    do {
      const name = this.ident();
      const columns = this.isOp('(') ? this.identList() : undefined;
      this.expectWord('AS');
      this.eatWord('NOT');
      this.eatWord('MATERIALIZED');
      this.expectOp('(');
      const query = this.query();
      this.expectOp(')');
      ctes.push({ name, columns, query, recursive });
    } while (this.eatOp(','));
    return ctes;
  }

  /** `FROM src INSERT … SELECT … [INSERT …]` (Hive multi-insert) or DuckDB's `FROM t [SELECT …]`. */
  private fromFirst(ctes: Cte[]): Statement {
    this.expectWord('FROM');
    const from = this.fromList();
    if (this.isWord('INSERT')) {
      const branches: InsertBranch[] = [];
      while (this.eatWord('INSERT')) {
        const overwrite = this.eatWord('OVERWRITE');
        if (!overwrite) this.expectWord('INTO');
        if (this.eatWord('LOCAL')) this.expectWord('DIRECTORY');
        let directory: string | undefined;
        let target: string[] = [];
        if (this.eatWord('DIRECTORY')) {
          directory = this.peek()?.value ?? '';
          this.pos++;
        } else {
          this.eatWord('TABLE');
          target = this.qualifiedName();
          this.partitionSpec();
        }
        const columns = this.isOp('(') && !this.isWord('SELECT', 1) ? this.identList() : undefined;
        const select = this.selectBlock(from);
        branches.push({ target, columns, select, overwrite, directory });
      }
      return { kind: 'multiInsert', ctes, from, branches };
    }
    // DuckDB: FROM t SELECT …, or FROM t alone (SELECT *).
    const select = this.isWord('SELECT') ? this.selectBlock(from) : this.selectTail(this.starSelect(from));
    const query: Query = { ctes, body: select, orderBy: [] };
    this.queryTail(query);
    return { kind: 'query', query };
  }

  private starSelect(from: FromItem[]): Select {
    return {
      kind: 'select',
      distinct: false,
      items: [{ expr: emptyInfo(), star: { qualifier: [], except: [] } }],
      from,
      groupBy: [],
      sort: [],
    };
  }

  private partitionSpec(): void {
    if (this.eatWord('PARTITION')) this.skipParens();
  }

  private insert(): Statement {
    let overwrite = false;
    if (this.eatWord('REPLACE') || this.eatWord('UPSERT')) {
      this.eatWord('INTO');
    } else {
      this.expectWord('INSERT');
      if (this.eatWord('OR')) this.eatWord('REPLACE', 'IGNORE', 'ABORT', 'FAIL', 'ROLLBACK');
      this.eatWord('IGNORE', 'LOW_PRIORITY', 'HIGH_PRIORITY', 'DELAYED');
      overwrite = this.eatWord('OVERWRITE');
      if (!overwrite) this.expectWord('INTO');
    }
    let directory: string | undefined;
    let target: string[] = [];
    if (this.eatWord('LOCAL')) this.expectWord('DIRECTORY');
    if (this.eatWord('DIRECTORY')) {
      directory = this.peek()?.value ?? '';
      this.pos++;
      while (!this.atEnd() && !this.isWord('SELECT') && !this.isWord('WITH') && !this.isWord('FROM')) this.pos++;
    } else {
      this.eatWord('TABLE');
      target = this.qualifiedName();
      // PostgreSQL `INSERT INTO t AS alias`.
      if (this.eatWord('AS')) this.ident();
      this.partitionSpec();
      this.eatWord('IF') && this.eatWords('NOT', 'EXISTS');
    }
    this.eatWords('BY', 'NAME');
    this.eatWords('BY', 'POSITION');
    let columns: string[] | undefined;
    if (this.isOp('(') && !this.isWord('SELECT', 1) && !this.isWord('WITH', 1) && !this.isWord('VALUES', 1)) columns = this.identList();
    this.eatWord('OVERRIDING') && this.eatWord('SYSTEM', 'USER') && this.eatWord('VALUE');
    let query: Query;
    if (this.eatWords('DEFAULT', 'VALUES')) {
      query = { ctes: [], body: { kind: 'values', rows: [] }, orderBy: [] };
    } else if (this.isWord('FROM')) {
      const stmt = this.fromFirst([]);
      if (stmt.kind !== 'query') this.fail('SELECT');
      query = stmt.query;
    } else if (this.isWord('SET') && this.dialect === 'mysql') {
      this.pos++;
      const sets = this.assignments();
      query = {
        ctes: [],
        body: { kind: 'values', rows: [sets.map((s) => s.expr)] },
        orderBy: [],
      };
      columns = sets.map((s) => s.column);
    } else {
      query = this.query();
    }
    // Upsert tails read only the target and the inserted row.
    if (this.eatWord('ON')) {
      this.pos = this.tokens.length;
    }
    if (this.eatWord('RETURNING')) this.pos = this.tokens.length;
    return { kind: 'insert', target, columns, query, overwrite, directory };
  }

  private create(): Statement {
    this.expectWord('CREATE');
    if (this.eatWord('OR')) this.expectWord('REPLACE');
    let temporary = false;
    let materialized = false;
    for (;;) {
      if (this.eatWord('TEMP', 'TEMPORARY', 'VOLATILE')) temporary = true;
      else if (this.eatWord('GLOBAL', 'LOCAL', 'EXTERNAL', 'TRANSIENT', 'UNLOGGED', 'MANAGED', 'SECURE', 'RECURSIVE')) {
        // modifiers without lineage meaning
      } else if (this.eatWord('MATERIALIZED')) materialized = true;
      else if (this.eatWord('SYSTEM')) temporary = true;
      else break;
    }
    if (this.eatWord('VIEW')) {
      this.eatWord('IF') && this.eatWords('NOT', 'EXISTS');
      const target = this.qualifiedName();
      const columns = this.isOp('(') ? this.identList() : undefined;
      while (!this.atEnd() && !this.isWord('AS')) {
        if (this.isOp('(')) this.skipParens();
        else this.pos++;
      }
      this.expectWord('AS');
      const query = this.query();
      this.eatWords('WITH', 'NO', 'DATA') || this.eatWords('WITH', 'DATA');
      if (this.eatWord('WITH')) this.eatWord('CASCADED', 'LOCAL');
      this.eatWords('CHECK', 'OPTION');
      return { kind: 'createView', target, columns, query, temporary, materialized };
    }
    if (!this.eatWord('TABLE')) {
      this.pos = this.tokens.length;
      return { kind: 'other', keyword: 'CREATE' };
    }
    this.eatWord('IF') && this.eatWords('NOT', 'EXISTS');
    const target = this.qualifiedName();
    const columns: ColumnDef[] = [];
    const options: Record<string, string> = {};
    let like: string[] | undefined;
    let query: Query | undefined;
    if (this.isOp('(') && !this.isWord('SELECT', 1) && !this.isWord('WITH', 1)) this.columnDefs(columns);
    while (!this.atEnd()) {
      if (this.eatWord('AS')) {
        query = this.query();
        this.eatWords('WITH', 'NO', 'DATA');
        this.eatWords('WITH', 'DATA');
        continue;
      }
      if (this.isWord('SELECT') || this.isWord('WITH') || (this.isOp('(') && (this.isWord('SELECT', 1) || this.isWord('WITH', 1)))) {
        if (this.isWord('WITH') && this.isOp('(', 1)) {
          this.pos++;
          this.options(options);
          continue;
        }
        query = this.query();
        continue;
      }
      if (this.eatWord('LIKE')) {
        like = this.qualifiedName();
        continue;
      }
      if ((this.isWord('WITH') || this.isWord('TBLPROPERTIES') || this.isWord('OPTIONS')) && this.isOp('(', 1)) {
        this.pos++;
        this.options(options);
        continue;
      }
      if (this.isOp('(')) {
        this.skipParens();
        continue;
      }
      this.pos++;
    }
    return { kind: 'createTable', target, columns, query, like, options, temporary };
  }

  private options(into: Record<string, string>): void {
    this.expectOp('(');
    while (!this.atEnd() && !this.isOp(')')) {
      const k = this.peek();
      this.pos++;
      let key = k?.value ?? '';
      if (k?.kind === 'word') key = k.text;
      while (this.isOp('.') && this.peek(1)) {
        this.pos++;
        key += `.${this.peek()?.text ?? ''}`;
        this.pos++;
      }
      this.eatOp('=');
      const v = this.peek();
      if (v && !this.isOp(',') && !this.isOp(')')) {
        into[key] = v.kind === 'word' ? v.text : v.value;
        this.pos++;
      }
      if (this.isOp('(')) this.skipParens();
      this.eatOp(',');
    }
    this.expectOp(')');
  }

  private columnDefs(into: ColumnDef[]): void {
    this.expectOp('(');
    for (;;) {
      if (
        this.isWord('PRIMARY') ||
        this.isWord('CONSTRAINT') ||
        this.isWord('WATERMARK') ||
        this.isWord('UNIQUE') ||
        this.isWord('FOREIGN') ||
        this.isWord('CHECK') ||
        this.isWord('PERIOD') ||
        this.isWord('INDEX') ||
        this.isWord('KEY') ||
        this.isWord('LIKE')
      ) {
        this.skipToComma();
      } else {
        const name = this.ident();
        if (this.eatWord('AS')) {
          const computed = this.expr();
          into.push({ name, type: '', computed });
          this.skipToComma();
        } else {
          const start = this.pos;
          this.skipToComma();
          const typeText = this.textFrom(start);
          into.push({ name, type: typeOnly(typeText) });
        }
      }
      if (!this.eatOp(',')) break;
    }
    this.expectOp(')');
  }

  private skipToComma(): void {
    while (!this.atEnd() && !this.isOp(',') && !this.isOp(')')) {
      if (this.isOp('(')) this.skipParens();
      else if (this.isOp('<')) this.skipAngles();
      else this.pos++;
    }
  }

  private skipAngles(): void {
    let depth = 0;
    do {
      if (this.isOp('<')) depth++;
      else if (this.isOp('>')) depth--;
      else if (this.isOp('>>')) depth -= 2;
      this.pos++;
    } while (!this.atEnd() && depth > 0);
  }

  private merge(): Statement {
    this.expectWord('MERGE');
    this.eatWord('INTO');
    const target = this.qualifiedName();
    const alias = this.optAlias();
    this.expectWord('USING');
    const source = this.fromItem();
    this.expectWord('ON');
    const on = this.expr();
    const actions: MergeAction[] = [];
    while (this.eatWord('WHEN')) {
      this.eatWord('NOT');
      this.expectWord('MATCHED');
      if (this.eatWord('BY')) this.eatWord('SOURCE', 'TARGET');
      const cond = this.eatWord('AND') ? this.expr() : undefined;
      this.expectWord('THEN');
      if (this.eatWord('DELETE')) {
        actions.push({ kind: 'delete', cond });
      } else if (this.eatWord('UPDATE')) {
        this.expectWord('SET');
        if (this.eatOp('*')) actions.push({ kind: 'update', sets: [], star: true, cond });
        else actions.push({ kind: 'update', sets: this.assignments(), star: false, cond });
      } else if (this.eatWord('INSERT')) {
        if (this.eatOp('*')) {
          actions.push({ kind: 'insert', values: [], star: true, cond });
        } else if (this.eatWords('ROW')) {
          actions.push({ kind: 'insert', values: [], star: true, cond });
        } else {
          const columns = this.isOp('(') ? this.identList() : undefined;
          this.expectWord('VALUES');
          this.expectOp('(');
          const values: ExprInfo[] = [];
          do values.push(this.expr());
          while (this.eatOp(','));
          this.expectOp(')');
          actions.push({ kind: 'insert', columns, values, star: false, cond });
        }
      } else if (this.eatWords('DO', 'NOTHING')) {
        // PostgreSQL 15+: no effect on lineage.
      } else this.fail('UPDATE, INSERT or DELETE');
    }
    return { kind: 'merge', target, alias, source, on, actions };
  }

  private assignments(): { column: string; expr: ExprInfo }[] {
    const sets: { column: string; expr: ExprInfo }[] = [];
    do {
      const name = this.qualifiedName();
      this.expectOp('=');
      sets.push({ column: name[name.length - 1] ?? '', expr: this.expr() });
    } while (this.eatOp(','));
    return sets;
  }

  private update(): Statement {
    this.expectWord('UPDATE');
    this.eatWord('ONLY');
    const target = this.qualifiedName();
    const alias = this.optAlias();
    const extraFrom: FromItem[] = [];
    // MySQL multi-table UPDATE a JOIN b ON … SET …
    if (this.isOp(',') || JOIN_WORDS.has(this.peek()?.value ?? '')) {
      const base: FromItem = { kind: 'table', name: target, alias };
      const joined = this.joins(base);
      extraFrom.push(joined);
      while (this.eatOp(',')) extraFrom.push(this.fromItem());
    }
    this.expectWord('SET');
    const sets = this.assignments();
    const from = this.eatWord('FROM') ? this.fromList() : [];
    const where = this.eatWord('WHERE') ? this.expr() : undefined;
    if (this.eatWord('RETURNING')) this.pos = this.tokens.length;
    return { kind: 'update', target, alias, sets, from: [...extraFrom.filter((f) => f.kind === 'join'), ...from], where };
  }

  private deleteStmt(): Statement {
    this.expectWord('DELETE');
    this.expectWord('FROM');
    this.eatWord('ONLY');
    const target = this.qualifiedName();
    const alias = this.optAlias();
    const using = this.eatWord('USING') ? this.fromList() : [];
    const where = this.eatWord('WHERE') ? this.expr() : undefined;
    if (this.eatWord('RETURNING')) this.pos = this.tokens.length;
    return { kind: 'delete', target, alias, using, where };
  }

  // ---- queries ----

  /** `[WITH …] body [ORDER BY …] [LIMIT …]`. */
  private query(): Query {
    const ctes = this.isWord('WITH') ? this.withClause() : [];
    return this.queryAfterWith(ctes);
  }

  private queryAfterWith(ctes: Cte[]): Query {
    const query: Query = { ctes, body: this.setExpr(), orderBy: [] };
    this.queryTail(query);
    return query;
  }

  private queryTail(query: Query): void {
    for (;;) {
      if (this.eatWords('ORDER', 'BY') || this.eatWords('SORT', 'BY') || this.eatWords('CLUSTER', 'BY') || this.eatWords('DISTRIBUTE', 'BY')) {
        do {
          query.orderBy.push(this.expr());
          this.eatWord('ASC', 'DESC');
          if (this.eatWord('NULLS')) this.eatWord('FIRST', 'LAST');
        } while (this.eatOp(','));
        continue;
      }
      if (this.eatWord('LIMIT')) {
        this.eatWord('ALL');
        if (!this.isWord('ALL')) this.expr();
        if (this.eatOp(',')) this.expr();
        continue;
      }
      if (this.eatWord('OFFSET')) {
        this.expr();
        this.eatWord('ROW', 'ROWS');
        continue;
      }
      if (this.eatWord('FETCH')) {
        while (!this.atEnd() && !this.isOp(')') && !this.isOp(';') && !this.isWord('FOR')) {
          if (this.eatWord('ONLY') || this.eatWords('WITH', 'TIES')) break;
          this.pos++;
        }
        continue;
      }
      if (this.isWord('FOR') && (this.isWord('UPDATE', 1) || this.isWord('SHARE', 1))) {
        this.pos += 2;
        continue;
      }
      break;
    }
  }

  private setExpr(): QueryBody {
    let left = this.queryTerm();
    for (;;) {
      const t = this.peek();
      if (t?.kind !== 'word' || !['UNION', 'INTERSECT', 'EXCEPT', 'MINUS'].includes(t.value)) break;
      this.pos++;
      this.eatWord('ALL', 'DISTINCT');
      this.eatWords('BY', 'NAME');
      const right = this.queryTerm();
      left = { kind: 'setop', op: t.value, left, right };
    }
    return left;
  }

  private queryTerm(): QueryBody {
    if (this.eatOp('(')) {
      const query = this.query();
      this.expectOp(')');
      return { kind: 'nested', query };
    }
    if (this.eatWord('VALUES')) return this.valuesBody();
    if (this.eatWord('TABLE')) return { kind: 'tableRef', name: this.qualifiedName() };
    if (this.isWord('FROM')) {
      this.pos++;
      const from = this.fromList();
      return this.isWord('SELECT') ? this.selectBlock(from) : this.selectTail(this.starSelect(from));
    }
    if (this.isWord('WITH')) {
      const query = this.query();
      return { kind: 'nested', query };
    }
    return this.selectBlock();
  }

  private valuesBody(): QueryBody {
    const rows: ExprInfo[][] = [];
    do {
      const row: ExprInfo[] = [];
      if (this.eatOp('(')) {
        do row.push(this.expr());
        while (this.eatOp(','));
        this.expectOp(')');
      } else {
        this.eatWord('ROW');
        if (this.eatOp('(')) {
          do row.push(this.expr());
          while (this.eatOp(','));
          this.expectOp(')');
        } else row.push(this.expr());
      }
      rows.push(row);
    } while (this.eatOp(','));
    return { kind: 'values', rows };
  }

  /** `SELECT items [FROM …] [WHERE …] …`; `sharedFrom` is the FROM of a Hive multi-insert. */
  private selectBlock(sharedFrom?: FromItem[]): Select {
    this.expectWord('SELECT');
    const distinct = this.eatWord('DISTINCT') || (this.eatWord('ALL') && false);
    if (distinct && this.eatWord('ON')) this.skipParens();
    this.eatWords('AS', 'STRUCT');
    this.eatWord('STRAIGHT_JOIN', 'SQL_CALC_FOUND_ROWS', 'SQL_NO_CACHE', 'HIGH_PRIORITY');
    if (this.eatWord('TOP')) this.expr();
    const items: SelectItem[] = [];
    do items.push(this.selectItem());
    while (this.eatOp(','));
    // MySQL SELECT … INTO var/outfile: drop the target.
    if (this.eatWord('INTO')) {
      while (!this.atEnd() && !this.isWord('FROM')) this.pos++;
    }
    let from: FromItem[] = sharedFrom ?? [];
    if (this.eatWord('FROM')) from = [...from, ...this.fromList()];
    return this.selectTail({ kind: 'select', distinct, items, from, groupBy: [], sort: [] });
  }

  private selectTail(sel: Select): Select {
    for (;;) {
      // Hive/Spark LATERAL VIEW after the FROM list.
      if (this.isWord('LATERAL') && this.isWord('VIEW', 1) && sel.from.length > 0) {
        const last = sel.from.pop() as FromItem;
        sel.from.push(this.lateralViews(last));
        continue;
      }
      if (this.eatWord('WHERE')) {
        sel.where = this.expr();
        continue;
      }
      if (this.eatWords('GROUP', 'BY')) {
        this.eatWord('ALL', 'DISTINCT');
        if (this.isWord('ALL')) {
          this.pos++;
          continue;
        }
        do {
          if (this.eatWord('ROLLUP', 'CUBE') || this.eatWords('GROUPING', 'SETS')) {
            this.groupingList(sel.groupBy);
          } else if (this.isOp('(') && !this.isWord('SELECT', 1)) {
            this.groupingList(sel.groupBy);
          } else sel.groupBy.push(this.expr());
        } while (this.eatOp(','));
        this.eatWords('WITH', 'ROLLUP');
        this.eatWords('WITH', 'CUBE');
        continue;
      }
      if (this.eatWord('HAVING')) {
        sel.having = this.expr();
        continue;
      }
      if (this.eatWord('QUALIFY')) {
        sel.qualify = this.expr();
        continue;
      }
      if (this.eatWord('WINDOW')) {
        do {
          this.ident();
          this.expectWord('AS');
          const info = emptyInfo();
          this.windowSpec(info);
          sel.sort.push(info);
        } while (this.eatOp(','));
        continue;
      }
      if (this.isWord('SORT') || this.isWord('CLUSTER') || this.isWord('DISTRIBUTE')) {
        if (!this.isWord('BY', 1)) break;
        this.pos += 2;
        do {
          sel.sort.push(this.expr());
          this.eatWord('ASC', 'DESC');
        } while (this.eatOp(','));
        continue;
      }
      if (this.isWord('EMIT')) {
        while (!this.atEnd() && !this.isOp(')') && !this.isOp(';')) this.pos++;
        continue;
      }
      break;
    }
    return sel;
  }

  private groupingList(into: ExprInfo[]): void {
    this.expectOp('(');
    if (this.eatOp(')')) return;
    do {
      if (this.isOp('(')) this.groupingList(into);
      else into.push(this.expr());
    } while (this.eatOp(','));
    this.expectOp(')');
  }

  private selectItem(): SelectItem {
    // * or q.* (with EXCLUDE / EXCEPT / REPLACE)
    if (this.isOp('*')) {
      this.pos++;
      return { expr: emptyInfo(), star: { qualifier: [], except: this.starModifiers() } };
    }
    const save = this.pos;
    if (this.isIdentToken(this.peek())) {
      const parts: string[] = [];
      let k = 0;
      while (this.isIdentToken(this.peek(k)) && this.isOp('.', k + 1)) {
        parts.push(this.fold(this.peek(k) as Token));
        k += 2;
      }
      if (parts.length > 0 && this.isOp('*', k)) {
        this.pos += k + 1;
        return { expr: emptyInfo(), star: { qualifier: parts, except: this.starModifiers() } };
      }
    }
    this.pos = save;
    const expr = this.expr();
    let alias: string | undefined;
    if (this.eatWord('AS')) {
      if (this.isOp('(')) alias = this.identList()[0];
      else alias = this.aliasName();
    } else {
      const t = this.peek();
      if (t && (t.kind === 'qident' || (t.kind === 'word' && !CLAUSE_WORDS.has(t.value))) && !this.isOp('.', 1)) {
        alias = this.aliasName();
      } else if (t?.kind === 'string' && (this.dialect === 'mysql' || this.dialect === 'hive' || this.dialect === 'spark')) {
        this.pos++;
        alias = t.value;
      }
    }
    return { expr, alias };
  }

  private aliasName(): string {
    const t = this.peek();
    if (t?.kind === 'string') {
      this.pos++;
      return t.value;
    }
    return this.ident();
  }

  private starModifiers(): string[] {
    const except: string[] = [];
    for (;;) {
      if (this.eatWord('EXCLUDE') || this.eatWord('EXCEPT')) {
        if (this.isOp('(')) except.push(...this.identList().map((s) => s.split('.').pop() ?? s));
        else except.push(this.ident());
        continue;
      }
      if (this.eatWord('REPLACE') || this.eatWord('RENAME')) {
        this.skipParens();
        continue;
      }
      return except;
    }
  }

  // ---- FROM ----

  private fromList(): FromItem[] {
    const out: FromItem[] = [];
    do out.push(this.joins(this.fromItem()));
    while (this.eatOp(','));
    return out;
  }

  private joins(left: FromItem): FromItem {
    for (;;) {
      if (this.isWord('LATERAL') && this.isWord('VIEW', 1)) {
        left = this.lateralViews(left);
        continue;
      }
      const t = this.peek();
      if (t?.kind !== 'word' || !JOIN_WORDS.has(t.value)) {
        // Spark/Trino comma-less CROSS JOIN UNNEST is covered by JOIN words; anything else ends the join chain.
        return left;
      }
      const natural = this.eatWord('NATURAL');
      const isCross = this.isWord('CROSS');
      while (this.eatWord('INNER', 'LEFT', 'RIGHT', 'FULL', 'OUTER', 'CROSS', 'SEMI', 'ANTI', 'ASOF', 'POSITIONAL')) {
        // join kinds
      }
      if (!this.eatWord('JOIN') && !this.eatWord('STRAIGHT_JOIN')) {
        if (this.isWord('APPLY')) this.pos++;
        else this.fail('JOIN');
      }
      const right = this.fromItem();
      let on: ExprInfo | undefined;
      let using: string[] | undefined;
      if (this.eatWord('ON')) on = this.expr();
      else if (this.eatWord('USING')) using = this.identList();
      left = { kind: 'join', left, right, on, using, natural: natural && !isCross };
    }
  }

  private lateralViews(base: FromItem): FromItem {
    let cur = base;
    while (this.isWord('LATERAL') && this.isWord('VIEW', 1)) {
      this.pos += 2;
      this.eatWord('OUTER');
      const fn = this.expr();
      let alias: string | undefined;
      if (this.isIdentToken(this.peek()) && !this.isWord('AS')) alias = this.ident();
      const columnAliases: string[] = [];
      if (this.eatWord('AS')) {
        do columnAliases.push(this.ident());
        while (this.eatOp(','));
      }
      cur = { kind: 'lateralView', base: cur, fn, alias, columnAliases };
    }
    return cur;
  }

  private optAlias(): string | undefined {
    if (this.eatWord('AS')) return this.ident();
    const t = this.peek();
    if (t && (t.kind === 'qident' || (t.kind === 'word' && !CLAUSE_WORDS.has(t.value) && !JOIN_WORDS.has(t.value)))) {
      if (this.dialect === 'flink' && t.value === 'FOR') return undefined;
      return this.ident();
    }
    return undefined;
  }

  private aliasWithColumns(): { alias?: string; columnAliases?: string[] } {
    const alias = this.optAlias();
    const columnAliases = alias !== undefined && this.isOp('(') ? this.identList() : undefined;
    return { alias, columnAliases };
  }

  private fromItem(): FromItem {
    this.eatWord('LATERAL');
    this.eatWord('ONLY');
    const t = this.peek();
    if (!t) this.fail('a table');
    if (this.isOp('(')) {
      if (this.isWord('SELECT', 1) || this.isWord('WITH', 1) || this.isWord('VALUES', 1) || this.isWord('FROM', 1) || this.isOp('(', 1)) {
        const save = this.pos;
        this.pos++;
        if (this.isOp('(')) {
          // ((SELECT …) UNION …) or ((a JOIN b)) — try as a query, else as a join tree.
          try {
            const query = this.query();
            this.expectOp(')');
            return { kind: 'derived', query, ...this.aliasWithColumns() };
          } catch {
            this.pos = save + 1;
            const inner = this.joins(this.fromItem());
            this.expectOp(')');
            return inner;
          }
        }
        const query = this.query();
        this.expectOp(')');
        return { kind: 'derived', query, ...this.aliasWithColumns() };
      }
      this.pos++;
      const inner = this.joins(this.fromItem());
      this.expectOp(')');
      const { alias } = this.aliasWithColumns();
      return alias !== undefined && inner.kind === 'table' ? { ...inner, alias } : inner;
    }
    if (t.kind === 'string') {
      this.pos++;
      return { kind: 'file', path: t.value, ...this.aliasWithColumns() };
    }
    if (this.isWord('TABLE') && this.isOp('(', 1) && this.isIdentToken(this.peek(2)) && this.isOp('(', 3)) {
      // Flink window TVF: TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL …)).
      this.pos += 2;
      const fn = this.qualifiedName();
      this.expectOp('(');
      this.eatWord('DATA');
      this.eatWords('=>');
      this.expectWord('TABLE');
      const source = this.fromItem();
      const info = emptyInfo();
      while (this.eatOp(',')) {
        if (this.isIdentToken(this.peek()) && this.isOp('=>', 1)) this.pos += 2;
        this.exprInto(info);
      }
      this.expectOp(')');
      this.expectOp(')');
      return { kind: 'tvf', fn: fn.join('.'), source, args: info, ...this.aliasWithColumns() };
    }
    if (this.eatWord('UNNEST') || this.isWord('TABLE') || this.isWord('EXPLODE')) {
      if (!this.isOp('(')) this.pos++;
      const info = emptyInfo();
      this.expectOp('(');
      if (!this.isOp(')')) {
        do this.exprInto(info);
        while (this.eatOp(','));
      }
      this.expectOp(')');
      this.eatWords('WITH', 'ORDINALITY');
      return { kind: 'function', name: ['unnest'], args: info, literalArgs: [], ...this.aliasWithColumns() };
    }
    const name = this.qualifiedName();
    if (this.isOp('(')) {
      const info = emptyInfo();
      const literalArgs: string[] = [];
      this.pos++;
      if (!this.isOp(')')) {
        do {
          const a = this.peek();
          if (a?.kind === 'string' && (this.isOp(',', 1) || this.isOp(')', 1))) literalArgs.push(a.value);
          if (a?.kind === 'op' && a.value === '[') {
            // DuckDB list of files.
            let k = 1;
            while (this.peek(k)?.kind === 'string') {
              literalArgs.push(this.peek(k)?.value ?? '');
              k += this.isOp(',', k + 1) ? 2 : 1;
            }
          }
          if (this.isWord('TABLE')) {
            this.pos++;
            const inner = this.fromItem();
            if (inner.kind === 'table') info.subqueries.push({ ctes: [], body: { kind: 'tableRef', name: inner.name }, orderBy: [] });
          } else if (this.isIdentToken(a) && this.isOp('=>', 1)) {
            this.pos += 2;
            this.exprInto(info);
          } else this.exprInto(info);
        } while (this.eatOp(','));
      }
      this.expectOp(')');
      this.eatWords('WITH', 'ORDINALITY');
      return { kind: 'function', name, args: info, literalArgs, ...this.aliasWithColumns() };
    }
    this.tableSuffixes();
    const item: FromItem = { kind: 'table', name, ...this.aliasWithColumns() };
    this.tableSuffixes();
    return item;
  }

  /** Time travel, sampling and hints after a table name. */
  private tableSuffixes(): void {
    for (;;) {
      if (
        this.isWord('FOR') &&
        (this.isWord('SYSTEM_TIME', 1) || this.isWord('TIMESTAMP', 1) || this.isWord('VERSION', 1) || this.isWord('SYSTEM_VERSION', 1))
      ) {
        this.pos += 2;
        this.eatWords('AS', 'OF');
        this.expr();
        continue;
      }
      if (this.isWord('VERSION') || (this.isWord('TIMESTAMP') && this.isWord('AS', 1))) {
        this.pos++;
        this.eatWords('AS', 'OF');
        this.expr();
        continue;
      }
      if (this.eatWord('TABLESAMPLE')) {
        this.eatWord('BERNOULLI', 'SYSTEM', 'RESERVOIR');
        if (this.isOp('(')) this.skipParens();
        this.eatWord('REPEATABLE') && this.skipParens();
        continue;
      }
      if (this.isWord('USE') || this.isWord('FORCE') || this.isWord('IGNORE')) {
        if (this.isWord('INDEX', 1) || this.isWord('KEY', 1)) {
          this.pos += 2;
          this.skipParens();
          continue;
        }
      }
      if (this.isWord('WITH') && this.isOp('(', 1) && this.isWord('NOLOCK', 2)) {
        this.pos++;
        this.skipParens();
        continue;
      }
      if (this.isOp('/') && this.isOp('*', 1)) break;
      return;
    }
  }

  // ---- expressions ----

  /** Parses one expression and returns what it reads. */
  private expr(): ExprInfo {
    const info = emptyInfo();
    const start = this.pos;
    const before = info.refs.length;
    const bare = this.exprInto(info);
    info.text = this.textFrom(start);
    if (bare && info.refs.length === before + 1 && info.subqueries.length === 0) info.bare = info.refs[before];
    return info;
  }

  /**
   * Parses an expression into `info`. Returns true when it was exactly one column reference.
   * Precedence does not matter for lineage, so operators are read left to right.
   */
  private exprInto(info: ExprInfo): boolean {
    let operands = 0;
    let bare = false;
    for (;;) {
      // prefix operators
      while (this.eatWord('NOT') || this.isOp('-') || this.isOp('+') || this.isOp('~') || this.isOp('!')) {
        if (this.isOp('-') || this.isOp('+') || this.isOp('~') || this.isOp('!')) this.pos++;
        bare = false;
        operands++;
      }
      if (this.eatWord('EXISTS')) {
        this.expectOp('(');
        info.subqueries.push(this.query());
        this.expectOp(')');
        operands++;
        bare = false;
      } else {
        bare = this.primary(info) && operands === 0;
        operands++;
      }
      // postfix
      if (this.postfix(info)) bare = false;
      // binary operator?
      const t = this.peek();
      if (!t) return bare && operands === 1;
      if (t.kind === 'op' && BINARY_OPS.has(t.value)) {
        this.pos++;
        if (t.value === '::') {
          this.typeName();
          if (this.postfix(info)) bare = false;
          bare = false;
          const n = this.peek();
          if (n?.kind === 'op' && BINARY_OPS.has(n.value) && n.value !== '::') {
            this.pos++;
            continue;
          }
          if (n?.kind === 'op' && n.value === '::') continue;
          if (n?.kind === 'word' && (n.value === 'AND' || n.value === 'OR' || n.value === 'XOR' || n.value === 'DIV' || n.value === 'MOD')) {
            this.pos++;
            continue;
          }
          if (n?.kind === 'word' && this.wordPostfixStart()) continue;
          return false;
        }
        bare = false;
        continue;
      }
      if (t.kind === 'word' && (t.value === 'AND' || t.value === 'OR' || t.value === 'XOR' || t.value === 'DIV' || t.value === 'MOD')) {
        this.pos++;
        bare = false;
        continue;
      }
      if (t.kind === 'word' && this.wordPostfixStart()) {
        this.wordPostfix(info);
        bare = false;
        const n = this.peek();
        if (n?.kind === 'op' && BINARY_OPS.has(n.value)) {
          this.pos++;
          continue;
        }
        if (n?.kind === 'word' && (n.value === 'AND' || n.value === 'OR' || n.value === 'XOR')) {
          this.pos++;
          continue;
        }
        if (n?.kind === 'word' && this.wordPostfixStart()) {
          // chained postfix such as `x IS NULL IS NOT TRUE`
          this.wordPostfix(info);
        }
        return false;
      }
      return bare && operands === 1;
    }
  }

  private wordPostfixStart(): boolean {
    const t = this.peek();
    if (t?.kind !== 'word') return false;
    switch (t.value) {
      case 'IS':
      case 'IN':
      case 'BETWEEN':
      case 'LIKE':
      case 'ILIKE':
      case 'RLIKE':
      case 'REGEXP':
      case 'SIMILAR':
      case 'COLLATE':
      case 'AT':
      case 'ISNULL':
      case 'NOTNULL':
      case 'GLOB':
      case 'MEMBER':
        return true;
      case 'NOT':
        return ['IN', 'BETWEEN', 'LIKE', 'ILIKE', 'RLIKE', 'REGEXP', 'SIMILAR', 'GLOB'].includes(this.peek(1)?.value ?? '');
      default:
        return false;
    }
  }

  private wordPostfix(info: ExprInfo): void {
    this.eatWord('NOT');
    const w = this.peek()?.value;
    this.pos++;
    switch (w) {
      case 'IS':
        this.eatWord('NOT');
        if (this.eatWords('DISTINCT', 'FROM')) this.operand(info);
        else if (this.eatWord('NULL', 'TRUE', 'FALSE', 'UNKNOWN', 'NAN')) {
          // done
        } else if (this.eatWord('JSON')) this.eatWord('OBJECT', 'ARRAY', 'VALUE', 'SCALAR');
        else this.operand(info);
        return;
      case 'IN':
        if (this.eatOp('(')) {
          if (this.isWord('SELECT') || this.isWord('WITH')) info.subqueries.push(this.query());
          else if (!this.isOp(')')) {
            do this.exprInto(info);
            while (this.eatOp(','));
          }
          this.expectOp(')');
        } else this.operand(info);
        return;
      case 'BETWEEN':
        this.eatWord('SYMMETRIC', 'ASYMMETRIC');
        this.operand(info);
        this.expectWord('AND');
        this.operand(info);
        return;
      case 'SIMILAR':
        this.expectWord('TO');
        this.operand(info);
        if (this.eatWord('ESCAPE')) this.operand(info);
        return;
      case 'AT':
        this.eatWords('TIME', 'ZONE') || this.eatWord('LOCAL');
        if (!this.atEnd() && !this.isOp(',') && !this.isOp(')')) this.operand(info);
        return;
      case 'COLLATE':
        this.ident();
        return;
      case 'ISNULL':
      case 'NOTNULL':
        return;
      case 'MEMBER':
        this.expectWord('OF');
        this.operand(info);
        return;
      default:
        // LIKE family
        this.eatWord('ANY', 'ALL', 'SOME');
        this.operand(info);
        if (this.eatWord('ESCAPE')) this.operand(info);
    }
  }

  /** One operand with its postfix operators (no binary operators). */
  private operand(info: ExprInfo): void {
    while (this.isOp('-') || this.isOp('+')) this.pos++;
    this.primary(info);
    this.postfix(info);
  }

  /** `::type`, `[i]`, `.field`, `OVER (…)`, `FILTER (…)`. Returns true when something was applied. */
  private postfix(info: ExprInfo): boolean {
    let applied = false;
    for (;;) {
      if (this.isOp('[')) {
        this.pos++;
        if (!this.isOp(']')) {
          do {
            if (!this.isOp(':') && !this.isOp(']')) this.exprInto(info);
          } while (this.eatOp(':') || this.eatOp(','));
        }
        this.expectOp(']');
        applied = true;
        continue;
      }
      if (this.isOp('.') && this.isIdentToken(this.peek(1))) {
        this.pos += 2;
        applied = true;
        continue;
      }
      if (this.isOp('->') || this.isOp('->>')) {
        // JSON access in MySQL/PostgreSQL/DuckDB; lambdas are handled by function arguments.
        this.pos++;
        this.operand(info);
        applied = true;
        continue;
      }
      if (this.isWord('FILTER') && this.isOp('(', 1)) {
        this.pos += 2;
        this.expectWord('WHERE');
        const cond = emptyInfo();
        this.exprInto(cond);
        info.condRefs.push(...cond.refs, ...cond.condRefs);
        info.subqueries.push(...cond.subqueries);
        this.expectOp(')');
        applied = true;
        continue;
      }
      if (this.isWord('WITHIN') && this.isWord('GROUP', 1)) {
        this.pos += 2;
        this.expectOp('(');
        this.expectWords('ORDER', 'BY');
        do {
          this.exprInto(info);
          this.eatWord('ASC', 'DESC');
        } while (this.eatOp(','));
        this.expectOp(')');
        applied = true;
        continue;
      }
      if (this.isWord('RESPECT') || (this.isWord('IGNORE') && this.isWord('NULLS', 1))) {
        this.pos += 2;
        continue;
      }
      if (this.eatWord('OVER')) {
        if (this.isOp('(')) this.windowSpec(info);
        else this.ident();
        applied = true;
        continue;
      }
      return applied;
    }
  }

  private expectWords(...vs: string[]): void {
    for (const v of vs) this.expectWord(v);
  }

  private windowSpec(info: ExprInfo): void {
    this.expectOp('(');
    const w = emptyInfo();
    while (!this.isOp(')')) {
      if (this.eatWords('PARTITION', 'BY') || this.eatWords('ORDER', 'BY')) {
        do {
          this.exprInto(w);
          this.eatWord('ASC', 'DESC');
          if (this.eatWord('NULLS')) this.eatWord('FIRST', 'LAST');
        } while (this.eatOp(','));
        continue;
      }
      if (this.eatWord('ROWS', 'RANGE', 'GROUPS')) {
        while (!this.atEnd() && !this.isOp(')')) this.pos++;
        continue;
      }
      if (this.isIdentToken(this.peek())) {
        this.pos++;
        continue;
      }
      this.fail("')'");
    }
    this.expectOp(')');
    info.windowRefs.push(...w.refs, ...w.condRefs, ...w.windowRefs);
    info.subqueries.push(...w.subqueries);
  }

  /** Skips a type name after `::` or `AS` in CAST. */
  private typeName(): void {
    if (!this.isIdentToken(this.peek())) this.fail('a type');
    this.pos++;
    while (this.isIdentToken(this.peek()) && TYPE_CONTINUATION.has(this.peek()?.value ?? '')) this.pos++;
    if (this.isOp('(')) this.skipParens();
    if (this.isOp('<')) this.skipAngles();
    while (this.isIdentToken(this.peek()) && TYPE_CONTINUATION.has(this.peek()?.value ?? '')) {
      this.pos++;
      if (this.isOp('(')) this.skipParens();
    }
    while (this.isOp('[') && this.isOp(']', 1)) this.pos += 2;
  }

  /** A primary term. Returns true when it is one plain column reference. */
  private primary(info: ExprInfo): boolean {
    const t = this.peek();
    if (!t) this.fail('an expression');
    switch (t.kind) {
      case 'string':
      case 'number':
      case 'param':
        this.pos++;
        return false;
      case 'op':
        if (t.value === '(') {
          this.pos++;
          if (this.isWord('SELECT') || this.isWord('WITH') || this.isWord('VALUES') || (this.isWord('FROM') && this.dialect === 'duckdb')) {
            info.subqueries.push(this.query());
            this.expectOp(')');
            return false;
          }
          // Lambda with several parameters: (a, b) -> expr
          const save = this.pos;
          const params: string[] = [];
          while (this.isIdentToken(this.peek()) && (this.isOp(',', 1) || this.isOp(')', 1))) {
            params.push(this.fold(this.peek() as Token));
            this.pos++;
            if (this.eatOp(')')) break;
            this.pos++;
          }
          if (params.length > 0 && this.isOp('->') && this.tokens[this.pos - 1]?.value === ')') {
            this.pos++;
            this.withLambda(params, () => this.exprInto(info));
            return false;
          }
          this.pos = save;
          let inner = false;
          let count = 0;
          do {
            inner = this.exprInto(info);
            count++;
          } while (this.eatOp(','));
          this.expectOp(')');
          return inner && count === 1;
        }
        if (t.value === '*') {
          this.pos++;
          return false;
        }
        if (t.value === '[') {
          this.pos++;
          if (!this.isOp(']')) {
            do this.exprInto(info);
            while (this.eatOp(','));
          }
          this.expectOp(']');
          return false;
        }
        if (t.value === '{') {
          // DuckDB struct literal {'a': x}
          this.pos++;
          while (!this.isOp('}')) {
            if (this.atEnd()) this.fail("'}'");
            if (this.isOp(':') || this.isOp(',')) {
              this.pos++;
              continue;
            }
            if (this.peek()?.kind === 'string' && this.isOp(':', 1)) {
              this.pos++;
              continue;
            }
            this.exprInto(info);
          }
          this.pos++;
          return false;
        }
        if (t.value === ':' && this.isIdentToken(this.peek(1))) {
          // named bind parameter
          this.pos += 2;
          return false;
        }
        if (t.value === '@' || t.value === '@@') {
          this.pos++;
          if (this.isOp('@')) this.pos++;
          this.qualifiedName();
          return false;
        }
        this.fail('an expression');
        break;
      case 'qident':
      case 'word':
        return this.wordPrimary(info);
    }
    return false;
  }

  private withLambda(params: string[], body: () => void): void {
    this.lambdaParams.push(new Set(params));
    try {
      body();
    } finally {
      this.lambdaParams.pop();
    }
  }

  private isLambdaParam(name: string): boolean {
    return this.lambdaParams.some((s) => s.has(name));
  }

  private wordPrimary(info: ExprInfo): boolean {
    const t = this.peek() as Token;
    if (t.kind === 'word') {
      switch (t.value) {
        case 'CASE':
          this.caseExpr(info);
          return false;
        case 'CAST':
        case 'TRY_CAST':
        case 'SAFE_CAST':
          if (this.isOp('(', 1)) {
            this.pos += 2;
            this.exprInto(info);
            if (this.eatWord('AS')) this.typeName();
            else if (this.eatOp(',')) this.typeName();
            if (this.eatWord('FORMAT')) this.operand(info);
            this.expectOp(')');
            info.text = info.text || '';
            return false;
          }
          break;
        case 'CONVERT':
          if (this.isOp('(', 1) && this.dialect === 'mysql') {
            this.pos += 2;
            this.exprInto(info);
            if (this.eatOp(',') || this.eatWord('USING')) this.typeName();
            this.expectOp(')');
            return false;
          }
          break;
        case 'EXTRACT':
          if (this.isOp('(', 1)) {
            this.pos += 2;
            this.pos++; // the field
            this.expectWord('FROM');
            this.exprInto(info);
            this.expectOp(')');
            return false;
          }
          break;
        case 'INTERVAL': {
          this.pos++;
          this.eatOp('-');
          if (this.peek()?.kind === 'string' || this.peek()?.kind === 'number') this.pos++;
          else this.operand(info);
          while (this.peek()?.kind === 'word' && (TIME_UNITS.has(this.peek()?.value ?? '') || this.isWord('TO'))) {
            this.pos++;
            if (this.isOp('(')) this.skipParens();
          }
          return false;
        }
        case 'DATE':
        case 'TIME':
        case 'TIMESTAMP':
        case 'TIMESTAMPTZ':
        case 'DECIMAL':
        case 'NUMERIC':
        case 'JSON':
        case 'UUID':
        case 'X':
        case 'REAL':
        case 'DOUBLE':
        case 'BIGINT':
        case 'INTEGER':
          if (this.peek(1)?.kind === 'string') {
            this.pos += 2;
            return false;
          }
          if (t.value === 'TIMESTAMP' && this.isWord('WITH', 1)) {
            this.pos++;
            this.typeName();
            return false;
          }
          break;
        case 'ARRAY':
        case 'MAP':
        case 'STRUCT':
        case 'ROW':
        case 'LIST':
          if (this.isOp('[', 1) || this.isOp('(', 1) || this.isOp('<', 1) || this.isOp('{', 1)) {
            this.pos++;
            if (this.isOp('<')) this.skipAngles();
            if (this.isOp('(') && (this.isWord('SELECT', 1) || this.isWord('WITH', 1))) {
              this.pos++;
              info.subqueries.push(this.query());
              this.expectOp(')');
              return false;
            }
            if (this.isOp('(') || this.isOp('[') || this.isOp('{')) this.primary(info);
            return false;
          }
          break;
        case 'SUBSTRING':
        case 'TRIM':
        case 'POSITION':
        case 'OVERLAY':
          if (this.isOp('(', 1)) {
            this.pos += 2;
            this.eatWord('BOTH', 'LEADING', 'TRAILING');
            if (!this.isWord('FROM')) this.exprInto(info);
            while (this.eatWord('FROM', 'FOR', 'IN', 'PLACING') || this.eatOp(',')) this.exprInto(info);
            this.expectOp(')');
            return false;
          }
          break;
        case 'EXISTS':
          break;
      }
      if (NOT_COLUMNS.has(t.value) && !this.isOp('(', 1) && !this.isOp('.', 1)) {
        this.pos++;
        return false;
      }
    }
    // Lambda with one parameter: x -> expr
    if (this.isOp('->', 1) && this.lambdaContext()) {
      const param = this.fold(t);
      this.pos += 2;
      this.withLambda([param], () => this.exprInto(info));
      return false;
    }
    const startPos = this.pos;
    const parts = this.qualifiedName();
    if (this.isOp('(')) {
      this.functionCall(parts, info);
      return false;
    }
    // A keyword-looking single word followed by a string literal is a typed literal (`TIMESTAMP '…'`, `_utf8mb4'…'`).
    if (parts.length === 1 && this.peek()?.kind === 'string' && this.tokens[startPos]?.kind === 'word') {
      this.pos++;
      return false;
    }
    const name = parts[parts.length - 1] ?? '';
    if (parts.length === 1 && this.isLambdaParam(name)) return false;
    if (parts.length > 1 && this.isLambdaParam(parts[0] ?? '')) return false;
    info.refs.push({ qualifier: parts.slice(0, -1), name });
    return true;
  }

  private lambdaContext(): boolean {
    // `->` after a plain identifier is JSON access in MySQL, PostgreSQL and DuckDB (the latter also has lambdas).
    return this.dialect !== 'mysql' && this.dialect !== 'postgres';
  }

  private functionCall(parts: string[], info: ExprInfo): void {
    const fname = (parts[parts.length - 1] ?? '').toUpperCase();
    this.expectOp('(');
    const isAgg = AGGREGATES.has(fname);
    const inner = emptyInfo();
    if (this.isWord('SELECT') || this.isWord('WITH')) {
      // `= ANY (SELECT …)`, `ARRAY(SELECT …)` and other functions over a subquery.
      inner.subqueries.push(this.query());
    } else if (!this.isOp(')')) {
      this.eatWord('DISTINCT', 'ALL');
      let first = true;
      do {
        if (first && TIME_UNIT_FIRST_ARG.has(fname) && this.peek()?.kind === 'word' && TIME_UNITS.has(this.peek()?.value ?? '') && this.isOp(',', 1)) {
          this.pos++;
          first = false;
          continue;
        }
        first = false;
        if (this.isOp('*') && (this.isOp(')', 1) || this.isOp(',', 1))) {
          this.pos++;
          continue;
        }
        if (this.isIdentToken(this.peek()) && this.isOp('=>', 1)) this.pos += 2;
        this.exprInto(inner);
        this.eatWord('ASC', 'DESC');
        if (this.eatWords('IGNORE', 'NULLS') || this.eatWords('RESPECT', 'NULLS')) {
          // done
        }
        while (this.eatWord('AS', 'FROM', 'FOR', 'IN', 'USING', 'SEPARATOR')) {
          if (this.isIdentToken(this.peek()) && (this.isOp(')', 1) || this.isOp('(', 1) || this.isOp(',', 1)) && fname !== 'SUBSTRING') this.typeName();
          else this.exprInto(inner);
        }
        if (this.eatWords('ORDER', 'BY')) {
          do {
            this.exprInto(inner);
            this.eatWord('ASC', 'DESC');
          } while (this.eatOp(','));
        }
        if (this.eatWord('LIMIT')) this.exprInto(inner);
        if (this.eatWords('ON', 'OVERFLOW')) {
          while (!this.atEnd() && !this.isOp(')')) this.pos++;
        }
      } while (this.eatOp(','));
    }
    this.expectOp(')');
    info.refs.push(...inner.refs);
    info.condRefs.push(...inner.condRefs);
    info.windowRefs.push(...inner.windowRefs);
    info.subqueries.push(...inner.subqueries);
    if (isAgg || inner.aggregate) info.aggregate = true;
    if (MASKING.has(fname) || inner.masking) info.masking = true;
  }

  private caseExpr(info: ExprInfo): void {
    this.expectWord('CASE');
    if (!this.isWord('WHEN')) {
      // simple CASE x WHEN …: the operand decides.
      const c = emptyInfo();
      this.exprInto(c);
      info.condRefs.push(...c.refs, ...c.condRefs);
      info.subqueries.push(...c.subqueries);
    }
    while (this.eatWord('WHEN')) {
      const c = emptyInfo();
      this.exprInto(c);
      info.condRefs.push(...c.refs, ...c.condRefs);
      info.subqueries.push(...c.subqueries);
      this.expectWord('THEN');
      this.exprInto(info);
    }
    if (this.eatWord('ELSE')) this.exprInto(info);
    this.expectWord('END');
  }
}

/** Statements that read and write no dataset (or none this extractor follows). */
const OTHER_STATEMENTS = new Set(
  (
    'SET SHOW DESCRIBE DESC DROP ALTER TRUNCATE GRANT REVOKE ANALYZE VACUUM COMMIT ROLLBACK START BEGIN CALL REFRESH MSCK LOAD ' +
    'COPY ADD RESET PRAGMA ATTACH DETACH INSTALL EXPORT IMPORT CHECKPOINT COMMENT LOCK UNLOCK KILL CACHE UNCACHE OPTIMIZE DEALLOCATE ' +
    'PREPARE EXECUTE SUMMARIZE LIST CLEAR FLUSH RENAME DECLARE FETCH CLOSE DO LISTEN NOTIFY UNLISTEN CLUSTER REINDEX SAVEPOINT ' +
    'RELEASE ABORT END DISCARD HELP CREATE UPDATE DELETE MERGE'
  ).split(' '),
);

const BINARY_OPS = new Set([
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  '||',
  '=',
  '==',
  '<',
  '>',
  '<=',
  '>=',
  '<>',
  '!=',
  '&',
  '|',
  '<<',
  '>>',
  '**',
  '::',
  '<=>',
  '@>',
  '<@',
  '&&',
  '~',
  ':=',
  '#',
  '?',
]);

const TYPE_CONTINUATION = new Set(['PRECISION', 'VARYING', 'UNSIGNED', 'SIGNED', 'WITH', 'WITHOUT', 'TIME', 'ZONE', 'LOCAL', 'CHARACTER', 'SET', 'ZEROFILL']);

function typeOnly(text: string): string {
  const m =
    /^\s*([A-Za-z_][A-Za-z0-9_ ]*?(?:\([^)]*\))?(?:<.*>)?(?:\[\])?)(?=\s+(?:NOT|NULL|DEFAULT|PRIMARY|COMMENT|REFERENCES|UNIQUE|CHECK|GENERATED|AUTO_INCREMENT|METADATA|CONSTRAINT|COLLATE)\b|\s*$)/i.exec(
      text,
    );
  return (m?.[1] ?? text).trim();
}
