import type { Column } from '@sluice/core';
import type { DataType, DataType_DayTimeInterval, DataType_YearMonthInterval } from './generated/spark-connect.ts';

/** A `spark.connect.DataType` as the connector decodes it (generated): one field set, named by `kind`. */
export type ConnectDataType = DataType;

const SIMPLE: Readonly<Record<string, string>> = {
  null: 'void',
  binary: 'binary',
  boolean: 'boolean',
  byte: 'tinyint',
  short: 'smallint',
  integer: 'int',
  long: 'bigint',
  float: 'float',
  double: 'double',
  string: 'string',
  date: 'date',
  timestamp: 'timestamp',
  timestamp_ntz: 'timestamp_ntz',
  calendar_interval: 'interval',
  variant: 'variant',
  geometry: 'geometry',
  geography: 'geography',
};

const YEAR_MONTH = ['year', 'month'];
const DAY_TIME = ['day', 'hour', 'minute', 'second'];

function intervalName(fields: string[], range: DataType_YearMonthInterval | DataType_DayTimeInterval | undefined): string {
  const start = fields[range?.start_field ?? 0] ?? fields[0];
  const end = fields[range?.end_field ?? fields.length - 1] ?? fields[fields.length - 1];
  return start === end ? `interval ${start}` : `interval ${start} to ${end}`;
}

/** Spark SQL's name of a data type, as `DESCRIBE` prints it: `bigint`, `decimal(10,2)`, `array<int>`… */
export function sparkTypeName(type: ConnectDataType | undefined): string {
  if (!type?.kind) return 'unknown';
  const simple = SIMPLE[type.kind];
  if (simple) return simple;
  switch (type.kind) {
    case 'decimal':
      return `decimal(${type.decimal?.precision ?? 10},${type.decimal?.scale ?? 0})`;
    case 'char':
      return `char(${type.char?.length ?? 1})`;
    case 'var_char':
      return `varchar(${type.var_char?.length ?? 1})`;
    case 'array':
      return `array<${sparkTypeName(type.array?.element_type)}>`;
    case 'map':
      return `map<${sparkTypeName(type.map?.key_type)},${sparkTypeName(type.map?.value_type)}>`;
    case 'struct':
      return `struct<${(type.struct?.fields ?? []).map((f) => `${f.name ?? ''}:${sparkTypeName(f.data_type)}`).join(',')}>`;
    case 'year_month_interval':
      return intervalName(YEAR_MONTH, type.year_month_interval);
    case 'day_time_interval':
      return intervalName(DAY_TIME, type.day_time_interval);
    case 'udt':
      return type.udt?.sql_type ? sparkTypeName(type.udt.sql_type) : 'udt';
    default:
      return type.kind;
  }
}

/** The result columns of a struct schema, with Spark type names and nullability. */
export function columnsOf(schema: ConnectDataType | undefined): Column[] {
  return (schema?.struct?.fields ?? []).map((f) => ({ name: f.name ?? '', type: sparkTypeName(f.data_type), nullable: f.nullable === true }));
}
