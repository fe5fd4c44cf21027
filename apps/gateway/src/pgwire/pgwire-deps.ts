import type { BrowsePage, BrowsePath, Column, EventBus, InteractiveRelay, InteractiveStatement, Principal } from '@sluice/core';
import type { EntranceApi, Logger } from '@sluice/entrance';
import type { TokenStore } from '../auth/token-store.ts';
import type { ScramVerifierStore } from './scram-verifier-store.ts';

/** The data-source service calls pgwire uses: may the user run on it, and its metadata. */
export interface PgwireDataSources {
  checkUse(principal: Principal, name: string): Promise<{ type: string; engine: string }>;
  browse(principal: Principal, name: string, path: BrowsePath, page: { cursor?: string; limit: number }): Promise<BrowsePage>;
}

/**
 * Runs statements at once on engines held for interactive sessions (the engine manager in the same
 * process): no queue hop, rows streamed as they come. Without it every statement goes through the queue.
 */
export interface InteractiveStatements {
  /**
   * Starts a statement. `wireRows`, given the statement's columns, says whether the connection can
   * take its rows as text-format DataRow messages (every result column in text format, announced
   * with a type whose text is the value's own).
   */
  start(
    principal: Principal,
    body: Record<string, unknown>,
    signal: AbortSignal,
    options?: { wireRows?: (columns: Column[]) => boolean },
  ): Promise<InteractiveStatement>;
  /**
   * Gives a connection its own session on the PostgreSQL data source `body.dataSource`, relayed byte
   * for byte (ADR 17); undefined when the data source cannot be relayed. `body` is the connection's
   * submission without code.
   */
  relay?(principal: Principal, body: Record<string, unknown>, signal: AbortSignal): Promise<InteractiveRelay | undefined>;
}

/** What {@link startPgwireServer} needs. */
export interface PgwireServerDeps {
  /** Address to bind; Sluice binds 127.0.0.1 unless configured otherwise. */
  host: string;
  /** Port; 0 picks a free one (see the returned address). */
  port: number;
  entrance: EntranceApi;
  /** The in-process fast path for statements, when this process also runs an engine manager. */
  interactive?: InteractiveStatements;
  /** Relay connections to PostgreSQL data sources to sessions of their own (ADR 17); default true. */
  relay?: boolean;
  tokens: TokenStore;
  dataSources: PgwireDataSources;
  bus: EventBus;
  log: Logger;
  /** TLS key and certificate (PEM): SSLRequest is answered `S` and cleartext passwords are allowed. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** SCRAM verifiers of tokens; without it SCRAM logins fail and only TLS cleartext logins work. */
  scram?: ScramVerifierStore;
  /** Engine names a database name may pick (e.g. config.SLUICE_ENGINES); default `['duckdb']`. */
  engines?: readonly string[];
  /** Engine of the databases `sluice` and `postgres`, and of a database named like the user; default `duckdb`. */
  defaultEngine?: string;
  /** Largest frontend message accepted; a larger one closes the connection. Default 16 MiB. */
  maxMessageBytes?: number;
  /** Rows per page read from the result store. Default 16384. */
  pageRows?: number;
  /** Version reported in `version()`. */
  version?: string;
}

/** Where a connection's statements go. */
export interface Target {
  kind: 'engine' | 'datasource';
  /** Engine label (`duckdb`) or data-source name (`orders_pg`). */
  name: string;
  /** Engine that runs the statements (`duckdb`, `jdbc`, `trino`…). */
  engine: string;
  /** Data-source type (`postgresql`, `mysql`…) for data sources. */
  type?: string;
}
