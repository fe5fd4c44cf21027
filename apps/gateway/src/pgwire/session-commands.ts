import { leadingWords } from './sql-lexer.ts';

/** A statement pgwire answers itself instead of running it as a job. */
export type SessionCommand =
  | { kind: 'begin' }
  | { kind: 'commit' }
  | { kind: 'rollback' }
  | { kind: 'noop'; tag: string }
  | { kind: 'set'; name: string; value: string | null }
  | { kind: 'reset-all' }
  | { kind: 'show'; name: string }
  | { kind: 'discard' }
  | { kind: 'deallocate'; name: string | null };

/**
 * Settings the gateway keeps per connection (the client's view of the session), with their
 * defaults. The engines always produce ISO dates, UTC timestamps with offsets and UTF-8 text, which
 * is what these defaults tell the client.
 */
export const LOCAL_SETTINGS: Record<string, string> = {
  application_name: '',
  client_encoding: 'UTF8',
  datestyle: 'ISO, MDY',
  intervalstyle: 'postgres',
  timezone: 'UTC',
  extra_float_digits: '1',
  standard_conforming_strings: 'on',
  integer_datetimes: 'on',
  server_version: '14.0',
  server_version_num: '140000',
  server_encoding: 'UTF8',
  is_superuser: 'off',
  statement_timeout: '0',
  lock_timeout: '0',
  idle_in_transaction_session_timeout: '0',
  client_min_messages: 'notice',
  bytea_output: 'hex',
  transaction_isolation: 'read committed',
  default_transaction_isolation: 'read committed',
  transaction_read_only: 'off',
  default_transaction_read_only: 'off',
  in_hot_standby: 'off',
  max_identifier_length: '63',
  search_path: '"$user", public',
  lc_messages: 'C',
  'sluice.datasource': '',
  'sluice.engine': '',
};

/** Settings whose changes a PostgreSQL server reports to the client with ParameterStatus. */
export const REPORTED_SETTINGS: Record<string, string> = {
  application_name: 'application_name',
  client_encoding: 'client_encoding',
  datestyle: 'DateStyle',
  intervalstyle: 'IntervalStyle',
  timezone: 'TimeZone',
  standard_conforming_strings: 'standard_conforming_strings',
  integer_datetimes: 'integer_datetimes',
  server_version: 'server_version',
  server_encoding: 'server_encoding',
  is_superuser: 'is_superuser',
  default_transaction_read_only: 'default_transaction_read_only',
  in_hot_standby: 'in_hot_standby',
};

/** SET of these settings is also passed to the engine, which has a setting of the same name. */
const PASS_THROUGH_TOO = new Set(['search_path']);

function unquote(v: string): string {
  const t = v.trim().replace(/;$/, '').trim();
  if (/^'.*'$/s.test(t)) return t.slice(1, -1).replace(/''/g, "'");
  if (/^".*"$/s.test(t)) return t.slice(1, -1);
  return t;
}

function settingName(raw: string): string {
  const n = raw.toLowerCase();
  return n === 'time zone' ? 'timezone' : n;
}

/**
 * Recognises transaction control, SET/SHOW/RESET of connection settings, DISCARD and DEALLOCATE.
 * Returns null for everything else, which runs as a job (SET of an engine's own setting, e.g.
 * DuckDB's `SET threads = 4`, goes to the engine).
 */
export function parseSessionCommand(sql: string): SessionCommand | null {
  const words = leadingWords(sql, 3);
  const [w0, w1] = words;
  switch (w0) {
    case 'BEGIN':
    case 'START':
      return w0 === 'BEGIN' || w1 === 'TRANSACTION' ? { kind: 'begin' } : null;
    case 'COMMIT':
    case 'END':
      return w1 === 'PREPARED' ? null : { kind: 'commit' };
    case 'ROLLBACK':
    case 'ABORT':
      if (w1 === 'TO') return { kind: 'noop', tag: 'ROLLBACK' };
      return w1 === 'PREPARED' ? null : { kind: 'rollback' };
    case 'SAVEPOINT':
      return { kind: 'noop', tag: 'SAVEPOINT' };
    case 'RELEASE':
      return { kind: 'noop', tag: 'RELEASE' };
    case 'LISTEN':
    case 'UNLISTEN':
      return { kind: 'noop', tag: w0 };
    case 'DISCARD':
      return { kind: 'discard' };
    case 'DEALLOCATE': {
      const m = /^\s*DEALLOCATE\s+(?:PREPARE\s+)?("?)([^";\s]+)\1\s*;?\s*$/i.exec(sql);
      if (!m) return null;
      return { kind: 'deallocate', name: (m[2] as string).toUpperCase() === 'ALL' ? null : (m[2] as string) };
    }
    case 'SET': {
      if (w1 === 'TRANSACTION' || (w1 === 'SESSION' && words[2] === 'CHARACTERISTICS')) return { kind: 'noop', tag: 'SET' };
      const tz = /^\s*SET\s+(?:SESSION\s+|LOCAL\s+)?TIME\s+ZONE\s+(.+)$/is.exec(sql);
      if (tz) return { kind: 'set', name: 'timezone', value: unquote(tz[1] as string) };
      const m = /^\s*SET\s+(?:SESSION\s+|LOCAL\s+)?("?)([A-Za-z_][\w.]*)\1\s*(?:=|\bTO\b)\s*(.+?)\s*;?\s*$/is.exec(sql);
      if (!m) return null;
      const name = settingName(m[2] as string);
      if (!(name in LOCAL_SETTINGS) || PASS_THROUGH_TOO.has(name)) return null;
      const value = unquote(m[3] as string);
      return { kind: 'set', name, value: /^default$/i.test(value) ? null : value };
    }
    case 'RESET': {
      if (w1 === 'ALL') return { kind: 'reset-all' };
      const name = settingName(/^\s*RESET\s+("?)([\w.]+)\1/i.exec(sql)?.[2] ?? '');
      return name in LOCAL_SETTINGS ? { kind: 'set', name, value: null } : null;
    }
    case 'SHOW': {
      const m = /^\s*SHOW\s+("?)([A-Za-z_][\w. ]*?)\1\s*;?\s*$/i.exec(sql);
      if (!m) return null;
      const name = settingName(m[2] as string);
      return name in LOCAL_SETTINGS || name === 'all' ? { kind: 'show', name } : null;
    }
    default:
      return null;
  }
}

/** Whether a setting also goes to the engine when the client sets it. */
export function alsoPassedThrough(sql: string): boolean {
  const m = /^\s*SET\s+(?:SESSION\s+|LOCAL\s+)?("?)([A-Za-z_][\w.]*)\1/i.exec(sql);
  return m !== null && PASS_THROUGH_TOO.has(settingName(m[2] as string));
}
