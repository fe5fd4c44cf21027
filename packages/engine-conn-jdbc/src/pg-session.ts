import type { Column, Row, WireRelay } from '@sluice/core';
import type pg from 'pg';
import { errorCodeOf, messageOf, SessionLost, StatementFailure } from './db-errors.ts';
import type { BatchLimits, DbSession, RunOptions, StatementEvent } from './db-session.ts';
import type { PostgresqlParams } from './param-schemas.ts';
import { connectPg, pgClientConfig } from './pg-connect.ts';
import { DataRowTap } from './pg-datarow-tap.ts';
import { PgDescribe, type PgField, PgPortal } from './pg-portal.ts';
import { type PgColumnType, PgTypeCache, TYPE_LOOKUP_SQL, type TypeLookupRow } from './pg-types.ts';
import { convertValue, type PgConversion, type PgKind, type PgOutputStyle } from './pg-values.ts';

/** Statement descriptions a session remembers (the most recently described), and the longest SQL text it keys one by. */
const MAX_REMEMBERED = 256;
const MAX_REMEMBERED_SQL = 16 * 1024;

function sameFields(a: readonly PgField[], b: readonly PgField[]): boolean {
  return (
    a.length === b.length && a.every((f, i) => f.name === b[i]!.name && f.dataTypeID === b[i]!.dataTypeID && f.dataTypeModifier === b[i]!.dataTypeModifier)
  );
}

/** Most rows in one fetch of DataRow messages passed on as they came (their bytes bound it first when rows are wide). */
const WIRE_MAX_ROWS = 16_384;

/** How long a fetch in flight when the consumer walks away may take before it is cancelled. */
const ABANDON_GRACE_MS = 50;

/**
 * Turns a DataRow's texts into row values in place (the message is not used after its handler).
 * Columns whose Sluice value is PostgreSQL's own text (text, numeric, bigint, time and every other
 * type without a conversion) are left as they are, so a row of such columns costs nothing here.
 */
function rowConverter(conversions: readonly PgConversion[], style: PgOutputStyle): (values: (string | null)[]) => Row {
  const converted: number[] = [];
  conversions.forEach((c, i) => {
    if (c.array || !TEXT_AS_IS.has(c.kind)) converted.push(i);
  });
  if (converted.length === 0) return (values) => values;
  return (values) => {
    const row: Row = values;
    for (const i of converted) {
      const text = values[i];
      if (text !== null && text !== undefined) row[i] = convertValue(text, conversions[i] as PgConversion, style);
    }
    return row;
  };
}

/** Kinds whose row value is the server's text unchanged (see convertScalar). */
const TEXT_AS_IS: ReadonlySet<PgKind> = new Set<PgKind>(['text', 'numeric', 'bigint', 'time']);

/**
 * Kinds whose converted value prints back as exactly the server's text (an integer's digits, `t`
 * and `f`), so a consumer of the same wire format may take the server's bytes instead.
 */
const WIRE_AS_IS: ReadonlySet<PgKind> = new Set<PgKind>([...TEXT_AS_IS, 'int', 'bool']);

/** SQLSTATE classes that mean the connection, not the statement, is gone. */
const SESSION_GONE = /^(0800\d|57P0[1-3])/;

function commandOf(tag: string | undefined): { command?: string; affectedRows?: number } {
  if (!tag) return {};
  const m = /^(INSERT \d+|UPDATE|DELETE|MERGE|COPY|MOVE|FETCH|SELECT)\s+(\d+)$/.exec(tag);
  if (m) {
    const command = m[1]!.split(' ')[0]!;
    return command === 'SELECT' || command === 'MOVE' || command === 'FETCH' ? { command } : { command, affectedRows: Number(m[2]) };
  }
  return { command: tag };
}

/** Wraps a node-postgres error of a statement into the engine's error types. */
function statementError(err: unknown): Error {
  const code = errorCodeOf(err);
  if (code && /^[0-9A-Z]{5}$/.test(code)) {
    if (SESSION_GONE.test(code)) return new SessionLost(messageOf(err));
    const e = err as { detail?: string; hint?: string; position?: string };
    let message = messageOf(err);
    if (e.position) message += ` (at character ${e.position})`;
    if (e.detail) message += `. Detail: ${e.detail}`;
    if (e.hint) message += `. Hint: ${e.hint}`;
    return new StatementFailure(message, code);
  }
  // No SQLSTATE: the socket broke or node-postgres refused the connection.
  return new SessionLost(messageOf(err));
}

