/** How a value of a PostgreSQL type is written: which encoder its text and binary forms use. */
export type ValueKind =
  | 'bool'
  | 'int2'
  | 'int4'
  | 'int8'
  | 'float4'
  | 'float8'
  | 'numeric'
  | 'text'
  | 'bytea'
  | 'date'
  | 'time'
  | 'timetz'
  | 'timestamp'
  | 'timestamptz'
  | 'interval'
  | 'uuid'
  | 'json'
  | 'jsonb';

/** A PostgreSQL type as pgwire describes a column: OID, size, modifier and how values encode. */
export interface PgType {
  oid: number;
  /** pg_type.typlen. */
  size: number;
  modifier: number;
  kind: ValueKind;
  /** Set for array types: the element type. */
  element?: PgType;
}

interface Base {
  oid: number;
  arrayOid: number;
  size: number;
  kind: ValueKind;
}

/** The built-in types pgwire uses, with their fixed OIDs. */
export const BASE_TYPES = {
  bool: { oid: 16, arrayOid: 1000, size: 1, kind: 'bool' },
  bytea: { oid: 17, arrayOid: 1001, size: -1, kind: 'bytea' },
  char: { oid: 18, arrayOid: 1002, size: 1, kind: 'text' },
  name: { oid: 19, arrayOid: 1003, size: 64, kind: 'text' },
  int8: { oid: 20, arrayOid: 1016, size: 8, kind: 'int8' },
  int2: { oid: 21, arrayOid: 1005, size: 2, kind: 'int2' },
  int4: { oid: 23, arrayOid: 1007, size: 4, kind: 'int4' },
  regproc: { oid: 24, arrayOid: 1008, size: 4, kind: 'text' },
  text: { oid: 25, arrayOid: 1009, size: -1, kind: 'text' },
  oid: { oid: 26, arrayOid: 1028, size: 4, kind: 'text' },
  json: { oid: 114, arrayOid: 199, size: -1, kind: 'json' },
  float4: { oid: 700, arrayOid: 1021, size: 4, kind: 'float4' },
  float8: { oid: 701, arrayOid: 1022, size: 8, kind: 'float8' },
  bpchar: { oid: 1042, arrayOid: 1014, size: -1, kind: 'text' },
  varchar: { oid: 1043, arrayOid: 1015, size: -1, kind: 'text' },
  date: { oid: 1082, arrayOid: 1182, size: 4, kind: 'date' },
  time: { oid: 1083, arrayOid: 1183, size: 8, kind: 'time' },
  timestamp: { oid: 1114, arrayOid: 1115, size: 8, kind: 'timestamp' },
  timestamptz: { oid: 1184, arrayOid: 1185, size: 8, kind: 'timestamptz' },
  interval: { oid: 1186, arrayOid: 1187, size: 16, kind: 'interval' },
  timetz: { oid: 1266, arrayOid: 1270, size: 12, kind: 'timetz' },
  numeric: { oid: 1700, arrayOid: 1231, size: -1, kind: 'numeric' },
  regclass: { oid: 2205, arrayOid: 2210, size: 4, kind: 'text' },
  regtype: { oid: 2206, arrayOid: 2211, size: 4, kind: 'text' },
  uuid: { oid: 2950, arrayOid: 2951, size: 16, kind: 'uuid' },
  jsonb: { oid: 3802, arrayOid: 3807, size: -1, kind: 'jsonb' },
} as const satisfies Record<string, Base>;

/** Type name → base type name, for the names DuckDB, PostgreSQL, MySQL, Trino and ClickHouse print. */
const ALIASES: Record<string, keyof typeof BASE_TYPES> = {
  BOOLEAN: 'bool',
  BOOL: 'bool',
  BIT: 'bool',
  TINYINT: 'int2',
  UTINYINT: 'int2',
  INT1: 'int2',
  SMALLINT: 'int2',
  INT2: 'int2',
  USMALLINT: 'int4',
  INTEGER: 'int4',
  INT: 'int4',
  INT4: 'int4',
  MEDIUMINT: 'int4',
  SIGNED: 'int4',
  UINTEGER: 'int8',
  BIGINT: 'int8',
  INT8: 'int8',
  LONG: 'int8',
  UBIGINT: 'numeric',
  HUGEINT: 'numeric',
  UHUGEINT: 'numeric',
  INT128: 'numeric',
  DECIMAL: 'numeric',
  NUMERIC: 'numeric',
  REAL: 'float4',
  FLOAT4: 'float4',
  FLOAT: 'float4',
  DOUBLE: 'float8',
  'DOUBLE PRECISION': 'float8',
  FLOAT8: 'float8',
  VARCHAR: 'text',
  TEXT: 'text',
  STRING: 'text',
  'CHARACTER VARYING': 'varchar',
  CHAR: 'bpchar',
  CHARACTER: 'bpchar',
  BPCHAR: 'bpchar',
  '"CHAR"': 'char',
  NAME: 'name',
  BLOB: 'bytea',
  BYTEA: 'bytea',
  VARBINARY: 'bytea',
  BINARY: 'bytea',
  DATE: 'date',
  TIME: 'time',
  'TIME WITHOUT TIME ZONE': 'time',
  TIME_NS: 'time',
  TIMETZ: 'timetz',
  'TIME WITH TIME ZONE': 'timetz',
  TIMESTAMP: 'timestamp',
  'TIMESTAMP WITHOUT TIME ZONE': 'timestamp',
  DATETIME: 'timestamp',
  TIMESTAMP_S: 'timestamp',
  TIMESTAMP_MS: 'timestamp',
  TIMESTAMP_NS: 'timestamp',
  TIMESTAMP_US: 'timestamp',
  TIMESTAMPTZ: 'timestamptz',
  'TIMESTAMP WITH TIME ZONE': 'timestamptz',
  INTERVAL: 'interval',
  UUID: 'uuid',
  JSON: 'json',
  JSONB: 'jsonb',
  STRUCT: 'json',
  MAP: 'json',
  UNION: 'json',
  ROW: 'json',
  OID: 'oid',
  REGPROC: 'regproc',
  REGCLASS: 'regclass',
  REGTYPE: 'regtype',
};

