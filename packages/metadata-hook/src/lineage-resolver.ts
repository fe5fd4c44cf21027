import { fileDataset, flinkConnectorDataset, qualifyTableName } from './dataset-naming.ts';
import type { Dialect } from './dialect.ts';
import type { DatasetId, ExtractionContext, InputField, LineageInput, LineageOutput, OutputOperation, SchemaField } from './lineage-types.ts';
import type { ColumnRef, Cte, ExprInfo, FromItem, Query, QueryBody, Select, Statement } from './sql-ast.ts';
import { parseScript } from './sql-parser.ts';

/** Where a value comes from: one input column and how it was derived. */
interface Origin {
  ds: DatasetId;
  field: string;
  /** IDENTITY < TRANSFORMATION < AGGREGATION. */
  rank: number;
  masking: boolean;
}

/** A column of a relation with the input columns behind it. */
interface Col {
  name: string;
  origins: Origin[];
  /** Indirect dependencies particular to this column (CASE conditions, window keys). */
  indirect: IndirectOrigin[];
  type?: string;
}

interface IndirectOrigin {
  ds: DatasetId;
  field: string;
  subtype: string;
}

/** A relation visible in a FROM scope. */
interface Relation {
  /** Names a column qualifier can use: the alias, or the table name and its suffixes. */
  qualifiers: string[][];
  /** The base dataset, for tables. */
  ds?: DatasetId;
  /** Known columns; undefined when the schema is unknown. */
  cols?: Col[];
  /** Columns known even when the rest of the schema is not (window TVF columns). */
  extra?: Col[];
}

/** The outcome of resolving a query: its columns, and what affects all its rows. */
interface Resolved {
  cols?: Col[];
  indirect: IndirectOrigin[];
}

const RANK_SUBTYPE = ['IDENTITY', 'TRANSFORMATION', 'AGGREGATION'];

const FILE_FUNCTIONS = new Set(
  'read_parquet parquet_scan read_csv read_csv_auto read_json read_json_auto read_ndjson read_ndjson_auto iceberg_scan delta_scan read_text read_blob read_xlsx'.split(
    ' ',
  ),
);
const SPARK_FILE_FORMATS = new Set(['parquet', 'csv', 'json', 'orc', 'avro', 'delta', 'text', 'binaryfile', 'iceberg']);

function dsKey(ds: DatasetId): string {
  return `${ds.namespace}\u0000${ds.name}`;
}

function dedupeOrigins(list: Origin[]): Origin[] {
  const m = new Map<string, Origin>();
  for (const o of list) {
    const k = `${dsKey(o.ds)}\u0000${o.field}`;
    const prev = m.get(k);
    if (!prev) m.set(k, { ...o });
    else {
      prev.rank = Math.max(prev.rank, o.rank);
      prev.masking = prev.masking || o.masking;
    }
  }
  return [...m.values()];
}

function dedupeIndirect(list: IndirectOrigin[]): IndirectOrigin[] {
  const m = new Map<string, IndirectOrigin>();
  for (const o of list) m.set(`${dsKey(o.ds)}\u0000${o.field}\u0000${o.subtype}`, o);
  return [...m.values()];
}

/** A CTE or temporary view, resolved lazily once per scope. */
interface NamedQuery {
  query: Query;
  columns?: string[];
  resolved?: Resolved;
  resolving?: boolean;
  scope: Scope;
}

/** Lexical scope: the CTEs visible at a point, chained to the enclosing scope. */
class Scope {
  readonly ctes = new Map<string, NamedQuery>();
  constructor(readonly parent?: Scope) {}
  lookup(name: string): NamedQuery | undefined {
    return this.ctes.get(name) ?? this.parent?.lookup(name);
  }
}

/** Relations of one FROM clause, chained to the outer query's relations for correlated references. */
interface RelScope {
  rels: Relation[];
  outer?: RelScope;
  /** SELECT-list aliases usable in GROUP BY / ORDER BY / HAVING. */
  aliases?: Map<string, Col>;
}

/** Resolves parsed statements into inputs, outputs and column lineage. */
export class LineageResolver {
  private readonly inputs = new Map<string, LineageInput>();
  private readonly outputs = new Map<string, LineageOutput>();
  /** Views defined in the script or supplied by the catalog, by qualified name. */
  private readonly views = new Map<string, { query?: Query; sql?: string; columns?: string[]; temporary: boolean; ds: DatasetId; resolved?: Resolved }>();
  /** Known table schemas, by qualified name. */
  private readonly tables = new Map<string, SchemaField[]>();
  /** Flink connector tables: qualified name → physical dataset. */
  private readonly connectors = new Map<string, DatasetId>();
  private readonly defaults: { catalog?: string; schema?: string };
  readonly warnings: string[] = [];
  /** Datasets written by the statement being resolved, which it must not count as inputs. */
  private dmlTarget?: string;
  /** Above 0 while a catalog view's definition is resolved: its tables are not this job's inputs. */
  private muted = 0;

