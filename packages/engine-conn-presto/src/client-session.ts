import { CLIENT_CAPABILITIES, type ProtocolHeaders, urlDecode, urlEncode } from './protocol-headers.ts';

/**
 * The state of one client session, sent with every query. It is a value: queries never mutate it; the
 * changes a query reports (`X-Trino-Set-*`, `Clear-*`, ...) are folded into a new session by
 * {@link applySessionUpdate}. Each engine holds its own, so nothing is shared between users.
 */
export interface ClientSession {
  /** The user queries run as (`X-Trino-User`): the Sluice user. */
  readonly user: string;
  /** `X-Trino-Source`. */
  readonly source: string;
  readonly catalog?: string;
  readonly schema?: string;
  readonly path?: string;
  readonly timeZone?: string;
  /** Session properties by name (catalog properties as `catalog.name`). */
  readonly properties: Readonly<Record<string, string>>;
  /** Catalog roles by catalog (`system` for the system role), as the server sent them. */
  readonly roles: Readonly<Record<string, string>>;
  /** Prepared statements by name. */
  readonly preparedStatements: Readonly<Record<string, string>>;
  /** The open transaction, if `START TRANSACTION` ran. */
  readonly transactionId?: string;
  /** The user set by `SET SESSION AUTHORIZATION`; `user` is then sent as the original user. */
  readonly authorizationUser?: string;
  readonly clientTags: readonly string[];
}

/** The session changes one query reported, gathered from the headers of all its responses. */
export interface SessionUpdate {
  setCatalog?: string;
  setSchema?: string;
  setPath?: string;
  setProperties: Record<string, string>;
  clearProperties: Set<string>;
  setRoles: Record<string, string>;
  addedPrepare: Record<string, string>;
  deallocatedPrepare: Set<string>;
  startedTransactionId?: string;
  clearTransactionId: boolean;
  setAuthorizationUser?: string;
  resetAuthorizationUser: boolean;
}

/** An update that changes nothing. */
export function emptySessionUpdate(): SessionUpdate {
  return {
    setProperties: {},
    clearProperties: new Set(),
    setRoles: {},
    addedPrepare: {},
    deallocatedPrepare: new Set(),
    clearTransactionId: false,
    resetAuthorizationUser: false,
  };
}

/** Splits `name=urlencoded(value)`; null when there is no `=`. */
function nameValue(header: string): [string, string] | null {
  const eq = header.indexOf('=');
  if (eq <= 0) return null;
  return [header.slice(0, eq).trim(), header.slice(eq + 1).trim()];
}

/**
 * Folds the session headers of one response into `update`. `rawHeaders` is Node's flat
 * `[name, value, name, value, ...]` list, so repeated headers arrive one by one, unjoined.
 */
export function collectSessionHeaders(update: SessionUpdate, h: ProtocolHeaders, rawHeaders: readonly string[]): void {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    // Cheap filter: every session header starts with the family prefix.
    if (!name.startsWith(h.family === 'trino' ? 'x-trino-' : 'x-presto-')) continue;
    const value = (rawHeaders[i + 1] as string).trim();
    switch (name) {
      case h.setCatalog:
        update.setCatalog = value;
        break;
      case h.setSchema:
        update.setSchema = value;
        break;
      case h.setPath:
        update.setPath = value;
        break;
      case h.setSession: {
        const nv = nameValue(value);
        if (nv) {
          update.setProperties[nv[0]] = urlDecode(nv[1]);
          update.clearProperties.delete(nv[0]);
        }
        break;
      }
      case h.clearSession:
        update.clearProperties.add(value);
        delete update.setProperties[value];
        break;
      case h.setRole: {
        const nv = nameValue(value);
        if (nv) update.setRoles[nv[0]] = urlDecode(nv[1]);
        break;
      }
      case h.addedPrepare: {
        const nv = nameValue(value);
        if (nv) {
          const statement = urlDecode(nv[0]);
          update.addedPrepare[statement] = urlDecode(nv[1]);
          update.deallocatedPrepare.delete(statement);
        }
        break;
      }
      case h.deallocatedPrepare: {
        const statement = urlDecode(value);
        update.deallocatedPrepare.add(statement);
        delete update.addedPrepare[statement];
        break;
      }
      case h.startedTransactionId:
        update.startedTransactionId = value;
        update.clearTransactionId = false;
        break;
      case h.clearTransactionId:
        update.clearTransactionId = true;
        update.startedTransactionId = undefined;
        break;
      case h.setAuthorizationUser:
        update.setAuthorizationUser = value;
        update.resetAuthorizationUser = false;
        break;
      case h.resetAuthorizationUser:
        update.resetAuthorizationUser = true;
        update.setAuthorizationUser = undefined;
        break;
      default:
        break;
    }
  }
}