/**
 * A PostgreSQL session on one connection. Each statement is parsed and described first (Sync), its
 * column types resolved (cached per session), then executed through the unnamed portal in batches of
 * at most `limits.rows` rows (fewer when rows are wide), read one batch ahead of the consumer.
 * Outside a transaction block the statement is executed whole and synced in one flight, its socket
 * paused while a batch waits; inside one it is fetched with row limits, the portal suspended between
 * fetches (see {@link PgPortal}). Cancel runs pg_cancel_backend from a second connection.
 */
export class PgSession implements DbSession {
  readonly dialect = 'postgresql' as const;
  serverVersion = '';
  private readonly types = new PgTypeCache();
  /** Columns of statements this session described, by SQL text (undefined: the statement returns no rows). */
  private readonly descriptions = new Map<string, { fields: PgField[] | undefined }>();
  private readonly style: PgOutputStyle = { isoDates: true };
  private readonly lostListeners: ((reason: string) => void)[] = [];
  private closing = false;
  private lost = false;
  private inFlight = false;
  /** The transaction status of the last ReadyForQuery: `I` idle, `T` in a transaction block, `E` in a failed one. */
  private transaction = 'I';
  /** True while the server may be executing for the running statement (not while a portal waits for the consumer). */
  private executing: () => boolean = () => false;
  private cancelling: Promise<void> | undefined;

  private constructor(
    private readonly client: pg.Client,
    private readonly params: PostgresqlParams,
  ) {
    client.on('error', (err) => this.handleLost(messageOf(err)));
    client.on('end', () => this.handleLost('the server closed the connection'));
    // DateStyle is reported by the server whenever it changes (SET DateStyle …).
    const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
    connection.on('parameterStatus', (message: { parameterName: string; parameterValue: string }) => {
      if (message.parameterName === 'DateStyle') this.style.isoDates = message.parameterValue.startsWith('ISO');
    });
    connection.on('readyForQuery', (message: { status: string }) => {
      this.transaction = message.status;
    });
  }

  /** Connects, applies the data source's session settings and reads the server version. */
  static async open(params: PostgresqlParams): Promise<PgSession> {
    const client = await connectPg(pgClientConfig(params), params.connectTimeoutMs);
    const session = new PgSession(client, params);
    try {
      if (params.searchPath) await client.query("SELECT pg_catalog.set_config('search_path', $1, false)", [params.searchPath]);
      const version = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
      session.serverVersion = version.rows[0]?.v ?? '';
    } catch (err) {
      await session.close();
      throw statementError(err);
    }
    return session;
  }

  /** The backend process id of this session (what pg_stat_activity shows). */
  get backendPid(): number {
    return (this.client as unknown as { processID: number }).processID;
  }

  private handleLost(reason: string): void {
    if (this.closing || this.lost) return;
    this.lost = true;
    for (const listener of this.lostListeners) listener(reason);
  }

  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  private async resolveTypes(fields: PgField[]): Promise<PgColumnType[]> {
    const missing = this.types.missing(fields);
    if (missing.length > 0) {
      const answer = await this.client.query<TypeLookupRow>(TYPE_LOOKUP_SQL, [missing.map((m) => String(m.oid)), missing.map((m) => m.typmod)]);
      this.types.add(answer.rows);
    }
    return fields.map((f) => this.types.get(f.dataTypeID, f.dataTypeModifier));
  }

  private remember(sql: string, fields: PgField[] | undefined): void {
    if (sql.length > MAX_REMEMBERED_SQL) return;
    this.descriptions.delete(sql);
    this.descriptions.set(sql, { fields });
    if (this.descriptions.size > MAX_REMEMBERED) this.descriptions.delete(this.descriptions.keys().next().value as string);
  }

  /** The connection's socket (node-postgres's). */
  private get stream(): NodeJS.EventEmitter {
    return (this.client as unknown as { connection: { stream: NodeJS.EventEmitter } }).connection.stream;
  }