  constructor(
    private readonly dialect: Dialect,
    private readonly ctx: ExtractionContext,
  ) {
    this.defaults = { catalog: ctx.defaultCatalog, schema: ctx.defaultSchema };
    for (const [name, fields] of Object.entries(ctx.catalog?.tables ?? {})) this.tables.set(name, fields);
    for (const [name, view] of Object.entries(ctx.catalog?.views ?? {})) {
      this.views.set(name, { sql: view.sql, columns: view.columns, temporary: false, ds: { namespace: ctx.namespace, name } });
    }
  }

  /** The inputs gathered so far. */
  inputList(): LineageInput[] {
    return [...this.inputs.values()];
  }

  /** The outputs gathered so far. */
  outputList(): LineageOutput[] {
    return [...this.outputs.values()];
  }

  // ---- statements ----

  /** Adds one statement's lineage. Throws when the statement cannot be resolved. */
  statement(stmt: Statement): void {
    this.dmlTarget = undefined;
    switch (stmt.kind) {
      case 'query':
        this.query(stmt.query, new Scope(), undefined);
        return;
      case 'use':
        this.use(stmt.parts);
        return;
      case 'block':
        for (const s of stmt.statements) this.statement(s);
        return;
      case 'other':
        return;
      case 'insert': {
        const resolved = this.query(stmt.query, new Scope(), undefined);
        if (stmt.directory !== undefined) {
          this.addOutput(fileDataset(stmt.directory), stmt.overwrite ? 'OVERWRITE' : 'INSERT', false, undefined, resolved, stmt.columns);
          return;
        }
        const target = this.tableDataset(stmt.target);
        this.addOutput(target.ds, stmt.overwrite ? 'OVERWRITE' : 'INSERT', false, target.fields, resolved, stmt.columns);
        return;
      }
      case 'multiInsert': {
        const scope = this.cteScope(stmt.ctes, new Scope());
        const rels = this.fromRelations(stmt.from, scope, undefined);
        const shared = this.fromIndirect(stmt.from, rels);
        for (const b of stmt.branches) {
          const resolved = this.select(b.select, scope, undefined, rels);
          resolved.indirect.push(...shared);
          if (b.directory !== undefined) {
            this.addOutput(fileDataset(b.directory), b.overwrite ? 'OVERWRITE' : 'INSERT', false, undefined, resolved, b.columns);
            continue;
          }
          const target = this.tableDataset(b.target);
          this.addOutput(target.ds, b.overwrite ? 'OVERWRITE' : 'INSERT', false, target.fields, resolved, b.columns);
        }
        return;
      }
      case 'createTable': {
        const qualified = qualifyTableName(stmt.target, this.dialect, this.defaults);
        if (this.dialect === 'flink' && !stmt.query && stmt.options.connector !== undefined) {
          // Flink DDL registers a connector table in the session catalog; the job writes nothing.
          const physical = flinkConnectorDataset(stmt.options);
          if (physical) this.connectors.set(qualified, physical);
          if (stmt.columns.length > 0)
            this.tables.set(
              qualified,
              stmt.columns.map((c) => ({ name: c.name, type: c.type || undefined })),
            );
          return;
        }
        const ds = { namespace: this.ctx.namespace, name: qualified };
        if (stmt.query) {
          const resolved = this.query(stmt.query, new Scope(), undefined);
          const declared = stmt.columns.length > 0 ? stmt.columns.map((c) => ({ name: c.name, type: c.type || undefined })) : undefined;
          const out = this.addOutput(
            ds,
            'CREATE',
            false,
            declared,
            resolved,
            declared?.map((c) => c.name),
          );
          if (out.fields) this.tables.set(qualified, out.fields);
          return;
        }
        let fields: SchemaField[] | undefined = stmt.columns.length > 0 ? stmt.columns.map((c) => ({ name: c.name, type: c.type || undefined })) : undefined;
        if (stmt.like) {
          const src = this.tableDataset(stmt.like);
          fields = src.fields;
        }
        if (fields) this.tables.set(qualified, fields);
        if (stmt.temporary) return;
        this.addOutput(ds, 'CREATE', false, fields, { cols: undefined, indirect: [] }, undefined);
        return;
      }
      case 'createView': {
        const qualified = qualifyTableName(stmt.target, this.dialect, this.defaults);
        const ds = { namespace: this.ctx.namespace, name: qualified };
        const resolved = this.query(stmt.query, new Scope(), undefined);
        const cols = resolved.cols && stmt.columns ? renameCols(resolved.cols, stmt.columns) : resolved.cols;
        this.views.set(qualified, { query: stmt.query, columns: stmt.columns, temporary: stmt.temporary, ds, resolved: { cols, indirect: resolved.indirect } });
        if (stmt.temporary) return;
        this.addOutput(ds, 'CREATE', true, undefined, { cols, indirect: resolved.indirect }, undefined);
        return;
      }
      case 'merge':
        this.merge(stmt);
        return;
      case 'update': {
        const target = this.tableDataset(stmt.target);
        this.dmlTarget = dsKey(target.ds);
        const targetRel: Relation = {
          qualifiers: this.qualifiersOf(stmt.target, stmt.alias),
          ds: target.ds,
          cols: target.fields ? this.baseCols(target.ds, target.fields) : undefined,
        };
        const scope = new Scope();
        const rels = [targetRel, ...this.fromRelations(stmt.from, scope, undefined)];
        const rs: RelScope = { rels };
        const indirect = [...this.fromIndirect(stmt.from, rels)];
        if (stmt.where) indirect.push(...this.indirectOf(stmt.where, rs, scope, 'FILTER'));
        const cols: Col[] = stmt.sets.map((s) => this.itemCol(s.column, s.expr, rs, scope));
        this.addOutput(
          target.ds,
          'UPDATE',
          false,
          target.fields,
          { cols, indirect },
          cols.map((c) => c.name),
        );
        return;
      }
      case 'delete': {
        const target = this.tableDataset(stmt.target);
        this.dmlTarget = dsKey(target.ds);
        const targetRel: Relation = {
          qualifiers: this.qualifiersOf(stmt.target, stmt.alias),
          ds: target.ds,
          cols: target.fields ? this.baseCols(target.ds, target.fields) : undefined,
        };
        const scope = new Scope();
        const rels = [targetRel, ...this.fromRelations(stmt.using, scope, undefined)];
        const indirect = [...this.fromIndirect(stmt.using, rels)];
        if (stmt.where) indirect.push(...this.indirectOf(stmt.where, { rels }, scope, 'FILTER'));
        this.addOutput(target.ds, 'DELETE', false, target.fields, { cols: [], indirect }, []);
        return;
      }
    }
  }

