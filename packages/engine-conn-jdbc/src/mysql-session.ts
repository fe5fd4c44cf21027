import type { EventEmitter } from 'node:events';
import type { Connection } from 'mysql2';
import { messageOf, SessionLost, StatementFailure } from './db-errors.ts';
import type { BatchLimits, DbSession, StatementEvent } from './db-session.ts';
import { connectMysql } from './mysql-connect.ts';
import { convertMysqlValue, type MysqlColumnPlan, type MysqlField, planColumn } from './mysql-values.ts';
import type { MysqlParams } from './param-schemas.ts';
import { RowBatcher } from './row-batcher.ts';

/** A mysql2 query error. */
interface QueryError {
  message: string;
  code?: string;
  errno?: number;
  sqlState?: string;
  fatal?: boolean;
}

/** The result header of a statement without rows (INSERT, UPDATE, CREATE…). */
interface ResultHeader {
  affectedRows?: number;
}

function statementError(err: QueryError): Error {
  if (err.fatal) return new SessionLost(messageOf(err));
  return new StatementFailure(err.message, err.sqlState, err.errno ?? err.code);
}

/** Runs a small query on a connection and collects its rows (setup and probes only). */
export function mysqlQuery(connection: Connection, sql: string, values: unknown[] = []): Promise<Buffer[][]> {
  return new Promise((resolve, reject) => {
    connection.query({ sql, values, rowsAsArray: true, typeCast: false }, (err, rows) => {
      if (err) reject(statementError(err as QueryError));
      else resolve(Array.isArray(rows) ? (rows as unknown as Buffer[][]) : []);
    });
  });
}

/**
 * A MySQL/MariaDB session on one connection. Each statement streams through the text protocol: the
 * connection is paused whenever a full batch waits for the consumer, so TCP backpressure holds the
 * server. Values are read as raw bytes and converted by column type. Cancel runs `KILL QUERY` with the
 * session's thread id from a second connection.
 */
export class MysqlSession implements DbSession {
  readonly dialect = 'mysql' as const;
  serverVersion = '';
  private readonly lostListeners: ((reason: string) => void)[] = [];
  private closing = false;
  private lost = false;
  private inFlight = false;
  private cancelling: Promise<void> | undefined;
  /** Ends the running statement's wait when the connection goes away underneath it. */
  private interrupt: ((err: Error) => void) | undefined;
  /** True while the server may be executing the running statement (not while the connection is paused for the consumer). */
  private executing: () => boolean = () => false;

  private constructor(
    private readonly connection: Connection,
    private readonly params: MysqlParams,
  ) {
    connection.on('error', (err: QueryError) => {
      if (err.fatal !== false) this.handleLost(messageOf(err));
    });
    connection.on('end', () => this.handleLost('the server closed the connection'));
  }

  /** Connects, applies the session time zone and reads the server version. */
  static async open(params: MysqlParams): Promise<MysqlSession> {
    const connection = await connectMysql(params, params.connectTimeoutMs);
    const session = new MysqlSession(connection, params);
    try {
      if (params.sessionTimeZone) await mysqlQuery(connection, 'SET time_zone = ?', [params.sessionTimeZone]);
      const [[version]] = (await mysqlQuery(connection, 'SELECT VERSION()')) as [[Buffer]];
      session.serverVersion = version.toString('utf8');
    } catch (err) {
      await session.close();
      throw err;
    }
    return session;
  }

  /** The server's thread id of this session (what SHOW PROCESSLIST shows). */
  get threadId(): number {
    return this.connection.threadId;
  }

