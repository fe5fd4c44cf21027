import type { BrowsePage, BrowsePath } from '@sluice/core';
import type { DbSession } from './db-session.ts';

/**
 * What the connector needs from each database family. Every method throws ConnectFailure when it
 * cannot connect and StatementFailure when the server rejects a statement; nothing else is expected.
 */
export interface JdbcDriver<P> {
  /** Opens the one session of an engine. */
  open(params: P): Promise<DbSession>;
  /** Connects within `timeoutMs`, runs a trivial probe and disconnects. */
  test(params: P, timeoutMs: number): Promise<{ serverVersion: string }>;
  /** Lists one level of the catalog, `limit` items after the cursor. */
  browse(params: P, path: BrowsePath, limit: number, cursor: string | undefined): Promise<BrowsePage>;
}