  private use(parts: string[]): void {
    if (this.dialect === 'trino' || this.dialect === 'presto' || this.dialect === 'flink' || this.dialect === 'duckdb') {
      if (parts.length >= 2) {
        this.defaults.catalog = parts[0];
        this.defaults.schema = parts[1];
      } else this.defaults.schema = parts[0];
    } else {
      this.defaults.schema = parts[parts.length - 1];
    }
  }

  private merge(stmt: Extract<Statement, { kind: 'merge' }>): void {
    const target = this.tableDataset(stmt.target);
    this.dmlTarget = dsKey(target.ds);
    const scope = new Scope();
    const targetRel: Relation = {
      qualifiers: this.qualifiersOf(stmt.target, stmt.alias),
      ds: target.ds,
      cols: target.fields ? this.baseCols(target.ds, target.fields) : undefined,
    };
    const sourceRels = this.fromRelations([stmt.source], scope, undefined);
    const rels = [targetRel, ...sourceRels];
    const rs: RelScope = { rels };
    const indirect = [...this.indirectOf(stmt.on, rs, scope, 'JOIN')];
    const byName = new Map<string, Col>();
    const add = (col: Col) => {
      const prev = byName.get(col.name);
      if (!prev) byName.set(col.name, col);
      else {
        prev.origins = dedupeOrigins([...prev.origins, ...col.origins]);
        prev.indirect = dedupeIndirect([...prev.indirect, ...col.indirect]);
      }
    };
    const sourceCols = (): Col[] => {
      const src = sourceRels[0];
      if (src?.cols) return src.cols;
      if (target.fields && src) return target.fields.map((f) => this.colOfRelation(src, f.name));
      this.warnings.push(`MERGE … * into ${target.ds.name}: the source's columns are unknown`);
      return [];
    };
    for (const action of stmt.actions) {
      const condIndirect = action.cond ? this.indirectOf(action.cond, rs, scope, 'CONDITIONAL') : [];
      indirect.push(...condIndirect);
      if (action.kind === 'update') {
        if (action.star) for (const c of sourceCols()) add({ ...c, origins: c.origins.map((o) => ({ ...o })) });
        for (const s of action.sets) add(this.itemCol(s.column, s.expr, rs, scope));
      } else if (action.kind === 'insert') {
        if (action.star) {
          for (const c of sourceCols()) add({ ...c, origins: c.origins.map((o) => ({ ...o })) });
          continue;
        }
        const names = action.columns ?? target.fields?.map((f) => f.name) ?? [];
        action.values.forEach((v, i) => {
          const name = names[i];
          if (name === undefined) {
            this.warnings.push(`MERGE INSERT value ${i + 1} into ${target.ds.name}: no column name`);
            return;
          }
          add(this.itemCol(name, v, rs, scope));
        });
      }
    }
    this.addOutput(target.ds, 'MERGE', false, target.fields, { cols: [...byName.values()], indirect }, [...byName.keys()]);
  }

  // ---- outputs ----

