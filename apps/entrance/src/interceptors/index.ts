/**
 * The entrance interceptors Sluice runs on a job's code before it is stored and queued, in order:
 * variable substitution → statement policy → row limit. Pure functions: no I/O, the clock is an input.
 */
import { applyRowLimit } from './row-limit.ts';
import { checkStatementPolicy } from './statement-policy.ts';
import { type SubstitutionResult, substituteVariables } from './variables.ts';

/** The building blocks, for callers that need one interceptor alone (each is documented where it is defined). */
export { isRowLimitCodeType, type Language, languageOf } from './code-types.ts';
export { applyRowLimit } from './row-limit.ts';
export { checkStatementPolicy } from './statement-policy.ts';
export {
  BUILT_IN_VARIABLES,
  parseSetDefinitions,
  SETTABLE_BUILT_INS,
  type SubstitutionResult,
  SYSTEM_VARIABLES,
  substituteVariables,
  type VariableContext,
} from './variables.ts';

/** A job's code and what the interceptors need to know about it. */
export interface InterceptorInput {
  readonly code: string;
  readonly codeType: string;
  /** The executing user (`${user}`). */
  readonly user: string;
  /** The job's variables (Linkis `params.variable`). */
  readonly variables: Readonly<Record<string, string | number | boolean>>;
  /** The submission instant; run_date defaults to the day before it. */
  readonly now: Date;
  /** The submitting user (`${submit_user}`), when it differs from `user`. */
  readonly submitUser?: string;
}

/** Administrator settings of the interceptors. */
export interface InterceptorPolicy {
  /** LIMIT added to queries that have none; 0 = off (SLUICE_SELECT_ROW_LIMIT). */
  readonly rowLimit: number;
  /** Statement policy (SLUICE_DENY_PATTERNS). */
  readonly denyPatterns: readonly RegExp[];
  /** IANA zone of "today" for run_date; default the process zone. */
  readonly timeZone?: string;
}

/**
 * Runs the interceptors in order: variables → statement policy (on the substituted code) → row
 * limit. Returns the code to run and the variables in effect; throws SLUICE_JOB_VARIABLE_INVALID or
 * SLUICE_JOB_STATEMENT_DENIED.
 */
export function runInterceptors(input: InterceptorInput, policy: InterceptorPolicy): SubstitutionResult {
  const substituted = substituteVariables(input.code, {
    codeType: input.codeType,
    user: input.user,
    variables: input.variables,
    now: input.now,
    ...(policy.timeZone !== undefined ? { timeZone: policy.timeZone } : {}),
    ...(input.submitUser !== undefined ? { submitUser: input.submitUser } : {}),
  });
  checkStatementPolicy(substituted.code, policy.denyPatterns, input.codeType);
  return { code: applyRowLimit(substituted.code, input.codeType, policy.rowLimit), variables: substituted.variables };
}
