/**
 * Result sets in Linkis' `openFile` shape: column metadata `{columnName, comment, dataType}` with
 * Linkis type names, and rows of strings.
 */

/** Linkis' name for a null cell in result files (`Dolphin.LINKIS_NULL`); clients send it as `nullValue`. */
export const LINKIS_NULL = 'LINKIS_NULL';

const TYPE_RULES: [RegExp, string][] = [
  [/^(BOOLEAN|BOOL)$/, 'boolean'],
  [/^(TINYINT|INT1|UTINYINT)$/, 'tinyint'],
  [/^(SMALLINT|INT2|SHORT|USMALLINT)$/, 'short'],
  [/^(INTEGER|INT|INT4|SIGNED|MEDIUMINT)$/, 'int'],
  [/^(BIGINT|INT8|LONG|UINTEGER)$/, 'bigint'],
  [/^(HUGEINT|UHUGEINT|UBIGINT)$/, 'decimal'],
  [/^(REAL|FLOAT4|FLOAT)$/, 'float'],
  [/^(DOUBLE|FLOAT8|DOUBLE PRECISION)$/, 'double'],
  [/^(DECIMAL|NUMERIC)\b/, 'decimal'],
  [/^(CHAR|BPCHAR|CHARACTER)\b(?! VARYING)/, 'char'],
  [/^DATE$/, 'date'],
  [/^(TIMESTAMP|DATETIME)/, 'timestamp'],
  [/^(BLOB|BYTEA|BINARY|VARBINARY)/, 'binary'],
  [/(\[\]$|^ARRAY|^LIST)/, 'array'],
  [/^MAP/, 'map'],
  [/^(STRUCT|ROW)\b/, 'struct'],
];

/** The Linkis data type name of a Sluice column type (e.g. `DECIMAL(18,2)` → `decimal`); text and anything else is `string`. */
export function linkisDataType(sqlType: string): string {
  const t = sqlType.trim().toUpperCase();
  for (const [re, name] of TYPE_RULES) if (re.test(t)) return name;
  return 'string';
}

/**
 * A cell as Linkis sends it: text. Nulls become `nullValue` (Linkis turns its default `LINKIS_NULL`
 * into `NULL`, and `BLANK` into an empty string); objects and arrays become JSON.
 */
export function cellText(v: unknown, nullValue: string = LINKIS_NULL): string {
  if (v === null || v === undefined) {
    if (nullValue === LINKIS_NULL || nullValue === '') return 'NULL';
    return nullValue.toUpperCase() === 'BLANK' ? '' : nullValue;
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Column metadata of a result set in Linkis' TABLE form. */
export function linkisMetadata(columns: readonly { name: string; type: string }[]): { columnName: string; comment: string; dataType: string }[] {
  return columns.map((c) => ({ columnName: c.name, comment: 'NULL', dataType: linkisDataType(c.type) }));
}