  private addOutput(
    ds: DatasetId,
    operation: OutputOperation,
    view: boolean,
    declared: SchemaField[] | undefined,
    resolved: Resolved,
    columns: string[] | undefined,
  ): LineageOutput {
    let cols = resolved.cols;
    if (cols && columns && columns.length > 0) {
      if (columns.length !== cols.length && operation !== 'MERGE' && operation !== 'UPDATE') {
        this.warnings.push(`${ds.name}: ${columns.length} target columns for ${cols.length} values`);
      }
      cols = renameCols(cols, columns);
    } else if (cols && declared && declared.length === cols.length && operation !== 'MERGE' && operation !== 'UPDATE') {
      cols = renameCols(
        cols,
        declared.map((f) => f.name),
      );
    }
    const key = dsKey(ds);
    let out = this.outputs.get(key);
    if (!out) {
      out = { ...ds, operation, view, columnLineage: {}, datasetLineage: [] };
      this.outputs.set(key, out);
    } else if (operation === 'CREATE' || operation === 'OVERWRITE') out.operation = operation;
    // Names alone are a schema only for what this statement creates; an INSERT's target may have more columns.
    const fields =
      declared ?? (operation === 'CREATE' ? cols?.filter((c) => c.name !== '').map((c) => ({ name: c.name, ...(c.type ? { type: c.type } : {}) })) : undefined);
    if (fields && fields.length > 0 && (operation === 'CREATE' || !out.fields)) out.fields = fields;
    for (const c of cols ?? []) {
      if (c.name === '') continue;
      const fieldsIn: InputField[] = [
        ...c.origins.map((o) => ({
          namespace: o.ds.namespace,
          name: o.ds.name,
          field: o.field,
          transformations: [{ type: 'DIRECT' as const, subtype: RANK_SUBTYPE[o.rank] ?? 'TRANSFORMATION', ...(o.masking ? { masking: true } : {}) }],
        })),
        ...c.indirect.map((o) => ({
          namespace: o.ds.namespace,
          name: o.ds.name,
          field: o.field,
          transformations: [{ type: 'INDIRECT' as const, subtype: o.subtype }],
        })),
      ];
      if (fieldsIn.length === 0) continue;
      out.columnLineage[c.name] = mergeInputFields(out.columnLineage[c.name] ?? [], fieldsIn);
    }
    const ind = dedupeIndirect(resolved.indirect).map((o) => ({
      namespace: o.ds.namespace,
      name: o.ds.name,
      field: o.field,
      transformations: [{ type: 'INDIRECT' as const, subtype: o.subtype }],
    }));
    out.datasetLineage = mergeInputFields(out.datasetLineage, ind);
    return out;
  }

  private addInput(ds: DatasetId, fields?: SchemaField[]): void {
    const key = dsKey(ds);
    if (key === this.dmlTarget || this.muted > 0) return;
    if (!this.inputs.has(key)) this.inputs.set(key, { ...ds, ...(fields ? { fields } : {}) });
  }

  // ---- datasets ----

  private tableDataset(parts: string[]): { ds: DatasetId; fields?: SchemaField[] } {
    const qualified = qualifyTableName(parts, this.dialect, this.defaults);
    const physical = this.connectors.get(qualified);
    if (physical) return { ds: physical, fields: this.tables.get(qualified) };
    if (
      (this.dialect === 'spark' || this.dialect === 'hive') &&
      parts.length === 2 &&
      SPARK_FILE_FORMATS.has((parts[0] ?? '').toLowerCase()) &&
      /[/:]/.test(parts[1] ?? '')
    ) {
      return { ds: fileDataset(parts[1] ?? '') };
    }
    return { ds: { namespace: this.ctx.namespace, name: qualified }, fields: this.tables.get(qualified) };
  }

  private qualifiersOf(parts: string[], alias: string | undefined): string[][] {
    if (alias !== undefined) return [[alias]];
    const out: string[][] = [];
    for (let i = parts.length - 1; i >= 0; i--) out.push(parts.slice(i));
    return out;
  }

  private baseCols(ds: DatasetId, fields: SchemaField[]): Col[] {
    return fields.map((f) => ({ name: f.name, origins: [{ ds, field: f.name, rank: 0, masking: false }], indirect: [], type: f.type }));
  }

  // ---- queries ----

  private cteScope(ctes: Cte[], parent: Scope): Scope {
    if (ctes.length === 0) return parent;
    const scope = new Scope(parent);
    for (const cte of ctes) {
      // A CTE sees the CTEs before it (and itself when recursive).
      scope.ctes.set(cte.name, { query: cte.query, columns: cte.columns, scope });
    }
    return scope;
  }

