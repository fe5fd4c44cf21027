import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { Column } from '@sluice/core';
import {
  CH_SESSION_LOCKED,
  CH_SESSION_NOT_FOUND,
  ChServerError,
  chAgent,
  chQuote,
  chRequest,
  classifyChConnectError,
  parseChException,
  readText,
} from './clickhouse-http.ts';
import { chSqlName, parseChType, unwrapChType } from './clickhouse-types.ts';
import { chFieldConverter, unescapeCh } from './clickhouse-values.ts';
import { ConnectFailure, messageOf, SessionLost, StatementCancelled, StatementFailure } from './db-errors.ts';
import type { BatchLimits, DbSession, StatementEvent } from './db-session.ts';
import type { ClickhouseParams } from './param-schemas.ts';
import { RowBatcher } from './row-batcher.ts';

/** The result format: the same on every ClickHouse version since 1.1, and exact for every type. */
export const CH_FORMAT = 'TabSeparatedWithNamesAndTypes';

/** URL parameters every query of a data source carries: its database and settings. */
export function chBaseQuery(p: ClickhouseParams): Record<string, string> {
  const query: Record<string, string> = { database: p.database, default_format: CH_FORMAT };
  for (const [key, value] of Object.entries(p.settings)) query[key] = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
  return query;
}

/** An exception the server appended to a streamed result, if `line` is one. */
function trailingException(line: string, fields: number): { code: number; message: string } | undefined {
  const at = line.indexOf('Code: ');
  if (at < 0 || !line.includes('Exception')) return undefined;
  if (at === 0 && line.split('\t').length === fields && !/DB::Exception/.test(line)) return undefined;
  return parseChException(line.slice(at));
}

/** Runs a statement outside any session and returns its TabSeparated body (for small answers). */
export async function chQueryText(p: ClickhouseParams, agent: http.Agent, sql: string, headersTimeoutMs?: number): Promise<string> {
  const { response } = chRequest(p, agent, sql, { query: chBaseQuery(p), ...(headersTimeoutMs !== undefined ? { headersTimeoutMs } : {}) });
  return readText(await response);
}

/**
 * A ClickHouse session over the HTTP interface: every statement is one POST with the engine's
 * session_id (so SET and temporary tables persist) and a query_id of its own. Results come as
 * TabSeparatedWithNamesAndTypes and are parsed line by line from the response stream; the response is
 * read only as fast as the consumer takes batches, so TCP backpressure holds the server. Cancel sends
 * `KILL QUERY WHERE query_id = … SYNC` on a separate request.
 */
export class ClickhouseSession implements DbSession {
  readonly dialect = 'clickhouse' as const;
  serverVersion = '';
  private readonly agent: http.Agent;
  private readonly sessionId: string;
  private readonly lostListeners: ((reason: string) => void)[] = [];
  private statementSeq = 0;
  private running: { queryId: string; abort: () => void; killed: boolean; answered: boolean } | undefined;
  private cancelling: Promise<void> | undefined;
  private closing = false;
  private lost = false;
  private started = false;

  private constructor(private readonly params: ClickhouseParams) {
    this.agent = chAgent(params, true);
    this.sessionId = `sluice-${randomBytes(12).toString('hex')}`;
  }

  /** Opens the session: the first query creates it on the server and reads the version. */
  static async open(params: ClickhouseParams): Promise<ClickhouseSession> {
    const session = new ClickhouseSession(params);
    try {
      const { response } = chRequest(params, session.agent, 'SELECT version()', {
        query: session.query(false),
        headersTimeoutMs: params.connectTimeoutMs,
      });
      const text = await readText(await response);
      session.serverVersion = text.split('\n')[2]?.trim() ?? '';
      session.started = true;
      return session;
    } catch (err) {
      session.agent.destroy();
      throw classifyChConnectError(err);
    }
  }

  /** The session id on the server (system.processes shows no session, but the query ids start with it). */
  get id(): string {
    return this.sessionId;
  }

  private query(check: boolean, queryId?: string): Record<string, string> {
    return {
      ...chBaseQuery(this.params),
      session_id: this.sessionId,
      session_timeout: String(this.params.sessionTimeoutSeconds),
      // Once the session exists, a vanished session is an error rather than a silent fresh one.
      ...(check ? { session_check: '1' } : {}),
      ...(queryId ? { query_id: queryId } : {}),
    };
  }

  private handleLost(reason: string): void {
    if (this.closing || this.lost) return;
    this.lost = true;
    for (const listener of this.lostListeners) listener(reason);
  }

  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  private failure(err: unknown): Error {
    if (this.running?.killed) return new StatementCancelled();
    if (err instanceof ChServerError) {
      if (err.chCode === CH_SESSION_NOT_FOUND) {
        this.handleLost(`the session expired on the server: ${err.message}`);
        return new SessionLost(`the session expired on the server: ${err.message}`);
      }
      return new StatementFailure(err.message, undefined, err.chCode);
    }
    if (err instanceof StatementFailure || err instanceof SessionLost || err instanceof StatementCancelled) return err;
    return new SessionLost(err instanceof ConnectFailure ? err.detail : messageOf(err));
  }