  private handleLost(reason: string): void {
    if (this.closing || this.lost) return;
    this.lost = true;
    this.interrupt?.(new SessionLost(reason));
    for (const listener of this.lostListeners) listener(reason);
  }

  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  async *run(sql: string, limits: BatchLimits): AsyncGenerator<StatementEvent, void, undefined> {
    if (this.lost || this.closing) throw new SessionLost('the session is closed');
    if (this.cancelling) await this.cancelling;
    this.inFlight = true;
    const queue: StatementEvent[] = [];
    let plans: MysqlColumnPlan[] = [];
    let batcher = new RowBatcher(limits);
    let affectedRows: number | undefined;
    let failure: Error | undefined;
    let ended = false;
    let paused = false;
    let wake: (() => void) | undefined;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const flush = () => {
      const rows = batcher.take();
      if (rows) queue.push({ kind: 'rows', rows });
    };
    const query = this.connection.query({ sql, rowsAsArray: true, typeCast: false }) as unknown as EventEmitter;
    query.on('fields', (fields: MysqlField[] | undefined) => {
      // Statements without a result set report no fields.
      if (!fields || fields.length === 0) return;
      flush();
      plans = fields.map(planColumn);
      batcher = new RowBatcher(limits);
      queue.push({ kind: 'columns', columns: plans.map((p) => p.column) });
      notify();
    });
    query.on('result', (result: unknown) => {
      if (Array.isArray(result)) {
        const raw = result as (Buffer | null)[];
        const row = new Array(raw.length);
        try {
          for (let i = 0; i < raw.length; i++) row[i] = convertMysqlValue(raw[i], plans[i]!);
        } catch (err) {
          // Never throw into the driver: it would take the connection down.
          failure ??= new Error(`could not convert a value: ${messageOf(err)}`);
          notify();
          return;
        }
        const full = batcher.add(row);
        if (full) {
          queue.push({ kind: 'rows', rows: full });
          // One batch is waiting for the consumer: read no further until it is taken.
          if (!paused) {
            paused = true;
            this.connection.pause();
          }
          notify();
        }
      } else {
        const header = result as ResultHeader;
        if (typeof header.affectedRows === 'number') affectedRows = (affectedRows ?? 0) + header.affectedRows;
      }
    });
    query.on('error', (err: QueryError) => {
      failure = statementError(err);
      ended = true;
      notify();
    });
    query.on('end', () => {
      ended = true;
      notify();
    });
    this.interrupt = (err) => {
      failure ??= err;
      ended = true;
      notify();
    };
    this.executing = () => !ended && !paused;
    let finished = false;
    try {
      for (;;) {
        const event = queue.shift();
        if (event) {
          yield event;
          continue;
        }
        if (failure) throw failure;
        if (ended) {
          flush();
          if (queue.length > 0) continue;
          break;
        }
        if (paused) {
          // Resuming replays buffered packets at once, which may fill the queue again: look again.
          paused = false;
          this.connection.resume();
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      finished = true;
      yield plans.length > 0 ? { kind: 'done' } : { kind: 'done', ...(affectedRows !== undefined ? { affectedRows } : {}) };
    } finally {
      if (!finished && !ended && !this.lost && !this.closing) {
        // The consumer stopped early: stop the statement, then read what is left of its answer.
        if (!this.cancelling) await this.kill();
        else await this.cancelling;
        if (paused) this.connection.resume();
        await new Promise<void>((resolve) => {
          if (ended) resolve();
          else wake = resolve;
        });
      }
      this.inFlight = false;
      this.interrupt = undefined;
      this.executing = () => false;
    }
  }

  /**
   * Runs `KILL QUERY` for this session's thread from a second connection. A kill that reaches the
   * server before the statement started is forgotten when it starts, so the kill is repeated while
   * the statement still executes (for at most 5 s).
   */
  private async kill(): Promise<void> {
    try {
      const helper = await connectMysql(this.params, this.params.connectTimeoutMs);
      try {
        for (let attempt = 0; attempt < 20; attempt++) {
          await mysqlQuery(helper, `KILL QUERY ${Number(this.threadId)}`);
          await new Promise((resolve) => setTimeout(resolve, 250));
          if (!this.executing() || this.lost || this.closing) break;
        }
      } finally {
        helper.destroy();
      }
    } catch {
      // Best effort: the statement runs on until it ends.
    }
  }

  cancel(): Promise<void> {
    if (!this.inFlight || this.lost || this.closing) return this.cancelling ?? Promise.resolve();
    if (!this.cancelling) {
      this.cancelling = this.kill().finally(() => {
        this.cancelling = undefined;
      });
    }
    return this.cancelling;
  }

  ping(timeoutMs: number): Promise<void> {
    if (this.lost || this.closing) return Promise.reject(new SessionLost('the session is closed'));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      this.connection.ping((err) => {
        clearTimeout(timer);
        if (err) reject(new SessionLost(messageOf(err)));
        else resolve();
      });
    });
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.inFlight) {
      // COM_QUIT would queue behind the running statement: drop the connection instead.
      this.connection.destroy();
      this.interrupt?.(new SessionLost('the session was closed'));
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.connection.destroy();
        resolve();
      }, 2000);
      try {
        this.connection.end(() => {
          clearTimeout(timer);
          resolve();
        });
      } catch {
        clearTimeout(timer);
        this.connection.destroy();
        resolve();
      }
    });
  }
}