  private query(q: Query, parentScope: Scope, outer: RelScope | undefined): Resolved {
    const scope = this.cteScope(q.ctes, parentScope);
    const resolved = this.body(q.body, scope, outer);
    for (const e of q.orderBy) {
      // ORDER BY of the whole query refers to output names or to the last block's relations; keep it dataset-wide.
      const byName = resolved.cols ? new Map(resolved.cols.map((c) => [c.name, c])) : undefined;
      if (e.bare && e.bare.qualifier.length === 0 && byName?.has(e.bare.name)) {
        const c = byName.get(e.bare.name) as Col;
        resolved.indirect.push(...c.origins.map((o) => ({ ds: o.ds, field: o.field, subtype: 'SORT' })));
      }
    }
    return resolved;
  }

  private body(b: QueryBody, scope: Scope, outer: RelScope | undefined): Resolved {
    switch (b.kind) {
      case 'select':
        return this.select(b, scope, outer);
      case 'nested':
        return this.query(b.query, scope, outer);
      case 'setop': {
        const l = this.body(b.left, scope, outer);
        const r = this.body(b.right, scope, outer);
        const indirect = [...l.indirect, ...r.indirect];
        if (!l.cols || !r.cols) return { cols: l.cols ?? undefined, indirect };
        const cols = l.cols.map((c, i) => {
          const rc = r.cols?.[i];
          return {
            name: c.name,
            origins: dedupeOrigins([...c.origins, ...(rc?.origins ?? [])]),
            indirect: dedupeIndirect([...c.indirect, ...(rc?.indirect ?? [])]),
            type: c.type,
          };
        });
        return { cols, indirect };
      }
      case 'values': {
        const rs: RelScope = { rels: [], outer };
        const first = b.rows[0] ?? [];
        const cols = first.map((_, i) => {
          const origins: Origin[] = [];
          const indirect: IndirectOrigin[] = [];
          for (const row of b.rows) {
            const e = row[i];
            if (!e) continue;
            const c = this.exprCol('', e, rs, scope);
            origins.push(...c.origins);
            indirect.push(...c.indirect);
          }
          return { name: `col${i + 1}`, origins: dedupeOrigins(origins), indirect };
        });
        return { cols, indirect: [] };
      }
      case 'tableRef': {
        const rel = this.tableRelation(b.name, undefined, scope);
        return { cols: rel.cols, indirect: [] };
      }
    }
  }

  private select(sel: Select, scope: Scope, outer: RelScope | undefined, sharedRels?: Relation[]): Resolved {
    const rels = sharedRels ?? this.fromRelations(sel.from, scope, outer);
    const rs: RelScope = { rels, outer };
    const indirect: IndirectOrigin[] = sharedRels ? [] : this.fromIndirect(sel.from, rels, scope, outer);
    const cols: Col[] = [];
    let unknown = false;
    let position = 0;
    for (const item of sel.items) {
      if (item.star) {
        const expanded = this.expandStar(item.star.qualifier, item.star.except, rels);
        if (expanded === undefined) unknown = true;
        else cols.push(...expanded);
        continue;
      }
      position++;
      const name = item.alias ?? item.expr.bare?.name ?? this.implicitName(item.expr, position);
      cols.push(this.itemCol(name, item.expr, rs, scope));
    }
    const aliasScope: RelScope = { rels, outer, aliases: new Map(cols.map((c) => [c.name, c])) };
    if (sel.where) indirect.push(...this.indirectOf(sel.where, rs, scope, 'FILTER'));
    for (const g of sel.groupBy) indirect.push(...this.indirectOf(g, aliasScope, scope, 'GROUP_BY'));
    if (sel.having) indirect.push(...this.indirectOf(sel.having, aliasScope, scope, 'FILTER'));
    if (sel.qualify) indirect.push(...this.indirectOf(sel.qualify, aliasScope, scope, 'FILTER'));
    for (const s of sel.sort) indirect.push(...this.indirectOf(s, aliasScope, scope, 'SORT'));
    return { cols: unknown ? undefined : cols, indirect };
  }

  private implicitName(e: ExprInfo, position: number): string {
    // Engines name unaliased expressions differently (Trino `_col0`, PostgreSQL `?column?`); lineage keeps them out.
    if (e.refs.length === 0 && e.subqueries.length === 0) return '';
    return this.dialect === 'trino' || this.dialect === 'presto' ? `_col${position - 1}` : '';
  }

  private expandStar(qualifier: string[], except: string[], rels: Relation[]): Col[] | undefined {
    const targets = qualifier.length === 0 ? rels : rels.filter((r) => matchesQualifier(r, qualifier));
    if (qualifier.length > 0 && targets.length === 0) throw new Error(`unknown relation ${qualifier.join('.')} in ${qualifier.join('.')}.*`);
    const out: Col[] = [];
    for (const r of targets) {
      if (!r.cols) {
        this.warnings.push(`* over ${r.ds?.name ?? 'a relation'} whose columns are unknown`);
        return undefined;
      }
      for (const c of r.cols) if (!except.includes(c.name)) out.push({ ...c, origins: c.origins.map((o) => ({ ...o })) });
    }
    return out;
  }

