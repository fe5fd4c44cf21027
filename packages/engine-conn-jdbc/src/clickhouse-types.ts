/** A ClickHouse type, parsed: `Nullable(Array(Decimal(18, 2)))` → name and arguments. */
export interface ChType {
  name: string;
  /** Arguments: nested types for containers, raw text (numbers, quoted strings, enum items) for the rest. */
  args: ChArg[];
  /** The type's own text, as the server printed it. */
  text: string;
}

/** One argument of a type: a nested type, or raw text. */
export type ChArg = { type: ChType; fieldName?: string } | { raw: string };

const CONTAINERS = new Set(['Nullable', 'LowCardinality', 'Array', 'Tuple', 'Map', 'SimpleAggregateFunction', 'Nested']);

/** Splits `a, b(c, d), 'e,f'` at top-level commas. */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '`' || c === '"') {
      const quote = c;
      i += 1;
      while (i < text.length && text[i] !== quote) {
        if (text[i] === '\\') i += 1;
        i += 1;
      }
    } else if (c === '(') {
      depth += 1;
    } else if (c === ')') {
      depth -= 1;
    } else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last) out.push(last);
  return out;
}

/** Parses a type string as ClickHouse prints it in a result header. */
export function parseChType(text: string): ChType {
  const trimmed = text.trim();
  const open = trimmed.indexOf('(');
  if (open < 0 || !trimmed.endsWith(')')) return { name: trimmed, args: [], text: trimmed };
  const name = trimmed.slice(0, open);
  const inner = trimmed.slice(open + 1, -1);
  const parts = splitTopLevel(inner);
  if (!CONTAINERS.has(name)) return { name, args: parts.map((raw) => ({ raw })), text: trimmed };
  const args: ChArg[] = parts.map((part, index) => {
    // SimpleAggregateFunction(any, UInt64): the first argument is a function name.
    if (name === 'SimpleAggregateFunction' && index === 0) return { raw: part };
    // Named tuple elements and Nested columns: `name Type`.
    const named = /^([A-Za-z_][A-Za-z0-9_]*|`[^`]+`)\s+(.+)$/s.exec(part);
    if ((name === 'Tuple' || name === 'Nested') && named && /^[A-Z]/.test(named[2]!)) {
      return { type: parseChType(named[2]!), fieldName: named[1]!.replace(/`/g, '') };
    }
    return { type: parseChType(part) };
  });
  return { name, args, text: trimmed };
}

/** The nested types of a container (its type arguments). */
export function typeArgs(t: ChType): ChType[] {
  const out: ChType[] = [];
  for (const arg of t.args) if ('type' in arg) out.push(arg.type);
  return out;
}

/** Strips Nullable and LowCardinality wrappers; says whether the value may be null. */
export function unwrapChType(t: ChType): { type: ChType; nullable: boolean } {
  let current = t;
  let nullable = false;
  for (;;) {
    if (current.name === 'Nullable') nullable = true;
    else if (current.name !== 'LowCardinality') return { type: current, nullable };
    const inner = typeArgs(current)[0];
    if (!inner) return { type: current, nullable };
    current = inner;
  }
}

const SQL_NAMES: Readonly<Record<string, string>> = {
  Int8: 'TINYINT',
  Int16: 'SMALLINT',
  Int32: 'INTEGER',
  Int64: 'BIGINT',
  UInt8: 'TINYINT UNSIGNED',
  UInt16: 'SMALLINT UNSIGNED',
  UInt32: 'INTEGER UNSIGNED',
  UInt64: 'BIGINT UNSIGNED',
  Float32: 'REAL',
  Float64: 'DOUBLE',
  String: 'VARCHAR',
  Date: 'DATE',
  Date32: 'DATE',
  DateTime: 'TIMESTAMP',
  UUID: 'UUID',
  Bool: 'BOOLEAN',
  Nothing: 'NULL',
};

/** Upper-cases text outside single-quoted strings (enum labels and time zones keep their case). */
function upperOutsideQuotes(text: string): string {
  return text.replace(/'(?:\\.|[^'\\])*'|[^']+/g, (part) => (part.startsWith("'") ? part : part.toUpperCase()));
}

/**
 * The upper-case SQL name of a ClickHouse type: standard names where one fits (`BIGINT`,
 * `DECIMAL(18,2)`, `TIMESTAMP(3)`, `VARCHAR`, element type plus `[]` for arrays), the upper-cased
 * ClickHouse name otherwise (`INT128`, `TUPLE(…)`, `MAP(…)`, `ENUM8('a' = 1)`). Nullable and
 * LowCardinality are dropped: nullability is the column's `nullable` flag.
 */
export function chSqlName(type: ChType): string {
  const { type: t } = unwrapChType(type);
  const args = typeArgs(t);
  switch (t.name) {
    case 'Array':
      return `${chSqlName(args[0] ?? { name: 'Nothing', args: [], text: 'Nothing' })}[]`;
    case 'Tuple':
      return `TUPLE(${t.args.map((a) => ('type' in a ? (a.fieldName ? `${a.fieldName} ${chSqlName(a.type)}` : chSqlName(a.type)) : a.raw)).join(', ')})`;
    case 'Map':
      return `MAP(${args.map(chSqlName).join(', ')})`;
    case 'Decimal':
      return `DECIMAL(${t.args.map((a) => ('raw' in a ? a.raw : '')).join(',')})`;
    case 'Decimal32':
    case 'Decimal64':
    case 'Decimal128':
    case 'Decimal256': {
      const precision = { Decimal32: 9, Decimal64: 18, Decimal128: 38, Decimal256: 76 }[t.name];
      const scale = t.args[0] && 'raw' in t.args[0] ? t.args[0].raw : '0';
      return `DECIMAL(${precision},${scale})`;
    }
    case 'DateTime':
      return 'TIMESTAMP';
    case 'DateTime64': {
      const precision = t.args[0] && 'raw' in t.args[0] ? t.args[0].raw : '3';
      return `TIMESTAMP(${precision})`;
    }
    case 'FixedString':
      return `CHAR(${t.args[0] && 'raw' in t.args[0] ? t.args[0].raw : ''})`;
    default:
      return SQL_NAMES[t.name] ?? upperOutsideQuotes(t.text);
  }
}