function without<T>(record: Readonly<Record<string, T>>, keys: Iterable<string>): Record<string, T> {
  const out = { ...record };
  for (const key of keys) delete out[key];
  return out;
}

/** The session after a query: `session` with `update` applied. Neither argument is changed. */
export function applySessionUpdate(session: ClientSession, update: SessionUpdate): ClientSession {
  let transactionId = session.transactionId;
  if (update.clearTransactionId) transactionId = undefined;
  if (update.startedTransactionId !== undefined) transactionId = update.startedTransactionId;
  let authorizationUser = session.authorizationUser;
  if (update.resetAuthorizationUser) authorizationUser = undefined;
  if (update.setAuthorizationUser !== undefined) authorizationUser = update.setAuthorizationUser;
  return {
    ...session,
    catalog: update.setCatalog ?? session.catalog,
    schema: update.setSchema ?? session.schema,
    path: update.setPath ?? session.path,
    properties: { ...without(session.properties, update.clearProperties), ...update.setProperties },
    roles: { ...session.roles, ...update.setRoles },
    preparedStatements: { ...without(session.preparedStatements, update.deallocatedPrepare), ...update.addedPrepare },
    transactionId,
    authorizationUser,
  };
}

/** Extra per-query headers: attribution of the query to a Sluice task. */
export interface QueryAttribution {
  clientInfo?: string;
  traceToken?: string;
}

/** Keeps a header value to printable ASCII: Node refuses other bytes, and the server would garble them. */
export function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?');
}

/**
 * The request headers of a query in `session`, as `[name, value]` pairs so that repeated headers
 * (one per session property, one per prepared statement) stay separate.
 */
export function sessionRequestHeaders(session: ClientSession, h: ProtocolHeaders, attribution: QueryAttribution = {}): [string, string][] {
  const out: [string, string][] = [];
  if (session.authorizationUser !== undefined) {
    out.push([h.user, session.authorizationUser], [h.originalUser, session.user]);
  } else {
    out.push([h.user, session.user]);
  }
  out.push([h.source, session.source]);
  if (session.catalog !== undefined) out.push([h.catalog, session.catalog]);
  if (session.schema !== undefined) out.push([h.schema, session.schema]);
  if (session.path !== undefined) out.push([h.path, session.path]);
  if (session.timeZone !== undefined) out.push([h.timeZone, session.timeZone]);
  for (const [name, value] of Object.entries(session.properties)) out.push([h.session, `${name}=${urlEncode(value)}`]);
  for (const [catalog, role] of Object.entries(session.roles)) out.push([h.role, `${catalog}=${urlEncode(role)}`]);
  for (const [name, sql] of Object.entries(session.preparedStatements)) out.push([h.preparedStatement, `${urlEncode(name)}=${urlEncode(sql)}`]);
  // NONE tells the server the client supports transactions, so START TRANSACTION can work.
  out.push([h.transactionId, session.transactionId ?? 'NONE']);
  if (session.clientTags.length > 0) out.push([h.clientTags, session.clientTags.join(',')]);
  out.push([h.clientCapabilities, CLIENT_CAPABILITIES]);
  if (attribution.clientInfo !== undefined) out.push([h.clientInfo, headerSafe(attribution.clientInfo)]);
  if (attribution.traceToken !== undefined) out.push([h.traceToken, headerSafe(attribution.traceToken)]);
  return out;
}