  async *run(sql: string, limits: BatchLimits, options: RunOptions = {}): AsyncGenerator<StatementEvent, void, undefined> {
    if (this.lost || this.closing) throw new SessionLost('the session is closed');
    // A cancel of the previous statement must land before the next one starts.
    if (this.cancelling) await this.cancelling;
    this.inFlight = true;
    let portal: PgPortal | undefined;
    let tap: DataRowTap | undefined;
    this.executing = () => portal === undefined || portal.fetching;
    try {
      let fields: PgField[] | undefined;
      let types: PgColumnType[] = [];
      // A type lookup is a statement of its own: it replaces the unnamed statement, so parse again.
      let reparse = false;
      // A statement this session described before, whose column types it knows, is parsed, bound,
      // described and run in one flight to the server; the description that comes back first is
      // checked against the remembered one before any row is converted.
      const remembered = this.descriptions.get(sql);
      const pipelined = remembered !== undefined && (remembered.fields === undefined || this.types.missing(remembered.fields).length === 0);
      if (pipelined) {
        fields = remembered.fields;
        types = (fields ?? []).map((f) => this.types.get(f.dataTypeID, f.dataTypeModifier));
      } else {
        try {
          const describe = new PgDescribe(sql);
          void this.client.query(describe as never);
          fields = await describe.done;
          if (fields) {
            reparse = this.types.missing(fields).length > 0;
            types = await this.resolveTypes(fields);
          }
        } catch (err) {
          throw statementError(err);
        }
        this.remember(sql, fields);
        if (fields) yield { kind: 'columns', columns: fields.map((f, i) => ({ name: f.name, type: types[i]!.name })) };
      }
      const conversions = types.map((t) => t.conversion);
      const columns: Column[] = (fields ?? []).map((f, i) => ({ name: f.name, type: types[i]!.name }));
      // Rows go as the server's DataRow messages when the consumer takes them and every column's
      // value would print as the server's own text anyway.
      const wire =
        fields !== undefined && options.wireRows !== undefined && conversions.every((c) => !c.array && WIRE_AS_IS.has(c.kind)) && options.wireRows(columns);
      const convertRow = rowConverter(conversions, this.style);
      // Outside a transaction block the statement runs in one flight (Execute and Sync together; the
      // socket paused while a batch waits). Inside one, an abandoned statement must not fail the
      // user's transaction, so the portal is suspended between fetches and closed instead.
      const stream = this.stream as NodeJS.EventEmitter & { pause(): void; resume(): void };
      const oneFlight = this.transaction === 'I' ? { pause: () => stream.pause(), resume: () => stream.resume(), maxBytes: limits.bytes } : undefined;
      portal = new PgPortal(
        reparse || pipelined ? sql : undefined,
        limits.rows,
        convertRow,
        'COPY FROM STDIN is not supported by the jdbc engine; use INSERT',
        oneFlight,
      );
      if (wire) {
        const p = portal;
        const t = new DataRowTap(this.stream, (chunk, rows) => p.addWireRows(chunk, rows));
        t.install();
        tap = t;
        portal.onReady = () => t.uninstall();
      }
      if (pipelined) {
        const p = portal;
        const expected = fields;
        p.onDescribe = (actual) => {
          if (expected && sameFields(actual, expected)) return;
          // The statement now describes differently (the table changed, or search_path): its rows
          // convert by what came back, never off the wire. A type this session has not seen yet
          // cannot be looked up with the portal open: it passes as text this once.
          this.descriptions.delete(sql);
          p.setConverter(
            rowConverter(
              actual.map((f) => this.types.get(f.dataTypeID, f.dataTypeModifier).conversion),
              this.style,
            ),
          );
          tap?.uninstall();
          tap = undefined;
        };
      }
      void this.client.query(portal as never);
      for (let first = true; ; first = false) {
        let batch: Awaited<ReturnType<PgPortal['next']>>;
        try {
          batch = await portal.next();
        } catch (err) {
          throw statementError(err);
        }
        if (first && pipelined) {
          // The portal's description came before its first rows: the columns are what it said.
          const actual = portal.fields;
          if (!actual && fields) this.descriptions.delete(sql);
          if (actual) yield { kind: 'columns', columns: actual.map((f) => ({ name: f.name, type: this.types.get(f.dataTypeID, f.dataTypeModifier).name })) };
        }
        // The next fetch goes out before this batch is handed over, so the server produces it while
        // the consumer handles this one: one batch ahead, as the session's contract allows. Wide rows
        // (by the bytes the server sent) make it smaller, so one batch stays near `limits.bytes`.
        if (batch.more) {
          const count = batch.wire ? batch.wire.rows : batch.rows.length;
          const perRow = count > 0 ? Math.max(1, batch.bytes / count) : 1;
          // DataRow messages passed on as they came cost no objects per row: their batches are
          // bounded by bytes alone (up to WIRE_MAX_ROWS rows), which saves fetch round trips.
          const maxRows = batch.wire ? WIRE_MAX_ROWS : limits.rows;
          portal.fetch(Math.max(1, Math.min(maxRows, Math.floor(limits.bytes / perRow))));
        }
        if (batch.wire) yield { kind: 'wireRows', wire: batch.wire };
        else if (batch.rows.length > 0) yield { kind: 'rows', rows: batch.rows };
        if (!batch.more) break;
      }
      yield { kind: 'done', ...commandOf(portal.commandTag) };
    } finally {
      if (portal && !portal.finished && !this.lost && !this.closing) {
        // A consumer that walks away mid-fetch must not wait for a long statement to finish. The
        // fetch in flight is usually the one sent ahead, which ends at once; it is cancelled only
        // when it does not.
        let timer: NodeJS.Timeout | undefined;
        if (portal.fetching) timer = setTimeout(() => void this.cancel(), ABANDON_GRACE_MS);
        await portal.abandon();
        clearTimeout(timer);
      }
      tap?.uninstall();
      this.inFlight = false;
      this.executing = () => false;
    }
  }