  /** A projected column: the DIRECT origins of its expression and its own indirect ones. */
  private itemCol(name: string, e: ExprInfo, rs: RelScope, scope: Scope): Col {
    return this.exprCol(name, e, rs, scope);
  }

  private exprCol(name: string, e: ExprInfo, rs: RelScope, scope: Scope): Col {
    const origins: Origin[] = [];
    const indirect: IndirectOrigin[] = [];
    const bare = e.bare !== undefined && !e.aggregate && !e.masking;
    for (const ref of e.refs) {
      const col = this.resolveRef(ref, rs);
      if (!col) continue;
      for (const o of col.origins) {
        const rank = Math.max(o.rank, bare ? 0 : e.aggregate ? 2 : 1);
        origins.push({ ds: o.ds, field: o.field, rank, masking: o.masking || e.masking });
      }
      indirect.push(...col.indirect);
    }
    for (const sq of e.subqueries) {
      const r = this.query(sq, scope, rs);
      const first = r.cols?.[0];
      if (first) {
        for (const o of first.origins) origins.push({ ...o, rank: Math.max(o.rank, 1) });
        indirect.push(...first.indirect);
      }
      indirect.push(...r.indirect);
    }
    for (const ref of e.condRefs) indirect.push(...this.refIndirect(ref, rs, 'CONDITIONAL'));
    for (const ref of e.windowRefs) indirect.push(...this.refIndirect(ref, rs, 'WINDOW'));
    return { name, origins: dedupeOrigins(origins), indirect: dedupeIndirect(indirect) };
  }

  private refIndirect(ref: ColumnRef, rs: RelScope, subtype: string): IndirectOrigin[] {
    const col = this.resolveRef(ref, rs);
    return col ? col.origins.map((o) => ({ ds: o.ds, field: o.field, subtype })) : [];
  }

  /** Indirect (dataset-wide) dependencies of a filter, join condition, grouping or sort key. */
  private indirectOf(e: ExprInfo, rs: RelScope, scope: Scope, subtype: string): IndirectOrigin[] {
    const out: IndirectOrigin[] = [];
    for (const ref of [...e.refs, ...e.condRefs, ...e.windowRefs]) out.push(...this.refIndirect(ref, rs, subtype));
    for (const sq of e.subqueries) {
      const r = this.query(sq, scope, rs);
      for (const c of r.cols ?? []) out.push(...c.origins.map((o) => ({ ds: o.ds, field: o.field, subtype })));
      out.push(...r.indirect);
    }
    return out;
  }

  // ---- FROM ----

  private fromRelations(items: FromItem[], scope: Scope, outer: RelScope | undefined): Relation[] {
    const out: Relation[] = [];
    for (const item of items) this.collectRelations(item, scope, outer, out);
    return out;
  }

  private collectRelations(item: FromItem, scope: Scope, outer: RelScope | undefined, out: Relation[]): void {
    switch (item.kind) {
      case 'table': {
        const rel = this.tableRelation(item.name, item.alias, scope);
        if (item.columnAliases && rel.cols) rel.cols = renameCols(rel.cols, item.columnAliases);
        out.push(rel);
        return;
      }
      case 'derived': {
        const r = this.query(item.query, scope, outer);
        let cols = r.cols;
        if (cols && item.columnAliases) cols = renameCols(cols, item.columnAliases);
        // Rows of a derived table are already filtered by its own clauses: carry them as indirect per column.
        const carried = cols?.map((c) => ({ ...c, indirect: dedupeIndirect([...c.indirect, ...r.indirect]) }));
        out.push({ qualifiers: item.alias !== undefined ? [[item.alias]] : [], cols: carried });
        return;
      }
      case 'function': {
        const fname = (item.name[item.name.length - 1] ?? '').toLowerCase();
        if (FILE_FUNCTIONS.has(fname) && item.literalArgs.length > 0) {
          for (const p of item.literalArgs) this.addInput(fileDataset(p));
          const ds = fileDataset(item.literalArgs[0] ?? '');
          out.push({ qualifiers: item.alias !== undefined ? [[item.alias]] : [[fname]], ds, cols: undefined });
          return;
        }
        const rs: RelScope = { rels: [...out], outer };
        const argCol = this.exprCol('', item.args, rs, scope);
        const cols = item.columnAliases?.map((n) => ({ name: n, origins: argCol.origins.map((o) => ({ ...o, rank: Math.max(o.rank, 1) })), indirect: [] }));
        const single =
          item.alias !== undefined && !item.columnAliases && argCol.origins.length > 0
            ? [{ name: item.alias, origins: argCol.origins.map((o) => ({ ...o, rank: Math.max(o.rank, 1) })), indirect: [] }]
            : undefined;
        out.push({ qualifiers: item.alias !== undefined ? [[item.alias]] : [], cols: cols ?? single ?? [] });
        return;
      }
      case 'file': {
        const ds = fileDataset(item.path);
        this.addInput(ds);
        out.push({ qualifiers: item.alias !== undefined ? [[item.alias]] : [], ds, cols: undefined });
        return;
      }
      case 'join':
        this.collectRelations(item.left, scope, outer, out);
        this.collectRelations(item.right, scope, outer, out);
        return;
      case 'tvf': {
        const inner: Relation[] = [];
        this.collectRelations(item.source, scope, outer, inner);
        const src = inner[0];
        // Window TVFs add window_start / window_end / window_time, computed from the time attribute.
        const timeCol = this.exprCol('', item.args, { rels: inner, outer }, scope);
        const windowCols = ['window_start', 'window_end', 'window_time'].map((n) => ({
          name: n,
          origins: timeCol.origins.map((o) => ({ ...o, rank: 1 })),
          indirect: [],
        }));
        out.push({
          qualifiers: item.alias !== undefined ? [[item.alias]] : (src?.qualifiers ?? []),
          ds: src?.ds,
          cols: src?.cols ? [...src.cols, ...windowCols] : undefined,
          extra: windowCols,
        });
        return;
      }
      case 'lateralView': {
        this.collectRelations(item.base, scope, outer, out);
        const argCol = this.exprCol('', item.fn, { rels: [...out], outer }, scope);
        const cols = item.columnAliases.map((n) => ({ name: n, origins: argCol.origins.map((o) => ({ ...o, rank: Math.max(o.rank, 1) })), indirect: [] }));
        out.push({ qualifiers: item.alias !== undefined ? [[item.alias]] : [], cols });
        return;
      }
    }
  }