  /** Sends a statement; retries briefly while the previous (killed) query still holds the session. */
  private async send(sql: string, queryId: string): Promise<http.IncomingMessage> {
    for (let attempt = 0; ; attempt++) {
      const request = chRequest(this.params, this.agent, sql, { query: this.query(this.started, queryId) });
      const running = { queryId, abort: request.abort, killed: this.running?.killed ?? false, answered: false };
      this.running = running;
      try {
        const response = await request.response;
        running.answered = true;
        return response;
      } catch (err) {
        running.answered = true;
        if (err instanceof ChServerError && err.chCode === CH_SESSION_LOCKED && attempt < 40 && !running.killed) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        throw err;
      }
    }
  }

  async *run(sql: string, limits: BatchLimits): AsyncGenerator<StatementEvent, void, undefined> {
    if (this.lost || this.closing) throw new SessionLost('the session is closed');
    if (this.cancelling) await this.cancelling;
    this.statementSeq += 1;
    const queryId = `${this.sessionId}-${this.statementSeq}`;
    let response: http.IncomingMessage | undefined;
    let completed = false;
    try {
      try {
        response = await this.send(sql, queryId);
      } catch (err) {
        throw this.failure(err);
      }
      response.setEncoding('utf8');
      let header: string[] | undefined;
      let converters: ((raw: string) => unknown)[] = [];
      let rest = '';
      const batcher = new RowBatcher(limits);
      try {
        for await (const chunk of response) {
          const text = rest + (chunk as string);
          let start = 0;
          for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
            const line = text.slice(start, nl);
            start = nl + 1;
            if (header === undefined) {
              header = line.split('\t').map(unescapeCh);
              continue;
            }
            if (converters.length === 0 && header.length > 0) {
              const types = line.split('\t').map((t) => parseChType(unescapeCh(t)));
              converters = types.map(chFieldConverter);
              const columns: Column[] = header.map((name, i) => ({ name, type: chSqlName(types[i]!), nullable: unwrapChType(types[i]!).nullable }));
              yield { kind: 'columns', columns };
              continue;
            }
            const fields = line.split('\t');
            if (fields.length !== converters.length) {
              const exception = trailingException(line, converters.length);
              if (exception) throw new StatementFailure(exception.message, undefined, exception.code);
              throw new StatementFailure(`malformed result line: expected ${converters.length} fields, got ${fields.length}`);
            }
            if (fields[0]!.startsWith('Code: ')) {
              const exception = trailingException(line, converters.length);
              if (exception) throw new StatementFailure(exception.message, undefined, exception.code);
            }
            const row = new Array(fields.length);
            for (let i = 0; i < fields.length; i++) row[i] = converters[i]!(fields[i]!);
            const full = batcher.add(row);
            if (full) yield { kind: 'rows', rows: full };
          }
          rest = text.slice(start);
          if (batcher.isFull) {
            const rows = batcher.take();
            if (rows) yield { kind: 'rows', rows };
          }
        }
      } catch (err) {
        throw this.failure(err);
      }
      if (this.running?.killed) throw new StatementCancelled();
      if (rest.length > 0) {
        const exception = parseChException(rest.slice(Math.max(0, rest.indexOf('Code: '))));
        throw exception ? new StatementFailure(exception.message, undefined, exception.code) : new SessionLost('the result ended in the middle of a line');
      }
      const rows = batcher.take();
      if (rows) yield { kind: 'rows', rows };
      completed = true;
      yield { kind: 'done' };
    } finally {
      if (!completed && response && !response.complete) {
        // The consumer stopped early: stop the query on the server, then drop the connection.
        const running = this.running;
        if (running && !running.killed) await this.kill(queryId, () => running.answered || response?.complete === true);
        response.destroy();
      }
      this.running = undefined;
    }
  }

  /**
   * Kills a query by its id and waits until the server has stopped it. A query the server has not
   * registered yet (its request is still on the way) is not found by KILL, so the kill is repeated
   * until the query is found and killed, or has answered (then it is over), for at most 5 s.
   */
  private async kill(queryId: string, answered: () => boolean): Promise<void> {
    const killer = chAgent(this.params, false);
    try {
      for (let attempt = 0; attempt < 50; attempt++) {
        const body = await chQueryText(this.params, killer, `KILL QUERY WHERE query_id = ${chQuote(queryId)} SYNC`, this.params.connectTimeoutMs);
        if (body.includes(queryId) || answered()) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } catch {
      // Best effort: the query ends on its own, or with the dropped connection.
    } finally {
      killer.destroy();
    }
  }

  cancel(): Promise<void> {
    const running = this.running;
    if (!running || this.closing || this.lost) return this.cancelling ?? Promise.resolve();
    if (!this.cancelling) {
      running.killed = true;
      this.cancelling = (async () => {
        try {
          await this.kill(running.queryId, () => running.answered);
        } finally {
          running.abort();
          this.cancelling = undefined;
        }
      })();
    }
    return this.cancelling;
  }

  async ping(timeoutMs: number): Promise<void> {
    if (this.lost || this.closing) throw new SessionLost('the session is closed');
    const { response, abort } = chRequest(this.params, this.agent, 'SELECT 1', { query: this.query(true), headersTimeoutMs: timeoutMs });
    try {
      await readText(await response);
    } catch (err) {
      abort();
      throw this.failure(err);
    }
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.running?.abort();
    this.agent.destroy();
  }
}
