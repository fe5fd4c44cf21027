import type { ErrorFields } from './backend-messages.ts';

/** A Sluice error as jobs and the entrance report it. */
export interface SluiceErrorLike {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** SQLSTATE of each Sluice error code (PostgreSQL's meanings, Appendix A of its manual). */
const BY_CODE: Record<string, string> = {
  SLUICE_REQUEST_INVALID: '22023',
  SLUICE_AUTH_MISSING: '28000',
  SLUICE_AUTH_INVALID: '28P01',
  SLUICE_AUTH_FORBIDDEN: '42501',
  SLUICE_JOB_NOT_FOUND: '42704',
  SLUICE_JOB_CODE_TOO_LARGE: '54000',
  SLUICE_JOB_ENGINE_UNKNOWN: '3D000',
  SLUICE_JOB_CODE_TYPE_UNSUPPORTED: '0A000',
  SLUICE_JOB_LABEL_INVALID: '22023',
  SLUICE_JOB_VARIABLE_INVALID: '22023',
  SLUICE_JOB_STATEMENT_DENIED: '42501',
  SLUICE_JOB_CANCELLED: '57014',
  SLUICE_JOB_QUEUE_TIMEOUT: '57014',
  SLUICE_JOB_RUN_TIMEOUT: '57014',
  SLUICE_JOB_RETRIES_EXHAUSTED: '58000',
  SLUICE_RESULT_NOT_FOUND: '58000',
  SLUICE_RESULT_ROW_LIMIT: '54000',
  SLUICE_RESULT_BYTE_LIMIT: '54000',
  SLUICE_ENGINE_QUERY_FAILED: 'XX000',
  SLUICE_ENGINE_SCRIPT_FAILED: 'XX000',
  SLUICE_ENGINE_LAUNCH_FAILED: '58000',
  SLUICE_ENGINE_CRASHED: '58000',
  SLUICE_ENGINE_LOST: '58000',
  SLUICE_ENGINE_QUOTA: '53000',
  SLUICE_DATASOURCE_NOT_FOUND: '3D000',
  SLUICE_DATASOURCE_IN_USE: '55006',
  SLUICE_DATASOURCE_EXPIRED: '55000',
  SLUICE_DATASOURCE_UNPUBLISHED: '55000',
  SLUICE_DATASOURCE_TEST_FAILED: '08001',
  SLUICE_DATASOURCE_UNAVAILABLE: '08001',
  SLUICE_RATE_LIMITED: '53000',
  SLUICE_NOT_READY: '57P03',
  SLUICE_INTERNAL: 'XX000',
};

/** DuckDB names the class of an error in its message; these are their PostgreSQL counterparts. */
const DUCKDB_CLASSES: [RegExp, string][] = [
  [/^Parser Error/i, '42601'],
  [/^Catalog Error: (Table|View|Schema)[^:]* (with name )?\S+ does not exist/i, '42P01'],
  [/^Catalog Error: .*already exists/i, '42P07'],
  [/^Catalog Error: Scalar Function|^Catalog Error: .*Function/i, '42883'],
  [/^Catalog Error/i, '42704'],
  [/^Binder Error: (Referenced column|Column)/i, '42703'],
  [/^Binder Error: No function matches/i, '42883'],
  [/^Binder Error/i, '42803'],
  [/^Conversion Error|^Invalid Input Error/i, '22P02'],
  [/^Out of Range Error/i, '22003'],
  [/division by zero/i, '22012'],
  [/^Constraint Error: (Duplicate key|PRIMARY KEY or UNIQUE)/i, '23505'],
  [/^Constraint Error: NOT NULL/i, '23502'],
  [/^Constraint Error/i, '23000'],
  [/^Transaction Error|^TransactionContext Error/i, '25000'],
  [/^Permission Error/i, '42501'],
  [/^Not implemented Error/i, '0A000'],
  [/^Out of Memory Error/i, '53200'],
  [/^IO Error/i, '58030'],
  [/^Interrupt/i, '57014'],
];

/** The SQLSTATE of a Sluice error: the engine's own when it reported one, else by Sluice code. */
export function sqlStateOf(e: SluiceErrorLike): string {
  const own = e.details?.sqlState;
  if (typeof own === 'string' && /^[0-9A-Z]{5}$/.test(own)) return own;
  if (e.code === 'SLUICE_ENGINE_QUERY_FAILED') {
    const reason = String(e.details?.reason ?? e.message).replace(/^Failed to extract statements: /, '');
    for (const [re, state] of DUCKDB_CLASSES) if (re.test(reason)) return state;
  }
  return BY_CODE[e.code] ?? 'XX000';
}

/** An ErrorResponse for a Sluice error: message as the engine or Sluice put it, the Sluice code in the detail. */
export function errorFieldsOf(e: SluiceErrorLike, jobId?: string): ErrorFields {
  const code = sqlStateOf(e);
  const reason = (e.code === 'SLUICE_ENGINE_QUERY_FAILED' && typeof e.details?.reason === 'string' ? (e.details.reason as string) : e.message).replace(
    /^Failed to extract statements: /,
    '',
  );
  const message = code === '57014' && e.code === 'SLUICE_JOB_CANCELLED' ? 'canceling statement due to user request' : reason;
  const detail = [`Sluice error ${e.code}`, jobId ? `job ${jobId}` : ''].filter(Boolean).join(', ');
  return { severity: 'ERROR', code, message, detail: e.code === 'SLUICE_JOB_CANCELLED' ? `${detail}: ${e.message}` : detail };
}
