/**
 * Header names of the client protocol. Trino renamed `X-Presto-*` to `X-Trino-*` in release 351;
 * PrestoDB (and a Trino server with `protocol.v1.alternate-header-name=Presto`) speaks the old family.
 */
export type HeaderFamily = 'trino' | 'presto';

/** Every header name the client sends or reads, for one family. */
export interface ProtocolHeaders {
  readonly family: HeaderFamily;
  readonly user: string;
  readonly originalUser: string;
  readonly source: string;
  readonly catalog: string;
  readonly schema: string;
  readonly path: string;
  readonly timeZone: string;
  readonly session: string;
  readonly role: string;
  readonly preparedStatement: string;
  readonly transactionId: string;
  readonly clientInfo: string;
  readonly clientTags: string;
  readonly clientCapabilities: string;
  readonly traceToken: string;
  readonly setCatalog: string;
  readonly setSchema: string;
  readonly setPath: string;
  readonly setSession: string;
  readonly clearSession: string;
  readonly setRole: string;
  readonly addedPrepare: string;
  readonly deallocatedPrepare: string;
  readonly startedTransactionId: string;
  readonly clearTransactionId: string;
  readonly setAuthorizationUser: string;
  readonly resetAuthorizationUser: string;
}

function headersFor(family: HeaderFamily): ProtocolHeaders {
  // Lower case: Node reports response header names in lower case, and HTTP names are case-insensitive.
  const p = family === 'trino' ? 'x-trino-' : 'x-presto-';
  return {
    family,
    user: `${p}user`,
    originalUser: `${p}original-user`,
    source: `${p}source`,
    catalog: `${p}catalog`,
    schema: `${p}schema`,
    path: `${p}path`,
    timeZone: `${p}time-zone`,
    session: `${p}session`,
    role: `${p}role`,
    preparedStatement: `${p}prepared-statement`,
    transactionId: `${p}transaction-id`,
    clientInfo: `${p}client-info`,
    clientTags: `${p}client-tags`,
    clientCapabilities: `${p}client-capabilities`,
    traceToken: `${p}trace-token`,
    setCatalog: `${p}set-catalog`,
    setSchema: `${p}set-schema`,
    setPath: `${p}set-path`,
    setSession: `${p}set-session`,
    clearSession: `${p}clear-session`,
    setRole: `${p}set-role`,
    addedPrepare: `${p}added-prepare`,
    deallocatedPrepare: `${p}deallocated-prepare`,
    startedTransactionId: `${p}started-transaction-id`,
    clearTransactionId: `${p}clear-transaction-id`,
    setAuthorizationUser: `${p}set-authorization-user`,
    resetAuthorizationUser: `${p}reset-authorization-user`,
  };
}

const TRINO = headersFor('trino');
const PRESTO = headersFor('presto');

/** The header names of a family. */
export function protocolHeaders(family: HeaderFamily): ProtocolHeaders {
  return family === 'trino' ? TRINO : PRESTO;
}

/**
 * HTTP statuses after which a GET of `nextUri` is repeated. Trino documents 502, 503 and 504 as
 * intermittent (sent by proxies and load balancers); PrestoDB documents only 503.
 */
export function retryableStatuses(family: HeaderFamily): ReadonlySet<number> {
  return family === 'trino' ? TRINO_RETRYABLE : PRESTO_RETRYABLE;
}

const TRINO_RETRYABLE: ReadonlySet<number> = new Set([502, 503, 504]);
const PRESTO_RETRYABLE: ReadonlySet<number> = new Set([503]);

/**
 * Capabilities the client announces. PARAMETRIC_DATETIME matters most: without it the server rounds
 * every timestamp to milliseconds for "legacy" clients.
 */
export const CLIENT_CAPABILITIES = 'PATH,PARAMETRIC_DATETIME,SESSION_AUTHORIZATION';

/** Encodes like Java's URLEncoder, which the server decodes with (space as `+`). */
export function urlEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

/** Decodes a value the server encoded with Java's URLEncoder. */
export function urlDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}
