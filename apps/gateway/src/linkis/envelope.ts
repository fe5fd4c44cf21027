/**
 * The Linkis response envelope `{method, status, message, data}` (Linkis `Message`), and how its
 * status becomes the HTTP status (`Message.messageToHttpStatus`).
 */

/** Linkis message status: -1 not logged in, 0 success, 1 error, 2 validation failed, 3 no permission, 4 warning. */
export type LinkisStatus = -1 | 0 | 1 | 2 | 3 | 4;

/** The HTTP status of each Linkis status: -1→401, 0→200, 1→400, 2→412, 3→403, 4→206. */
export const HTTP_STATUS_OF: Readonly<Record<LinkisStatus, number>> = Object.freeze({ [-1]: 401, 0: 200, 1: 400, 2: 412, 3: 403, 4: 206 });

/** A Linkis response body. Dates inside `data` are epoch milliseconds. */
export interface LinkisMessage {
  method: string | null;
  status: LinkisStatus;
  message: string;
  data: Record<string, unknown>;
}

/** The REST prefix every Linkis route lives under. */
export const LINKIS_REST_PREFIX = '/api/rest_j/v1';

/**
 * The `method` Linkis reports for a request: `/api` + the path after `/api/rest_j/v1`, without the
 * query string (e.g. `/api/jobhistory/12/get`).
 */
export function linkisMethod(url: string): string {
  const path = url.split('?')[0] ?? url;
  return path.startsWith(LINKIS_REST_PREFIX) ? `/api${path.slice(LINKIS_REST_PREFIX.length)}` : path;
}

/** A success envelope (`Message.ok`): status 0 and message `OK` unless another is given. */
export function linkisOk(method: string | null, data: Record<string, unknown> = {}, message = 'OK'): LinkisMessage {
  return { method, status: 0, message, data };
}

/** What {@link sendLinkis} needs of a Fastify reply. */
export interface LinkisReply {
  code(status: number): unknown;
  header(name: string, value: string): unknown;
  send(payload?: unknown): unknown;
}

/** Sends an envelope with the HTTP status its Linkis status maps to. */
export function sendLinkis(reply: LinkisReply, msg: LinkisMessage): unknown {
  reply.code(HTTP_STATUS_OF[msg.status]);
  reply.header('content-type', 'application/json; charset=utf-8');
  return reply.send(JSON.stringify(msg));
}