  /** JOIN conditions (and USING / NATURAL columns) of a FROM clause, as indirect dependencies. */
  private fromIndirect(items: FromItem[], rels: Relation[], scope = new Scope(), outer?: RelScope): IndirectOrigin[] {
    const out: IndirectOrigin[] = [];
    const rs: RelScope = { rels, outer };
    const walk = (item: FromItem) => {
      if (item.kind === 'join') {
        walk(item.left);
        walk(item.right);
        if (item.on) out.push(...this.indirectOf(item.on, rs, scope, 'JOIN'));
        for (const u of item.using ?? []) {
          for (const r of rels) {
            const c = r.cols ? r.cols.find((x) => x.name === u) : r.ds ? this.colOfRelation(r, u) : undefined;
            if (c) out.push(...c.origins.map((o) => ({ ds: o.ds, field: o.field, subtype: 'JOIN' })));
          }
        }
      }
      if (item.kind === 'lateralView') walk(item.base);
    };
    for (const i of items) walk(i);
    return out;
  }

  private tableRelation(parts: string[], alias: string | undefined, scope: Scope): Relation {
    const qualifiers = this.qualifiersOf(parts, alias);
    if (parts.length === 1) {
      const cte = scope.lookup(parts[0] ?? '');
      if (cte) {
        if (cte.resolving) {
          // Recursive reference: the anchor part is what we know.
          return { qualifiers, cols: cte.resolved?.cols };
        }
        if (!cte.resolved) {
          cte.resolving = true;
          try {
            const r = this.resolveRecursive(cte);
            cte.resolved = r;
          } finally {
            cte.resolving = false;
          }
        }
        const r = cte.resolved as Resolved;
        const cols = r.cols?.map((c) => ({ ...c, indirect: dedupeIndirect([...c.indirect, ...r.indirect]) }));
        return { qualifiers, cols };
      }
    }
    const qualified = qualifyTableName(parts, this.dialect, this.defaults);
    const view = this.views.get(qualified);
    if (view) {
      if (!view.resolved) {
        const q = view.query ?? this.parseViewSql(view.sql ?? '', qualified);
        this.muted++;
        let r: Resolved;
        try {
          r = this.query(q, new Scope(), undefined);
        } finally {
          this.muted--;
        }
        view.resolved = { cols: r.cols && view.columns ? renameCols(r.cols, view.columns) : r.cols, indirect: r.indirect };
        if (!view.resolved.cols && view.columns) view.resolved.cols = view.columns.map((n) => ({ name: n, origins: [], indirect: [] }));
      }
      if (view.temporary) {
        const r = view.resolved;
        const cols = r.cols?.map((c) => ({ ...c, indirect: dedupeIndirect([...c.indirect, ...r.indirect]) }));
        return { qualifiers, cols };
      }
      // A persistent view is a dataset of its own: read its columns, which the view's own lineage links onward.
      const cols = view.resolved.cols?.map((c) => ({
        name: c.name,
        origins: [{ ds: view.ds, field: c.name, rank: 0, masking: false }],
        indirect: [],
        type: c.type,
      }));
      this.addInput(
        view.ds,
        cols?.map((c) => ({ name: c.name })),
      );
      return { qualifiers, ds: view.ds, cols };
    }
    const { ds, fields } = this.tableDataset(parts);
    this.addInput(ds, fields);
    return { qualifiers, ds, cols: fields ? this.baseCols(ds, fields) : undefined };
  }

