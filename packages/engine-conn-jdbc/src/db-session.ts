import type { Column, Row, WireRelay } from '@sluice/core';
import type { JdbcDialect } from './param-schemas.ts';
import type { WireRows } from './pg-datarow-tap.ts';

/**
 * What one statement produces, in order: `columns` starting each result set (usually one; a MySQL
 * `CALL` can give several), its `rows` batches, then `done`.
 */
export type StatementEvent =
  | { kind: 'columns'; columns: Column[] }
  | { kind: 'rows'; rows: Row[] }
  /** Rows as PostgreSQL DataRow messages, when the statement was run with {@link RunOptions.wireRows}. */
  | { kind: 'wireRows'; wire: WireRows }
  | {
      kind: 'done';
      /** Rows inserted, updated or deleted, when the database says. */
      affectedRows?: number;
      /** The database's command tag, e.g. `CREATE TABLE`, when it gives one. */
      command?: string;
    };

/** How a session cuts results into batches. */
export interface BatchLimits {
  /** Most rows in one `rows` event. */
  rows: number;
  /** About the most bytes in one `rows` event. */
  bytes: number;
}

/** Options of one statement. */
export interface RunOptions {
  /**
   * Asks for rows as the server's own DataRow messages (PostgreSQL sessions only), for a consumer
   * that speaks the same protocol. Given the statement's columns, it says whether the consumer can
   * take them as they are; the session also requires that every value's text is what its converted
   * value would print as. Otherwise, and on other databases, rows come converted.
   */
  wireRows?: (columns: Column[]) => boolean;
}

/**
 * One database session of one engine, whatever the driver. It runs one statement at a time; the
 * engine serialises tasks. Reading is pulled: a session reads no further from the server than its
 * consumer has taken (one batch ahead at most).
 */
export interface DbSession {
  readonly dialect: JdbcDialect;
  /** The server's version string, e.g. `16.4` or `10.11.6-MariaDB`. */
  readonly serverVersion: string;
  /**
   * Runs one statement. Throws StatementFailure (the statement's fault), StatementCancelled (after
   * {@link cancel}) or SessionLost. Ending the iteration early stops the statement and frees its cursor.
   */
  run(sql: string, limits: BatchLimits, options?: RunOptions): AsyncGenerator<StatementEvent, void, undefined>;
  /** Stops the running statement on the server, from a separate connection. Safe when none runs. */
  cancel(): Promise<void>;
  /** A round trip to the server within `timeoutMs`; rejects when the session is unusable. */
  ping(timeoutMs: number): Promise<void>;
  /** Closes the session; safe to call twice. */
  close(): Promise<void>;
  /** Called once if the session breaks by itself (not through close()). */
  onLost(listener: (reason: string) => void): void;
  /**
   * Hands the connection over byte for byte (PostgreSQL sessions only; ADR 17). The session must be
   * idle; it runs nothing else until the relay is closed, and is not used after that.
   */
  relay?(): WireRelay;
}