function make(base: Base, modifier = -1): PgType {
  return { oid: base.oid, size: base.size, modifier, kind: base.kind };
}

/** The type an unknown or exotic column is described as: text, its values in their text form. */
export const TEXT_TYPE: PgType = make(BASE_TYPES.text);

function scalar(name: string): PgType {
  const paren = name.indexOf('(');
  const head = (paren < 0 ? name : name.slice(0, paren)).trim();
  const args =
    paren < 0
      ? []
      : name
          .slice(paren + 1, name.lastIndexOf(')'))
          .split(',')
          .map((s) => s.trim());
  // Trino/ClickHouse wrappers and precision suffixes carry no type of their own.
  const inner = /^(NULLABLE|LOWCARDINALITY)$/.exec(head);
  if (inner && paren >= 0) return scalar(name.slice(paren + 1, name.lastIndexOf(')')));
  // Times and timestamps with a precision: TIMESTAMP(3) WITH TIME ZONE, TIME(6) WITHOUT TIME ZONE.
  const timed = /^(TIMESTAMP|TIME)\s*\(\d+\)(\s+WITH(OUT)? TIME ZONE)?$/.exec(name);
  if (timed) {
    const tz = timed[2] !== undefined && timed[3] === undefined;
    return make(timed[1] === 'TIME' ? (tz ? BASE_TYPES.timetz : BASE_TYPES.time) : tz ? BASE_TYPES.timestamptz : BASE_TYPES.timestamp);
  }
  const key = ALIASES[head] ?? ALIASES[head.replace(/\s*\(.*$/, '')] ?? (/^(U?INT\d+)$/.test(head) ? 'numeric' : undefined);
  if (!key) return /^INTERVAL\b/.test(name) ? make(BASE_TYPES.interval) : /^DATETIME64/.test(name) ? make(BASE_TYPES.timestamp) : TEXT_TYPE;
  const base = BASE_TYPES[key];
  if (key === 'numeric' && args.length >= 1 && (head === 'DECIMAL' || head === 'NUMERIC')) {
    const p = Number(args[0]);
    const s = Number(args[1] ?? 0);
    if (Number.isInteger(p) && Number.isInteger(s) && p > 0 && p <= 1000 && s >= 0 && s <= p) return make(base, ((p << 16) | s) + 4);
  }
  if ((key === 'varchar' || key === 'bpchar') && args.length === 1) {
    const n = Number(args[0]);
    if (Number.isInteger(n) && n > 0 && n < 10_485_760) return make(base, n + 4);
  }
  if (head === 'VARCHAR' && args.length === 1 && Number.isInteger(Number(args[0]))) return make(BASE_TYPES.varchar, Number(args[0]) + 4);
  return make(base);
}

/**
 * Maps a Sluice column type (an upper-case SQL type name as the engine printed it, e.g. `BIGINT`,
 * `DECIMAL(18,2)`, `TIMESTAMP WITH TIME ZONE`, `INTEGER[]`, `VARCHAR[3]`) to the PostgreSQL type a
 * client is told about. Types without a PostgreSQL counterpart (STRUCT, MAP, UNION) are described as
 * json and sent as JSON text; anything unknown is text.
 */
export function pgTypeOf(sluiceType: string): PgType {
  // Every statement maps its columns' types, and a session sees the same few again and again.
  let t = TYPE_OF.get(sluiceType);
  if (t === undefined) {
    t = mapType(sluiceType);
    if (TYPE_OF.size >= 1_000) TYPE_OF.clear();
    TYPE_OF.set(sluiceType, t);
  }
  return t;
}

/** Mapped types by Sluice type text (the objects are never modified). */
const TYPE_OF = new Map<string, PgType>();

function mapType(sluiceType: string): PgType {
  const name = sluiceType.trim().toUpperCase().replace(/\s+/g, ' ');
  const arr = /^(.*?)(\[\d*\])+$/.exec(name) ?? /^ARRAY\((.*)\)$/.exec(name) ?? /^ARRAY<(.*)>$/.exec(name);
  if (arr) {
    const element = scalar((arr[1] as string).trim());
    const base = Object.values(BASE_TYPES).find((b) => b.oid === element.oid) as Base | undefined;
    if (!base) return TEXT_TYPE;
    return { oid: base.arrayOid, size: -1, modifier: element.modifier, kind: element.kind, element };
  }
  if (/^LIST\((.*)\)$/.test(name)) return pgTypeOf(`${name.slice(5, -1)}[]`);
  return scalar(name);
}

/** The type of a parameter OID (as Parse names it), for decoding binary parameters; undefined if unknown. */
export function pgTypeByOid(oid: number): PgType | undefined {
  for (const b of Object.values(BASE_TYPES) as Base[]) {
    if (b.oid === oid) return make(b);
    if (b.arrayOid === oid) return { oid, size: -1, modifier: -1, kind: b.kind, element: make(b) };
  }
  return undefined;
}
