import { quoteIdentifier } from './flink-params.ts';
import type { SqlGatewayClient } from './gateway-client.ts';
import { GatewayHttpError } from './gateway-errors.ts';

/** What a session is opened with. */
export interface SessionSpec {
  /** Shown in the gateway's logs: `sluice:<user>:<engine id>`. */
  name: string;
  properties: Record<string, string>;
  /** DDL-like statements run first, through configure-session (e.g. CREATE CATALOG, CREATE TABLE). */
  initStatements?: readonly string[];
  catalog?: string;
  database?: string;
  heartbeatIntervalMs: number;
  /** Timeout of the heartbeat and close requests. */
  requestTimeoutMs: number;
}

/**
 * One SQL Gateway session: opened with Flink configuration properties, moved to its catalog and
 * database, kept alive by heartbeats, and closed on request. It remembers the session's effective
 * configuration (read again after SET/RESET) and notices when the gateway has lost it.
 */
export class GatewaySession {
  readonly client: SqlGatewayClient;
  readonly handle: string;
  private config: Record<string, string> = {};
  private timer: NodeJS.Timeout | undefined;
  private lostReason: string | undefined;
  private closed = false;
  private readonly lostListeners: ((reason: string) => void)[] = [];
  private readonly requestTimeoutMs: number;

  private constructor(client: SqlGatewayClient, handle: string, requestTimeoutMs: number) {
    this.client = client;
    this.handle = handle;
    this.requestTimeoutMs = requestTimeoutMs;
  }

  /**
   * Opens the session, runs the init statements and USE CATALOG / USE, reads its configuration and
   * starts the heartbeats.
   */
  static async open(client: SqlGatewayClient, spec: SessionSpec, signal?: AbortSignal): Promise<GatewaySession> {
    const handle = await client.openSession(spec.properties, spec.name, signal);
    const session = new GatewaySession(client, handle, spec.requestTimeoutMs);
    try {
      const use: string[] = [...(spec.initStatements ?? [])];
      if (spec.catalog !== undefined) use.push(`USE CATALOG ${quoteIdentifier(spec.catalog)}`);
      if (spec.database !== undefined) use.push(`USE ${quoteIdentifier(spec.database)}`);
      for (const statement of use) await session.configure(statement, signal);
      await session.refreshConfig(signal);
    } catch (err) {
      await session.close();
      throw err;
    }
    session.timer = setInterval(() => void session.beat(), spec.heartbeatIntervalMs);
    session.timer.unref();
    return session;
  }

  /** Runs a DDL-like statement through configure-session (v2+), or as a drained statement on v1. */
  async configure(statement: string, signal?: AbortSignal): Promise<void> {
    if (this.client.hasConfigureSession) {
      await this.client.configureSession(this.handle, statement, signal);
      return;
    }
    const op = await this.client.executeStatement(this.handle, statement, { signal });
    try {
      let uri: string | undefined = this.client.firstResultUri(this.handle, op);
      while (uri) {
        const page = await this.client.fetchResults(uri, signal);
        if (page.resultType === 'EOS') break;
        uri = page.nextResultUri;
        if (page.resultType === 'NOT_READY') await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await this.client.closeOperation(this.handle, op, AbortSignal.timeout(this.requestTimeoutMs)).catch(() => undefined);
    }
  }

  /** Reads the session's effective configuration again (after SET or RESET). */
  async refreshConfig(signal?: AbortSignal): Promise<void> {
    this.config = await this.client.sessionConfig(this.handle, signal);
  }

  /** The session's configuration as last read. */
  get configuration(): Readonly<Record<string, string>> {
    return this.config;
  }

  /** `execution.runtime-mode` of the session: streaming (Flink's default), batch or automatic. */
  get runtimeMode(): 'streaming' | 'batch' | 'automatic' {
    const mode = (this.config['execution.runtime-mode'] ?? 'streaming').toLowerCase();
    return mode === 'batch' || mode === 'automatic' ? mode : 'streaming';
  }

  /** Why the session is gone, if the gateway lost it (idle timeout, restart); undefined while it lives. */
  get lost(): string | undefined {
    return this.lostReason;
  }

  /** Called once when the gateway turns out to have lost the session. */
  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  /** Records that the gateway lost the session, if `err` says so; returns whether it did. */
  noteError(err: unknown): boolean {
    if (this.closed || this.lostReason !== undefined) return this.lostReason !== undefined;
    if (!(err instanceof GatewayHttpError) || !err.sessionGone) return false;
    this.lostReason = 'the SQL Gateway lost the session (it expired or the gateway restarted)';
    if (this.timer) clearInterval(this.timer);
    for (const listener of this.lostListeners) listener(this.lostReason);
    return true;
  }

  /** Checks that the session still exists. */
  async check(timeoutMs: number): Promise<void> {
    try {
      await this.client.sessionConfig(this.handle, AbortSignal.timeout(timeoutMs));
    } catch (err) {
      this.noteError(err);
      throw err;
    }
  }

  private async beat(): Promise<void> {
    if (this.closed || this.lostReason !== undefined) return;
    try {
      await this.client.heartbeat(this.handle, AbortSignal.timeout(this.requestTimeoutMs));
    } catch (err) {
      // A gateway that is briefly unreachable is not fatal: the next heartbeat may reach it in time.
      this.noteError(err);
    }
  }

  /** Stops the heartbeats and closes the session (its operations and their queries' jobs go with it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.lostReason !== undefined) return;
    await this.client.closeSession(this.handle, AbortSignal.timeout(this.requestTimeoutMs)).catch(() => undefined);
  }
}