  private resolveRecursive(cte: NamedQuery): Resolved {
    const q = cte.query;
    // For WITH RECURSIVE, resolve the anchor first so the recursive part can read its columns.
    if (q.body.kind === 'setop') {
      let anchor: QueryBody = q.body;
      while (anchor.kind === 'setop') anchor = anchor.left;
      const inner = this.cteScope(q.ctes, cte.scope);
      const a = this.body(anchor, inner, undefined);
      cte.resolved = { cols: a.cols && cte.columns ? renameCols(a.cols, cte.columns) : a.cols, indirect: a.indirect };
    }
    const r = this.query(q, cte.scope, undefined);
    return { cols: r.cols && cte.columns ? renameCols(r.cols, cte.columns) : r.cols, indirect: r.indirect };
  }

  private parseViewSql(sql: string, name: string): Query {
    const parsed = parseScript(sql, this.dialect)[0];
    const stmt = parsed?.statement;
    if (!stmt) throw new Error(`view ${name}: ${parsed?.error?.message ?? 'empty definition'}`);
    if (stmt.kind === 'query') return stmt.query;
    if (stmt.kind === 'createView') return stmt.query;
    throw new Error(`view ${name}: the definition is not a query`);
  }

  // ---- column references ----

  private colOfRelation(r: Relation, name: string): Col {
    const known = r.cols?.find((c) => c.name === name) ?? r.extra?.find((c) => c.name === name);
    if (known) return known;
    if (r.ds && !r.cols) return { name, origins: [{ ds: r.ds, field: name, rank: 0, masking: false }], indirect: [] };
    return { name, origins: [], indirect: [] };
  }

  /** Finds the column a reference denotes, in this scope or an outer one (correlation). */
  private resolveRef(ref: ColumnRef, rs: RelScope): Col | undefined {
    for (let s: RelScope | undefined = rs; s; s = s.outer) {
      const hit = this.resolveIn(ref, s);
      if (hit) return hit;
    }
    this.warnings.push(`column ${[...ref.qualifier, ref.name].join('.')} could not be attributed to an input`);
    return undefined;
  }

  private resolveIn(ref: ColumnRef, s: RelScope): Col | undefined {
    const rels = s.rels;
    if (ref.qualifier.length > 0) {
      // Longest qualifier prefix naming a relation; what follows the column is struct field access.
      for (let n = ref.qualifier.length; n >= 1; n--) {
        const q = ref.qualifier.slice(0, n);
        const r = rels.find((x) => matchesQualifier(x, q));
        if (r) {
          const colName = n === ref.qualifier.length ? ref.name : (ref.qualifier[n] ?? ref.name);
          const c = this.colOfRelation(r, colName);
          if (n < ref.qualifier.length) return { ...c, origins: c.origins.map((o) => ({ ...o, rank: Math.max(o.rank, 1) })) };
          if (r.cols && !r.cols.some((x) => x.name === colName)) return undefined;
          return c;
        }
      }
      // `col.field` on an unqualified struct column.
      const base = this.resolveIn({ qualifier: [], name: ref.qualifier[0] ?? '' }, s);
      if (base) return { ...base, origins: base.origins.map((o) => ({ ...o, rank: Math.max(o.rank, 1) })) };
      return undefined;
    }
    const withCol = rels.filter((r) => r.cols?.some((c) => c.name === ref.name) || r.extra?.some((c) => c.name === ref.name));
    if (withCol.length === 1) return this.colOfRelation(withCol[0] as Relation, ref.name);
    if (withCol.length > 1) {
      this.warnings.push(`column ${ref.name} is ambiguous`);
      return { name: ref.name, origins: dedupeOrigins(withCol.flatMap((r) => this.colOfRelation(r, ref.name).origins)), indirect: [] };
    }
    const alias = s.aliases?.get(ref.name);
    if (alias) return alias;
    const unknown = rels.filter((r) => r.cols === undefined && r.ds);
    if (unknown.length === 1) return this.colOfRelation(unknown[0] as Relation, ref.name);
    return undefined;
  }
}

function matchesQualifier(r: Relation, q: string[]): boolean {
  return r.qualifiers.some((x) => x.length === q.length && x.every((p, i) => p === q[i]));
}

function renameCols(cols: Col[], names: string[]): Col[] {
  return cols.map((c, i) => ({ ...c, name: names[i] ?? c.name }));
}

function mergeInputFields(a: InputField[], b: InputField[]): InputField[] {
  const m = new Map<string, InputField>();
  for (const f of [...a, ...b]) {
    const k = `${f.namespace}\u0000${f.name}\u0000${f.field}`;
    const prev = m.get(k);
    if (!prev) {
      m.set(k, { ...f, transformations: [...f.transformations] });
      continue;
    }
    for (const t of f.transformations) {
      if (!prev.transformations.some((x) => x.type === t.type && x.subtype === t.subtype)) prev.transformations.push(t);
    }
  }
  return [...m.values()];
}
