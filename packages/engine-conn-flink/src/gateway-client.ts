import { GatewayProtocolError } from './gateway-errors.ts';
import type { RestHttp } from './rest-http.ts';
import { decodeResultPage, type ResultPage } from './result-page.ts';

/** The SQL Gateway REST API versions this client speaks. */
export const API_VERSIONS = ['v1', 'v2', 'v3', 'v4'] as const;

/** One SQL Gateway REST API version: v1 (Flink 1.16), v2 (1.17), v3 (1.20), v4 (2.0). */
export type ApiVersion = (typeof API_VERSIONS)[number];

/** Operation statuses; the last five are final. */
export type OperationStatus = 'INITIALIZED' | 'PENDING' | 'RUNNING' | 'FINISHED' | 'CANCELED' | 'CLOSED' | 'ERROR' | 'TIMEOUT';

/** What `/info` says about the gateway. */
export interface GatewayInfo {
  productName: string;
  version: string;
}

/**
 * Picks the API version: the pinned one if the gateway offers it, else the newest both sides speak.
 * `offered` is the gateway's `/api_versions` list (`["V1", "V2", …]`).
 */
export function negotiateVersion(offered: readonly string[], pinned?: ApiVersion): ApiVersion {
  const theirs = new Set(offered.map((v) => v.toLowerCase()));
  if (pinned) {
    if (!theirs.has(pinned)) throw new GatewayProtocolError(`the gateway does not offer API ${pinned}; it offers ${offered.join(', ') || 'nothing'}`);
    return pinned;
  }
  for (let i = API_VERSIONS.length - 1; i >= 0; i -= 1) {
    const v = API_VERSIONS[i];
    if (v && theirs.has(v)) return v;
  }
  throw new GatewayProtocolError(`the gateway offers no API version this client speaks (${offered.join(', ') || 'none'})`);
}

function stringField(body: unknown, field: string, what: string): string {
  const value = (body as Record<string, unknown> | null)?.[field];
  if (typeof value !== 'string' || value === '') throw new GatewayProtocolError(`${what}: the answer has no ${field}`);
  return value;
}

const HANDLE = /^[0-9a-fA-F-]{1,64}$/;

function handle(value: string, what: string): string {
  if (!HANDLE.test(value)) throw new GatewayProtocolError(`${what} ${JSON.stringify(value)} is not a handle`);
  return value;
}

/**
 * A typed client of the Flink SQL Gateway REST API, bound to one negotiated version. Every method is
 * one request; sessions, heartbeats and result paging are driven by the caller.
 */
export class SqlGatewayClient {
  readonly http: RestHttp;
  readonly version: ApiVersion;
  /** The gateway's Flink version, from `/info`. */
  readonly info: GatewayInfo;

  private constructor(http: RestHttp, version: ApiVersion, info: GatewayInfo) {
    this.http = http;
    this.version = version;
    this.info = info;
  }

  /** Asks `/api_versions`, picks a version (see {@link negotiateVersion}) and reads `/{v}/info`. */
  static async connect(http: RestHttp, options: { pinned?: ApiVersion; signal?: AbortSignal } = {}): Promise<SqlGatewayClient> {
    const offered = (await http.request({ method: 'GET', path: '/api_versions', signal: options.signal })) as { versions?: unknown };
    if (!Array.isArray(offered.versions)) throw new GatewayProtocolError('GET /api_versions: the answer has no versions list');
    const version = negotiateVersion(
      offered.versions.map((v) => String(v)),
      options.pinned,
    );
    const info = await http.request({ method: 'GET', path: `/${version}/info`, signal: options.signal });
    return new SqlGatewayClient(http, version, {
      productName: stringField(info, 'productName', 'GET /info'),
      version: stringField(info, 'version', 'GET /info'),
    });
  }

  /** True when the negotiated version has configure-session and the `rowFormat` parameter (v2+). */
  get hasConfigureSession(): boolean {
    return this.version !== 'v1';
  }

  private path(suffix: string): string {
    return `/${this.version}${suffix}`;
  }

  /** `POST /sessions`: opens a session with Flink configuration properties; returns its handle. */
  async openSession(properties: Record<string, string>, sessionName: string, signal?: AbortSignal): Promise<string> {
    const body = await this.http.request({ method: 'POST', path: this.path('/sessions'), body: { sessionName, properties }, signal });
    return handle(stringField(body, 'sessionHandle', 'POST /sessions'), 'session');
  }