  /**
   * Takes the connection from node-postgres: the server's bytes go to the relay's listener instead
   * of node-postgres's parser, and the relay writes protocol messages to the socket itself. Loss of
   * the connection is still reported through {@link onLost}. Closing the relay gives the socket back
   * to node-postgres (which then holds no partial message only if the server was idle), and the
   * session is then closed by its engine.
   */
  relay(): WireRelay {
    if (this.lost || this.closing) throw new SessionLost('the session is closed');
    if (this.inFlight) throw new Error('the session is running a statement');
    const stream = this.stream as NodeJS.EventEmitter & { write(b: Buffer): boolean; pause(): void; resume(): void };
    const saved = stream.listeners('data') as ((chunk: Buffer) => void)[];
    for (const l of saved) stream.removeListener('data', l);
    const listeners: ((chunk: Buffer) => void)[] = [];
    const onData = (chunk: Buffer) => {
      for (const l of listeners) l(chunk);
    };
    stream.on('data', onData);
    let busy = false;
    let closed = false;
    this.inFlight = true;
    this.executing = () => busy;
    return {
      write: (bytes) => stream.write(bytes),
      onData: (l) => void listeners.push(l),
      onDrain: (l) => void stream.on('drain', l),
      onLost: (l) => this.onLost(l),
      pause: () => stream.pause(),
      resume: () => stream.resume(),
      setBusy: (b) => {
        busy = b;
      },
      cancel: () => (busy ? this.cancel() : Promise.resolve()),
      close: async () => {
        if (closed) return;
        closed = true;
        busy = false;
        await this.cancelling;
        stream.removeListener('data', onData);
        for (const l of saved) stream.on('data', l);
        stream.resume();
        this.inFlight = false;
        this.executing = () => false;
      },
    };
  }

  cancel(): Promise<void> {
    if (!this.inFlight || this.lost || this.closing) return this.cancelling ?? Promise.resolve();
    if (!this.cancelling) {
      const pid = this.backendPid;
      this.cancelling = (async () => {
        let helper: pg.Client | undefined;
        try {
          helper = await connectPg(pgClientConfig(this.params), this.params.connectTimeoutMs);
          // A cancel that reaches the backend between two protocol messages is ignored by PostgreSQL,
          // so it is repeated while the statement still executes (for at most 5 s).
          for (let attempt = 0; attempt < 20; attempt++) {
            await helper.query('SELECT pg_catalog.pg_cancel_backend($1)', [pid]);
            await new Promise((resolve) => setTimeout(resolve, 250));
            if (!this.inFlight || !this.executing() || this.lost || this.closing) break;
          }
        } catch {
          // Best effort: when the helper cannot connect, the statement runs on until it ends.
        } finally {
          await helper?.end().catch(() => undefined);
          this.cancelling = undefined;
        }
      })();
    }
    return this.cancelling;
  }

  async ping(timeoutMs: number): Promise<void> {
    if (this.lost || this.closing) throw new SessionLost('the session is closed');
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.client.query('SELECT 1'),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const stream = (this.client as unknown as { connection: { stream: { destroy(): void; resume(): void } } }).connection.stream;
    // A statement in one flight may have paused the socket; the server's end must be read.
    stream.resume();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.client.end().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          stream.destroy();
          resolve();
        }, 2000);
      }),
    ]);
    clearTimeout(timer);
  }
}
