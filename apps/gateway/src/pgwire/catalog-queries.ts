import type { Column, Principal, Row } from '@sluice/core';
import type { PgwireDataSources, Target } from './pgwire-deps.ts';

/** What answering a catalog query may use. */
export interface CatalogContext {
  principal: Principal;
  target: Target;
  database: string;
  user: string;
  dataSources: PgwireDataSources;
  /** Runs a query on the target as a job and returns all its (small) result. */
  runQuery(sql: string): Promise<{ columns: Column[]; rows: Row[] }>;
}

/** Answers a well-known catalog query, or null when the statement is not one. */
export async function answerCatalogQuery(_sql: string, _ctx: CatalogContext): Promise<{ columns: Column[]; rows: Row[] } | null> {
  return null;
}
