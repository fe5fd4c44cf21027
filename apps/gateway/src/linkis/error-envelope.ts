import { SluiceError, toSluiceError } from '@sluice/core';
import type { LinkisMessage } from './envelope.ts';
import { linkisErrorNumber } from './linkis-error-codes.ts';

/** What Linkis answers when a request carries no valid login (`Message.noLogin`). */
export const NO_LOGIN_MESSAGE = 'You are not logged in, please login first(您尚未登录，请先登录)!';

const NOT_LOGGED_IN = new Set(['SLUICE_AUTH_MISSING', 'SLUICE_AUTH_INVALID']);

/**
 * Turns any error into a Linkis error envelope. A missing or invalid login is status -1 (HTTP 401, so
 * Linkis clients log in again and retry); every other Sluice error is status 1 (HTTP 400), with the
 * message in Linkis' `error code(错误码): …, error message(错误信息): ….` form and, in `data`, the
 * Sluice code and details beside Linkis' `errorMsg` object. Internal errors show only a request id.
 */
export function linkisErrorMessage(method: string | null, err: unknown, requestId?: string): LinkisMessage {
  const e: SluiceError = err instanceof SluiceError ? err : toSluiceError(err);
  const internal = e.code === 'SLUICE_INTERNAL';
  const details = internal ? { requestId } : e.details;
  const desc = internal ? `Internal error; see the server log for request ${requestId ?? 'unknown'}` : e.message;
  const override = (e.details as { linkisErrCode?: unknown }).linkisErrCode;
  const errCode = typeof override === 'number' ? override : linkisErrorNumber(e.code);
  const data: Record<string, unknown> = {
    errorMsg: { level: 2, errCode, desc, serviceKind: 'sluice-gateway' },
    code: e.code,
    details,
  };
  if (NOT_LOGGED_IN.has(e.code)) {
    return { method, status: -1, message: e.code === 'SLUICE_AUTH_MISSING' && !e.details.reason ? NO_LOGIN_MESSAGE : desc, data };
  }
  return { method, status: 1, message: `error code(错误码): ${errCode}, error message(错误信息): ${e.code}: ${desc}.`, data };
}
