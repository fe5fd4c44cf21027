import type { Column, Row } from '@sluice/core';

/** What the connection knows that simple session functions return. */
export interface SessionFacts {
  user: string;
  database: string;
  schema: string;
  pid: number;
  version: string;
  setting(name: string): string | undefined;
}

type Item = { name: string; type: string; value: (f: SessionFacts, arg?: string) => unknown };

const FUNCTIONS: Record<string, Item> = {
  version: { name: 'version', type: 'TEXT', value: (f) => f.version },
  current_database: { name: 'current_database', type: 'NAME', value: (f) => f.database },
  current_catalog: { name: 'current_catalog', type: 'NAME', value: (f) => f.database },
  current_schema: { name: 'current_schema', type: 'NAME', value: (f) => f.schema },
  current_user: { name: 'current_user', type: 'NAME', value: (f) => f.user },
  session_user: { name: 'session_user', type: 'NAME', value: (f) => f.user },
  current_role: { name: 'current_role', type: 'NAME', value: (f) => f.user },
  user: { name: 'user', type: 'NAME', value: (f) => f.user },
  pg_backend_pid: { name: 'pg_backend_pid', type: 'INTEGER', value: (f) => f.pid },
  pg_is_in_recovery: { name: 'pg_is_in_recovery', type: 'BOOLEAN', value: () => false },
  current_setting: { name: 'current_setting', type: 'TEXT', value: (f, arg) => (arg === undefined ? undefined : f.setting(arg.toLowerCase())) },
};

const NO_PARENS = new Set(['current_user', 'session_user', 'current_role', 'user', 'current_catalog', 'current_schema']);

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  let quote = false;
  for (const c of s) {
    if (c === "'") quote = !quote;
    if (!quote && c === '(') depth++;
    if (!quote && c === ')') depth--;
    if (!quote && depth === 0 && c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * Answers `SELECT version()`, `SELECT current_schema(), session_user`, `SELECT current_setting('x')`
 * and the like, which clients and tools send on connect, without a job. Returns null when the
 * statement is anything else (a FROM clause, an unknown function, an expression).
 */
export function localSelect(sql: string, facts: SessionFacts): { columns: Column[]; rows: Row[] } | null {
  const m = /^\s*SELECT\s+(.+?)\s*;?\s*$/is.exec(sql);
  if (!m) return null;
  const columns: Column[] = [];
  const row: unknown[] = [];
  for (const raw of splitTopLevel(m[1] as string)) {
    const item =
      /^\s*(?:pg_catalog\.)?([a-z_]+)\s*(?:\(\s*(?:'([^']*)'(?:\s*,\s*(?:true|false))?)?\s*\))?(?:\s*::\s*[a-z_]+)?(?:\s+(?:AS\s+)?("?)([A-Za-z_][\w]*)\3)?\s*$/i.exec(
        raw,
      );
    if (!item) return null;
    const fn = (item[1] as string).toLowerCase();
    const spec = FUNCTIONS[fn];
    const hasParens = /\(/.test(raw);
    if (!spec || (!hasParens && !NO_PARENS.has(fn)) || (hasParens && (fn === 'user' || fn === 'current_user' || fn === 'session_user'))) return null;
    if (fn === 'current_setting' && item[2] === undefined) return null;
    const value = spec.value(facts, item[2]);
    if (value === undefined) return null;
    columns.push({ name: item[4] ?? spec.name, type: spec.type });
    row.push(value);
  }
  return { columns, rows: [row] };
}