  /** `GET /sessions/{sh}`: the session's effective configuration. */
  async sessionConfig(session: string, signal?: AbortSignal): Promise<Record<string, string>> {
    const body = (await this.http.request({ method: 'GET', path: this.path(`/sessions/${session}`), signal })) as { properties?: unknown };
    if (!body.properties || typeof body.properties !== 'object') throw new GatewayProtocolError('GET /sessions/{handle}: the answer has no properties');
    return Object.fromEntries(Object.entries(body.properties as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  }

  /** `POST /sessions/{sh}/heartbeat`: keeps an idle session from expiring. */
  async heartbeat(session: string, signal?: AbortSignal): Promise<void> {
    await this.http.request({ method: 'POST', path: this.path(`/sessions/${session}/heartbeat`), body: {}, signal });
  }

  /** `DELETE /sessions/{sh}`: closes the session and every operation in it. */
  async closeSession(session: string, signal?: AbortSignal): Promise<void> {
    await this.http.request({ method: 'DELETE', path: this.path(`/sessions/${session}`), signal });
  }

  /**
   * `POST /sessions/{sh}/configure-session` (v2+): runs one DDL-like statement (CREATE/DROP/ALTER,
   * USE, LOAD/UNLOAD MODULE, ADD JAR, SET, RESET) synchronously; it has no result.
   */
  async configureSession(session: string, statement: string, signal?: AbortSignal, executionTimeoutMs?: number): Promise<void> {
    if (!this.hasConfigureSession) throw new GatewayProtocolError('configure-session needs API v2 or newer');
    const body: Record<string, unknown> = { statement };
    if (executionTimeoutMs !== undefined) body.executionTimeout = executionTimeoutMs;
    await this.http.request({ method: 'POST', path: this.path(`/sessions/${session}/configure-session`), body, signal });
  }

  /** `POST /sessions/{sh}/statements`: starts a statement; returns the operation handle. */
  async executeStatement(
    session: string,
    statement: string,
    options: { executionConfig?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<string> {
    const body: Record<string, unknown> = { statement };
    if (options.executionConfig && Object.keys(options.executionConfig).length > 0) body.executionConfig = options.executionConfig;
    const answer = await this.http.request({ method: 'POST', path: this.path(`/sessions/${session}/statements`), body, signal: options.signal });
    return handle(stringField(answer, 'operationHandle', 'POST /statements'), 'operation');
  }

  /** `GET …/operations/{oh}/status`. */
  async operationStatus(session: string, operation: string, signal?: AbortSignal): Promise<OperationStatus> {
    const body = await this.http.request({ method: 'GET', path: this.path(`/sessions/${session}/operations/${operation}/status`), signal });
    return stringField(body, 'status', 'GET /status') as OperationStatus;
  }

  /** `POST …/operations/{oh}/cancel`: stops an operation that has not finished. */
  async cancelOperation(session: string, operation: string, signal?: AbortSignal): Promise<OperationStatus> {
    const body = await this.http.request({ method: 'POST', path: this.path(`/sessions/${session}/operations/${operation}/cancel`), body: {}, signal });
    return stringField(body, 'status', 'POST /cancel') as OperationStatus;
  }

  /** `DELETE …/operations/{oh}/close`: frees the operation and its results; a query's job is cancelled. */
  async closeOperation(session: string, operation: string, signal?: AbortSignal): Promise<OperationStatus> {
    const body = await this.http.request({ method: 'DELETE', path: this.path(`/sessions/${session}/operations/${operation}/close`), signal });
    return stringField(body, 'status', 'DELETE /close') as OperationStatus;
  }

  /** The URI of an operation's first result page, with `rowFormat=JSON` from v2 on. */
  firstResultUri(session: string, operation: string): string {
    return this.path(`/sessions/${session}/operations/${operation}/result/0${this.hasConfigureSession ? '?rowFormat=JSON' : ''}`);
  }

  /** GETs one result page by the URI the server gave (`nextResultUri`) and decodes it losslessly. */
  async fetchResults(uri: string, signal?: AbortSignal): Promise<ResultPage> {
    if (!uri.startsWith('/')) throw new GatewayProtocolError(`nextResultUri ${JSON.stringify(uri)} is not a path`);
    const body = await this.http.request({ method: 'GET', path: uri, signal, lossless: true });
    return decodeResultPage(body);
  }
}
