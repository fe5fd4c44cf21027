import type { PgConversion, PgKind } from './pg-values.ts';

/** A column's type as the session resolved it: its SQL name and how its values convert. */
export interface PgColumnType {
  /** Upper-case SQL name from format_type, e.g. `NUMERIC(10,2)`, `TIMESTAMP WITH TIME ZONE`, `INTEGER[]`. */
  name: string;
  conversion: PgConversion;
}

/** Kinds of the built-in base types whose text needs converting; their OIDs are fixed in every PostgreSQL. */
const BUILTIN_KINDS: ReadonlyMap<number, PgKind> = new Map<number, PgKind>([
  [16, 'bool'],
  [17, 'bytea'],
  [20, 'bigint'],
  [21, 'int'],
  [23, 'int'],
  [26, 'int'],
  [114, 'json'],
  [700, 'float'],
  [701, 'float'],
  [1082, 'date'],
  [1083, 'time'],
  [1114, 'timestamp'],
  [1184, 'timestamptz'],
  [1266, 'timetz'],
  [1700, 'numeric'],
  [3802, 'json'],
]);

/** The kind of a base type (text for everything without a special conversion). */
export function kindOfBaseType(oid: number): PgKind {
  return BUILTIN_KINDS.get(oid) ?? 'text';
}

/** Upper-cases a format_type name, leaving double-quoted identifiers as they are. */
export function upperSqlName(name: string): string {
  return name.replace(/"[^"]*"|[^"]+/g, (part) => (part.startsWith('"') ? part : part.toUpperCase()));
}

/** One row of {@link TYPE_LOOKUP_SQL}. */
export interface TypeLookupRow {
  oid: string;
  typmod: number;
  name: string;
  base: string;
  elem: string | null;
  delim: string | null;
}

/**
 * Resolves (oid, typmod) pairs in one round trip: the SQL name, the base type of a domain, and for an
 * array the (domain-resolved) element type and its delimiter. Parameters: `$1::int8[]` OIDs,
 * `$2::int4[]` typmods.
 */
export const TYPE_LOOKUP_SQL = `SELECT q.oid::text AS oid, q.typmod, format_type(q.oid::oid, q.typmod) AS name,
       b.oid::text AS base,
       CASE WHEN b.typcategory = 'A' AND b.typelem <> 0 THEN coalesce(nullif(e.typbasetype, 0), e.oid)::text END AS elem,
       CASE WHEN b.typcategory = 'A' AND b.typelem <> 0 THEN e.typdelim::text END AS delim
  FROM unnest($1::int8[], $2::int4[]) AS q(oid, typmod)
  JOIN pg_catalog.pg_type t ON t.oid = q.oid::oid
  JOIN pg_catalog.pg_type b ON b.oid = coalesce(nullif(t.typbasetype, 0), t.oid)
  LEFT JOIN pg_catalog.pg_type e ON e.oid = b.typelem`;

/** Builds a column type from its lookup row. */
export function columnTypeFromLookup(row: TypeLookupRow): PgColumnType {
  const name = upperSqlName(row.name);
  if (row.elem !== null) {
    return { name, conversion: { kind: kindOfBaseType(Number(row.elem)), array: { delimiter: row.delim ?? ',' } } };
  }
  return { name, conversion: { kind: kindOfBaseType(Number(row.base)) } };
}

/** The cache key of a column type. */
export function typeKey(oid: number, typmod: number): string {
  return `${oid}:${typmod}`;
}

/**
 * Column types resolved on one session, cached by (oid, typmod): the first statement that returns a
 * type costs one lookup query, later ones none.
 */
export class PgTypeCache {
  private readonly known = new Map<string, PgColumnType>();

  /** The pairs not resolved yet, without duplicates. */
  missing(fields: readonly { dataTypeID: number; dataTypeModifier: number }[]): { oid: number; typmod: number }[] {
    const out = new Map<string, { oid: number; typmod: number }>();
    for (const field of fields) {
      const key = typeKey(field.dataTypeID, field.dataTypeModifier);
      if (!this.known.has(key)) out.set(key, { oid: field.dataTypeID, typmod: field.dataTypeModifier });
    }
    return [...out.values()];
  }

  /** Records the answer of {@link TYPE_LOOKUP_SQL}. */
  add(rows: readonly TypeLookupRow[]): void {
    for (const row of rows) this.known.set(typeKey(Number(row.oid), row.typmod), columnTypeFromLookup(row));
  }

  /** The resolved type; an unknown one (dropped meanwhile) is text named after its OID. */
  get(oid: number, typmod: number): PgColumnType {
    return this.known.get(typeKey(oid, typmod)) ?? { name: `OID ${oid}`, conversion: { kind: 'text' } };
  }
}
