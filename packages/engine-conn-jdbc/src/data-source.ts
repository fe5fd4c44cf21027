import { type DataSourceConnection, SluiceError } from '@sluice/core';
import type { z } from 'zod';
import type { FailureContext } from './db-errors.ts';
import { dialectOf, isJdbcDataSourceType, type JdbcDataSourceType, type JdbcParams, jdbcParamsSchemas, jdbcSecretFields } from './param-schemas.ts';
import { redactText } from './redact.ts';

/** A data source checked against its type's schema, with what error messages must never show. */
export interface ResolvedDataSource extends FailureContext {
  type: JdbcDataSourceType;
  version: number;
  conn: JdbcParams;
}

/** Values of the type's secret fields and of those the data source marks secret. */
function secretValues(type: JdbcDataSourceType, params: Record<string, unknown>, marked: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const field of new Set([...jdbcSecretFields[type], ...marked])) {
    const value = params[field];
    if (typeof value === 'string' && value) out.push(value);
  }
  return out;
}

/** Field-level issues of a failed parse, without any input value. */
export function describeIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.join('.') || '(params)', message: issue.message }));
}

/**
 * Checks a data source handed to the connector: a type the JDBC engine serves, and parameters valid
 * for that type. Throws SLUICE_REQUEST_INVALID with field-level `issues` (never the values).
 */
export function resolveDataSource(ds: DataSourceConnection | undefined): ResolvedDataSource {
  if (!ds) {
    throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'the jdbc engine runs on a data source: submit the job with dataSource' });
  }
  if (!isJdbcDataSourceType(ds.type)) {
    throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `data source ${ds.name} has type ${ds.type}, which the jdbc engine does not serve` });
  }
  const type = ds.type;
  const secrets = secretValues(type, ds.params ?? {}, ds.secretFields);
  const parsed = jdbcParamsSchemas[type].safeParse(ds.params ?? {});
  if (!parsed.success) {
    const issues = describeIssues(parsed.error).map((i) => ({ path: i.path, message: redactText(i.message, secrets) }));
    throw new SluiceError('SLUICE_REQUEST_INVALID', {
      summary: `invalid ${type} parameters of data source ${ds.name}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    });
  }
  const dialect = dialectOf(type);
  const conn = { dialect, params: parsed.data } as JdbcParams;
  return { name: ds.name, type, version: ds.version, conn, secrets };
}
