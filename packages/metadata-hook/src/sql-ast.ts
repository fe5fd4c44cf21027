/**
 * The lineage-oriented syntax tree the parser produces. It keeps what lineage needs (relations,
 * projections and the columns each expression reads) and drops the rest (operators, literals, types).
 */

/** A column reference as written: `qualifier.name`, names already folded per dialect. */
export interface ColumnRef {
  qualifier: string[];
  name: string;
}

/** What an expression reads. */
export interface ExprInfo {
  /** Columns whose values flow into the result. */
  refs: ColumnRef[];
  /** Columns read only to decide (CASE WHEN conditions, FILTER clauses): indirect. */
  condRefs: ColumnRef[];
  /** Columns read by a window's PARTITION BY / ORDER BY: indirect. */
  windowRefs: ColumnRef[];
  /** Subqueries inside the expression (scalar, IN, EXISTS). */
  subqueries: Query[];
  /** The expression is exactly one column reference. */
  bare?: ColumnRef;
  /** It applies an aggregate function. */
  aggregate: boolean;
  /** It applies a hashing or masking function. */
  masking: boolean;
  /** The source text, for descriptions. */
  text: string;
}

/** One item of a SELECT list. */
export interface SelectItem {
  expr: ExprInfo;
  alias?: string;
  /** `*` or `q.*`, with DuckDB's / BigQuery-style `EXCLUDE (…)` / Spark's `EXCEPT (…)` columns. */
  star?: { qualifier: string[]; except: string[] };
}

/** A relation in a FROM clause. */
export type FromItem =
  | { kind: 'table'; name: string[]; alias?: string; columnAliases?: string[] }
  | { kind: 'derived'; query: Query; alias?: string; columnAliases?: string[] }
  | { kind: 'function'; name: string[]; args: ExprInfo; literalArgs: string[]; alias?: string; columnAliases?: string[] }
  | { kind: 'file'; path: string; alias?: string; columnAliases?: string[] }
  | { kind: 'join'; left: FromItem; right: FromItem; on?: ExprInfo; using?: string[]; natural: boolean }
  | { kind: 'lateralView'; base: FromItem; fn: ExprInfo; alias?: string; columnAliases: string[] }
  /** A table-valued function over a table (Flink window TVFs: TUMBLE, HOP, CUMULATE, SESSION). */
  | { kind: 'tvf'; fn: string; source: FromItem; args: ExprInfo; alias?: string; columnAliases?: string[] };

/** One SELECT block. */
export interface Select {
  kind: 'select';
  distinct: boolean;
  items: SelectItem[];
  from: FromItem[];
  where?: ExprInfo;
  groupBy: ExprInfo[];
  having?: ExprInfo;
  qualify?: ExprInfo;
  /** ORDER BY / SORT BY / CLUSTER BY / DISTRIBUTE BY and window clause expressions. */
  sort: ExprInfo[];
}

/** A set operation or a leaf of one. */
export type QueryBody =
  | Select
  | { kind: 'setop'; op: string; left: QueryBody; right: QueryBody }
  | { kind: 'values'; rows: ExprInfo[][]; alias?: string }
  | { kind: 'nested'; query: Query }
  | { kind: 'tableRef'; name: string[] };

/** A common table expression. */
export interface Cte {
  name: string;
  columns?: string[];
  query: Query;
  recursive: boolean;
}

/** A query with its WITH clause. */
export interface Query {
  ctes: Cte[];
  body: QueryBody;
  orderBy: ExprInfo[];
}

/** A column declared in DDL. */
export interface ColumnDef {
  name: string;
  type: string;
  /** Flink computed column `c AS expr`. */
  computed?: ExprInfo;
}

/** One branch of a Hive multi-insert. */
export interface InsertBranch {
  target: string[];
  columns?: string[];
  select: Select;
  overwrite: boolean;
  /** `INSERT OVERWRITE DIRECTORY 'path'`. */
  directory?: string;
}

/** One WHEN clause of a MERGE. */
export type MergeAction =
  | { kind: 'update'; sets: { column: string; expr: ExprInfo }[]; star: boolean; cond?: ExprInfo }
  | { kind: 'insert'; columns?: string[]; values: ExprInfo[]; star: boolean; cond?: ExprInfo }
  | { kind: 'delete'; cond?: ExprInfo };

/** A parsed statement. */
export type Statement =
  | { kind: 'query'; query: Query }
  | { kind: 'insert'; target: string[]; columns?: string[]; query: Query; overwrite: boolean; directory?: string }
  | { kind: 'multiInsert'; ctes: Cte[]; from: FromItem[]; branches: InsertBranch[] }
  | {
      kind: 'createTable';
      target: string[];
      columns: ColumnDef[];
      query?: Query;
      like?: string[];
      options: Record<string, string>;
      temporary: boolean;
    }
  | { kind: 'createView'; target: string[]; columns?: string[]; query: Query; temporary: boolean; materialized: boolean }
  | { kind: 'merge'; target: string[]; alias?: string; source: FromItem; on: ExprInfo; actions: MergeAction[] }
  | { kind: 'update'; target: string[]; alias?: string; sets: { column: string; expr: ExprInfo }[]; from: FromItem[]; where?: ExprInfo }
  | { kind: 'delete'; target: string[]; alias?: string; using: FromItem[]; where?: ExprInfo }
  | { kind: 'use'; parts: string[] }
  | { kind: 'block'; statements: Statement[] }
  | { kind: 'other'; keyword: string };
