/**
 * Column types as the protocol describes them (`columns[].typeSignature`), and their SQL names.
 * Trino names the argument kinds TYPE, NAMED_TYPE, LONG and VARIABLE; PrestoDB (and Trino before the
 * rename) TYPE_SIGNATURE, NAMED_TYPE_SIGNATURE and LONG_LITERAL. Both are accepted.
 */

/** A type: a raw name such as `decimal`, `array` or `timestamp with time zone`, and its arguments. */
export interface TypeSignature {
  rawType: string;
  arguments?: TypeArgument[];
}

/** One argument of a {@link TypeSignature}. */
export interface TypeArgument {
  kind: string;
  value: unknown;
}

/** A field of a `row` type. */
export interface RowField {
  name?: string;
  delimited: boolean;
  type: TypeSignature;
}

/** A column of a result as the server sends it. */
export interface ProtocolColumn {
  name: string;
  /** Display type, e.g. `decimal(12, 2)`. */
  type: string;
  typeSignature?: TypeSignature;
}

/** The longest VARCHAR; the server reports unbounded VARCHAR with this length. */
const UNBOUNDED_VARCHAR = 2147483647;

function isTypeKind(kind: string): boolean {
  return kind === 'TYPE' || kind === 'TYPE_SIGNATURE';
}

function isNamedKind(kind: string): boolean {
  return kind === 'NAMED_TYPE' || kind === 'NAMED_TYPE_SIGNATURE';
}

function isLongKind(kind: string): boolean {
  return kind === 'LONG' || kind === 'LONG_LITERAL';
}

/** The type arguments (element, key, value types) of a signature. */
export function typeArguments(sig: TypeSignature): TypeSignature[] {
  const out: TypeSignature[] = [];
  for (const arg of sig.arguments ?? []) {
    if (isTypeKind(arg.kind)) out.push(arg.value as TypeSignature);
    else if (isNamedKind(arg.kind)) out.push((arg.value as { typeSignature: TypeSignature }).typeSignature);
  }
  return out;
}

/** The fields of a `row` signature. */
export function rowFields(sig: TypeSignature): RowField[] {
  const out: RowField[] = [];
  for (const arg of sig.arguments ?? []) {
    if (isNamedKind(arg.kind)) {
      const value = arg.value as { fieldName?: { name?: string; delimited?: boolean } | null; typeSignature: TypeSignature };
      const name = value.fieldName?.name ?? undefined;
      out.push({ name, delimited: value.fieldName?.delimited === true, type: value.typeSignature });
    } else if (isTypeKind(arg.kind)) {
      out.push({ delimited: false, type: arg.value as TypeSignature });
    }
  }
  return out;
}

function fieldName(field: RowField): string {
  if (field.name === undefined) return '';
  return field.delimited || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(field.name) ? `"${field.name.replace(/"/g, '""')}" ` : `${field.name} `;
}

/**
 * The upper-case SQL name of a type, with its parameters: `BIGINT`, `DECIMAL(12,2)`, `VARCHAR(25)`,
 * `VARCHAR` (unbounded), `TIMESTAMP(6) WITH TIME ZONE`, `ARRAY(BIGINT)`, `ROW(a BIGINT, b VARCHAR)`.
 */
export function formatType(sig: TypeSignature): string {
  const raw = sig.rawType.toLowerCase();
  const args = sig.arguments ?? [];
  if (raw === 'array') return `ARRAY(${typeArguments(sig).map(formatType).join(', ')})`;
  if (raw === 'map') return `MAP(${typeArguments(sig).map(formatType).join(', ')})`;
  if (raw === 'row')
    return `ROW(${rowFields(sig)
      .map((f) => `${fieldName(f)}${formatType(f.type)}`)
      .join(', ')})`;
  const literals: string[] = [];
  for (const arg of args) {
    if (isLongKind(arg.kind)) literals.push(String(arg.value));
    else if (arg.kind === 'VARIABLE') literals.push(String(arg.value));
    else if (isTypeKind(arg.kind)) literals.push(formatType(arg.value as TypeSignature));
  }
  if ((raw === 'varchar' || raw === 'char') && literals[0] === String(UNBOUNDED_VARCHAR)) literals.length = 0;
  const name = raw.toUpperCase();
  if (literals.length === 0) return name;
  // `timestamp with time zone` + (3) reads TIMESTAMP(3) WITH TIME ZONE, as SQL writes it.
  const space = name.indexOf(' WITH ');
  if (space > 0) return `${name.slice(0, space)}(${literals.join(',')})${name.slice(space)}`;
  return `${name}(${literals.join(',')})`;
}

/** The SQL type name of a column: from its signature, else from the display type. */
export function columnType(column: ProtocolColumn): string {
  return column.typeSignature ? formatType(column.typeSignature) : column.type.toUpperCase();
}
