import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import { type Column, type JobView, type Principal, type Row, SluiceError, toSluiceError } from '@sluice/core';
import type { JobEnds } from '../job-ends.ts';
import { AUTH_HINT, Authenticator, type AuthRequest } from './authenticator.ts';
import type { BackendKeys } from './backend-keys.ts';
import * as out from './backend-messages.ts';
import { ProtocolViolation } from './byte-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import { parseBind, parseExecute, parseParse, parseQuery, parseStartupPacket, parseTarget, type StartupPacket } from './frontend-messages.ts';
import { localSelect } from './local-select.ts';
import { type FrontendMessage, MessageFramer, MessageTooLarge } from './message-framer.ts';
import { type PgType, pgTypeOf } from './pg-types.ts';
import type { InteractiveStatements, PgwireServerDeps, Target } from './pgwire-deps.ts';
import { Relay, type RelayHost, RelayRefusal } from './relay.ts';
import { ArrayRowSource, JobRowSource, LiveRowSource, type RowSource } from './row-source.ts';
import { alsoPassedThrough, LOCAL_SETTINGS, parseSessionCommand, REPORTED_SETTINGS, type SessionCommand } from './session-commands.ts';
import { leadingWords, maxPlaceholder, type SqlDialect, splitStatements, substitutePlaceholders } from './sql-lexer.ts';
import { ParameterError, parameterLiteral } from './sql-literals.ts';
import { errorFieldsOf, type SluiceErrorLike } from './sqlstate.ts';
import { writeBinaryValue } from './value-binary.ts';
import { valueText } from './value-text.ts';

/** Server-wide parts every connection shares. */
export interface ConnectionContext {
  deps: PgwireServerDeps;
  keys: BackendKeys;
  waiter: JobEnds;
  secureContext?: SecureContext;
  /** Passes a CancelRequest this gateway has no connection for to the other gateways. */
  cancelElsewhere?(pid: number, secret: number): void;
  /** Called when the connection is gone, to forget it. */
  onClose(conn: PgConnection): void;
}

/** An error to send as ErrorResponse, with its SQLSTATE. */
class PgError extends Error {
  constructor(
    readonly fields: out.ErrorFields,
    readonly fatal = false,
  ) {
    super(fields.message);
  }
}

const pgError = (code: string, message: string, more: Partial<out.ErrorFields> = {}, fatal = false) =>
  new PgError({ severity: fatal ? 'FATAL' : 'ERROR', code, message, ...more }, fatal);

/** A job that did not succeed. */
class JobFailure extends Error {
  constructor(
    readonly error: SluiceErrorLike,
    readonly jobId: string,
  ) {
    super(error.message);
  }
}

interface PreparedStatement {
  sql: string;
  paramTypes: number[];
  /** Columns found by describing the statement, cached. */
  described?: Column[] | null;
}

/** What a statement produced: rows to stream (or none) and the CommandComplete tag. */
interface StatementResult {
  source: RowSource | null;
  types: PgType[];
  tag: (rows: number) => string;
  emptyQuery?: boolean;
}

interface Portal {
  statement: PreparedStatement;
  sql: string;
  resultFormats: number[];
  result?: StatementResult;
  finished?: boolean;
}

const FLUSH_BYTES = 256 * 1024;
/** Value kinds whose text form is not the value's own string (see scalarText). */
const TEXT_CONVERTED: ReadonlySet<string> = new Set(['bool', 'bytea', 'timestamp', 'timestamptz', 'timetz', 'json', 'jsonb']);

/**
 * Whether a value announced as `t` is sent as PostgreSQL's own text of it: scalars printed as their
 * string or number, and booleans (`t`/`f`). A source's DataRow texts of such columns pass unchanged.
 */
function passesAsText(t: PgType): boolean {
  return !t.element && (!TEXT_CONVERTED.has(t.kind) || t.kind === 'bool');
}
const AUTH_TIMEOUT_MS = 60_000;
const MAX_PENDING_INPUT = 1024 * 1024;
const ROW_RETURNING = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE', 'FROM']);

function commandTag(sql: string, affected: number | undefined): string {
  const words = leadingWords(sql, 6);
  const w0 = words[0] ?? '';
  const n = affected ?? 0;
  switch (w0) {
    case 'INSERT':
      return `INSERT 0 ${n}`;
    case 'UPDATE':
    case 'DELETE':
    case 'MERGE':
    case 'COPY':
      return `${w0} ${n}`;
    case 'SELECT':
    case 'WITH':
    case 'VALUES':
    case 'TABLE':
    case 'FROM':
      return 'SELECT 0';
    case 'CREATE':
    case 'DROP':
    case 'ALTER': {
      const rest = words
        .slice(1)
        .filter((w) => !['OR', 'REPLACE', 'TEMP', 'TEMPORARY', 'UNIQUE', 'UNLOGGED', 'GLOBAL', 'LOCAL', 'IF', 'NOT', 'EXISTS'].includes(w));
      const obj = rest[0] === 'MATERIALIZED' ? `MATERIALIZED ${rest[1] ?? 'VIEW'}` : (rest[0] ?? '');
      return `${w0} ${obj}`.trim();
    }
    case 'TRUNCATE':
      return 'TRUNCATE TABLE';
    default:
      return w0 || 'OK';
  }
}

function dialectOf(target: Target): SqlDialect {
  return target.type === 'mysql' || target.type === 'mariadb' ? 'mysql' : 'postgres';
}

/**
 * One client connection speaking protocol 3.0: startup and TLS, authentication, then the simple and
 * extended query protocols, each statement a Sluice job on the connection's target.
 *
 * Messages are handled strictly one at a time in arrival order. While a statement runs, further
 * input is buffered up to a bound, then the socket is paused (TCP backpressure). Output is written in
 * batches; while the client does not read, streaming waits for the socket to drain.
 */
export class PgConnection implements RelayHost {
  private socket: Socket;
  private readonly framer: MessageFramer;
  private readonly w = new ByteWriter();
  private phase: 'startup' | 'auth' | 'ready' | 'closed' = 'startup';
  private tls = false;
  private queue: FrontendMessage[] = [];
  private pumping = false;
  private auth: Authenticator | undefined;
  private authTimer: NodeJS.Timeout | undefined;
  private startupParams = new Map<string, string>();
  private user = '';
  private database = '';
  private principal: Principal | undefined;
  private target: Target | undefined;
  private readonly settings = new Map<string, string>();
  private readonly statements = new Map<string, PreparedStatement>();
  private readonly portals = new Map<string, Portal>();
  private tx: 'I' | 'T' | 'E' = 'I';
  private skipToSync = false;
  private key: { pid: number; secret: number } | undefined;
  private running: { jobId?: string; cancelled: boolean; abort?: () => void } | undefined;
  private drainWaiters: (() => void)[] = [];
  /** The connection's own session on a PostgreSQL data source, relayed (ADR 17). */
  private relay: Relay | undefined;
  /** Aborts a relay being opened when the connection goes. */
  private relayOpening: AbortController | undefined;
  /** The target cannot be relayed (not PostgreSQL): statements run one by one. */
  private relayRefused = false;
  /** The relay's server is not reading: the client is not read either. */
  private relayPaused = false;
  /** The data source the relay serves. */
  private relayTarget = '';
  /** Identifies the connection in job labels and logs. */
  readonly id: string;

  constructor(
    socket: Socket,
    private readonly ctx: ConnectionContext,
    id: number,
  ) {
    this.socket = socket;
    this.id = `pg-${id}`;
    this.framer = new MessageFramer(ctx.deps.maxMessageBytes ?? 16 * 1024 * 1024);
    this.attach(socket);
    this.authTimer = setTimeout(() => this.close(), AUTH_TIMEOUT_MS);
    this.authTimer.unref();
  }

  private attach(s: Socket): void {
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('drain', () => {
      this.wakeDrain();
      this.relay?.clientDrained();
    });
    s.on('close', () => this.onClosed());
    s.on('error', () => this.close());
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    this.framer.push(chunk);
    try {
      for (let m = this.framer.next(); m; m = this.framer.next()) this.queue.push(m);
    } catch (err) {
      this.queue = [];
      this.protocolFailure(err as Error);
      return;
    }
    if (this.framer.buffered + this.queueBytes() > MAX_PENDING_INPUT) this.socket.pause();
    void this.pump();
  }

  private queueBytes(): number {
    let n = 0;
    for (const m of this.queue) n += m.body.length;
    return n;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && this.phase !== 'closed') {
        const m = this.queue.shift() as FrontendMessage;
        try {
          await this.handle(m, this.queue.length > 0);
        } catch (err) {
          if (err instanceof ProtocolViolation) {
            this.protocolFailure(err);
            return;
          }
          await this.reportError(err);
        }
        if (!this.relayPaused && (this.queue.length === 0 || this.queueBytes() < MAX_PENDING_INPUT / 2)) this.socket.resume();
      }
    } finally {
      this.pumping = false;
    }
  }

  /** A broken stream cannot be resynchronised: say why (08P01) and close. */
  private protocolFailure(err: Error): void {
    if (this.phase === 'closed') return;
    const code = err instanceof MessageTooLarge ? '54000' : '08P01';
    this.ctx.deps.log.warn({ conn: this.id, err: err.message }, 'pgwire protocol violation');
    out.errorResponse(this.w, { severity: 'FATAL', code, message: err.message });
    this.endWith();
  }

  private endWith(): void {
    const bytes = this.w.take();
    this.phase = 'closed';
    this.socket.end(bytes);
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Closes the connection and cancels what it runs. */
  close(): void {
    if (this.phase === 'closed') {
      this.socket.destroy();
      return;
    }
    this.phase = 'closed';
    this.socket.destroy();
    this.onClosed();
  }

  private onClosed(): void {
    this.phase = 'closed';
    clearTimeout(this.authTimer);
    if (this.key) this.ctx.keys.unregister(this.key.pid);
    for (const p of this.portals.values()) p.result?.source?.close();
    this.portals.clear();
    this.wakeDrain();
    this.relayOpening?.abort();
    void this.cancelRunning().finally(() => this.relay?.close());
    this.ctx.onClose(this);
  }

  private wakeDrain(): void {
    for (const w of this.drainWaiters.splice(0)) w();
  }

  /** Writes the pending output; waits while the socket's buffer is full (the client reads slowly). */
  private async flush(): Promise<void> {
    if (this.w.length === 0 || this.phase === 'closed') return;
    const ok = this.socket.write(this.w.take());
    if (!ok && !this.socket.destroyed) await new Promise<void>((r) => this.drainWaiters.push(r));
  }

  // ---------------------------------------------------------------- startup and authentication

  private async handle(m: FrontendMessage, more = false): Promise<void> {
    if (this.phase === 'startup') return this.onStartup(parseStartupPacket(m.body));
    if (this.phase === 'auth') return this.onAuthMessage(m);
    if (m.type !== 'X' && this.relayWanted() && (await this.relayMessage(m, more))) return;
    return this.onMessage(m);
  }

  // ---------------------------------------------------------------- the relay (ADR 17)

  private relayWanted(): boolean {
    const t = this.target;
    return (
      this.relay !== undefined ||
      (!this.relayRefused &&
        this.ctx.deps.relay !== false &&
        this.ctx.deps.interactive?.relay !== undefined &&
        t?.kind === 'datasource' &&
        (t.type === 'postgresql' || t.type === 'postgres'))
    );
  }

  /** Hands a message to the relay, opening it first. False: the ordinary handlers take it. */
  private async relayMessage(m: FrontendMessage, more: boolean): Promise<boolean> {
    if (!this.relay) {
      // Nothing to relay yet: a Sync or Flush is answered here, and so is what follows a failed open.
      if (m.type === 'S' || m.type === 'H' || this.skipToSync) return false;
      try {
        this.relay = await this.openRelay();
      } catch (err) {
        await this.reportError(err);
        if (m.type === 'Q') {
          out.readyForQuery(this.w, this.tx);
          await this.flush();
        } else this.skipToSync = true;
        return true;
      }
      // The client may have gone while the relay was opened (TypeScript narrowed `phase` before the await).
      if ((this.phase as string) === 'closed') return true;
      if (!this.relay) {
        this.relayRefused = true;
        return false;
      }
      this.relayTarget = this.target?.name ?? '';
    }
    await this.relay.fromClient(m, more);
    return true;
  }

  private async openRelay(): Promise<Relay | undefined> {
    const controller = new AbortController();
    this.relayOpening = controller;
    try {
      const session = await this.ctx.deps.interactive?.relay?.(this.principal as Principal, this.submission(), controller.signal);
      if (!session) return undefined;
      const relay = new Relay(session, this);
      if (this.phase === 'closed') {
        await relay.close();
        return undefined;
      }
      // The session answers as the client was told at start-up.
      const settings: [string, string][] = [
        ['DateStyle', this.settings.get('datestyle') ?? 'ISO, MDY'],
        ['IntervalStyle', this.settings.get('intervalstyle') ?? 'postgres'],
        ['TimeZone', this.settings.get('timezone') ?? 'UTC'],
        ['extra_float_digits', this.settings.get('extra_float_digits') ?? '1'],
      ];
      const app = this.settings.get('application_name');
      if (app) settings.push(['application_name', app]);
      const path = this.startupParams.get('search_path');
      if (path) settings.push(['search_path', path]);
      try {
        await relay.setUp(settings);
      } catch (err) {
        await relay.close();
        throw pgError('08006', (err as Error).message);
      }
      // The client may have gone while the session was set up: nothing else would close it.
      if ((this.phase as string) === 'closed') {
        await relay.close();
        return undefined;
      }
      return relay;
    } finally {
      this.relayOpening = undefined;
    }
  }

  /** Ends the relay (the target changed): the session's engine is stopped. */
  private async leaveRelay(): Promise<void> {
    const relay = this.relay;
    this.relay = undefined;
    this.relayRefused = false;
    this.relayPaused = false;
    await relay?.close();
  }

  send(bytes: Buffer): boolean {
    if (this.phase === 'closed') return true;
    if (this.w.length > 0) this.socket.write(this.w.take());
    return this.socket.write(bytes);
  }

  pauseClient(): void {
    this.relayPaused = true;
    this.socket.pause();
  }

  resumeClient(): void {
    if (!this.relayPaused) return;
    this.relayPaused = false;
    this.socket.resume();
  }

  async answerLocally(m: FrontendMessage, tx: string): Promise<void> {
    this.tx = tx as 'I' | 'T' | 'E';
    await this.onMessage(m);
    await this.flush();
    if (this.relay && !(this.target?.kind === 'datasource' && this.target.name === this.relayTarget)) await this.leaveRelay();
  }

  isLocal(kind: 'S' | 'P', name: string): boolean {
    return kind === 'S' ? this.statements.has(name) : this.portals.has(name);
  }

  localSkipping(): boolean {
    return this.skipToSync;
  }

  localSync(): void {
    this.skipToSync = false;
    this.endImplicitTransaction();
  }

  async refuse(err: unknown, query: boolean, tx: string): Promise<void> {
    this.tx = tx as 'I' | 'T' | 'E';
    await this.reportError(err);
    if (query) {
      out.readyForQuery(this.w, this.tx);
      await this.flush();
    }
  }

  lost(reason: string): void {
    if (this.phase === 'closed') return;
    this.ctx.deps.log.warn({ conn: this.id, reason }, 'pgwire relay: the data source connection was lost');
    out.errorResponse(this.w, { severity: 'FATAL', code: '08006', message: `the connection to the data source was lost: ${reason}` });
    this.endWith();
    void this.leaveRelay();
  }

  private async onStartup(p: StartupPacket): Promise<void> {
    switch (p.kind) {
      case 'ssl':
        return this.onSslRequest();
      case 'gssenc':
        this.socket.write(Buffer.from('N'));
        return;
      case 'cancel': {
        // A cancel connection carries nothing else; it is closed without an answer, as PostgreSQL does.
        const target = this.ctx.keys.find(p.pid, p.secret);
        this.phase = 'closed';
        this.socket.end();
        if (target) await target.cancelRunning().catch(() => {});
        else this.ctx.cancelElsewhere?.(p.pid, p.secret);
        return;
      }
      case 'startup':
        break;
    }
    this.framer.startup = false;
    this.startupParams = p.params;
    const user = p.params.get('user');
    if (!user) throw pgError('28000', 'no PostgreSQL user name specified in startup packet', {}, true);
    this.user = user;
    this.database = p.params.get('database') || user;
    const unknownOptions = [...p.params.keys()].filter((k) => k.startsWith('_pq_.'));
    if (p.minor > 0 || unknownOptions.length > 0) out.negotiateProtocolVersion(this.w, 0, unknownOptions);
    this.phase = 'auth';
    this.auth = new Authenticator(user, this.tls, this.ctx.deps.tokens, this.ctx.deps.scram);
    const req: AuthRequest = await this.auth.begin();
    if (req.kind === 'sasl') out.authenticationSasl(this.w, req.mechanisms);
    else out.authenticationCleartext(this.w);
    await this.flush();
  }

  private async onSslRequest(): Promise<void> {
    if (!this.ctx.secureContext || this.tls) {
      this.socket.write(Buffer.from('N'));
      return;
    }
    // Bytes sent after the SSLRequest and before the handshake would be unencrypted: refuse them.
    if (this.framer.buffered > 0 || this.queue.length > 0) throw new ProtocolViolation('received unencrypted data after SSL request');
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('drain');
    raw.removeAllListeners('close');
    raw.removeAllListeners('error');
    raw.write(Buffer.from('S'));
    const secure = new TLSSocket(raw, { isServer: true, secureContext: this.ctx.secureContext });
    this.socket = secure;
    this.tls = true;
    this.attach(secure);
  }

  private async onAuthMessage(m: FrontendMessage): Promise<void> {
    if (m.type === 'X') return this.close();
    if (m.type !== 'p' || !this.auth) throw new ProtocolViolation(`expected a password message, got ${JSON.stringify(m.type)}`);
    const step = await this.auth.onMessage(m.body);
    if (step.kind === 'sasl-continue') {
      out.authenticationSaslData(this.w, 11, step.data);
      await this.flush();
      return;
    }
    if (step.kind === 'failed') {
      this.ctx.deps.log.info({ conn: this.id, user: this.user, reason: step.reason }, 'pgwire authentication failed');
      const code = step.protocolError ? '08P01' : '28P01';
      const message = step.protocolError ? step.reason : `password authentication failed for user "${this.user}"`;
      out.errorResponse(this.w, { severity: 'FATAL', code, message, hint: step.protocolError ? undefined : AUTH_HINT });
      this.endWith();
      return;
    }
    if (step.saslFinal) out.authenticationSaslData(this.w, 12, step.saslFinal);
    this.principal = step.principal;
    clearTimeout(this.authTimer);
    try {
      this.target = await this.resolveTarget(this.database);
    } catch (err) {
      const e = err instanceof PgError ? err : this.toPgError(err);
      out.errorResponse(this.w, { ...e.fields, severity: 'FATAL' });
      this.endWith();
      return;
    }
    this.ready();
  }

  private ready(): void {
    out.authenticationOk(this.w);
    for (const [k, v] of Object.entries(LOCAL_SETTINGS)) this.settings.set(k, v);
    this.settings.set('session_authorization', this.user);
    this.settings.set('sluice.datasource', this.target?.kind === 'datasource' ? this.target.name : '');
    this.settings.set('sluice.engine', this.target?.engine ?? '');
    const app = this.startupParams.get('application_name');
    if (app !== undefined) this.settings.set('application_name', app);
    for (const [k, v] of this.startupParams) {
      const name = k.toLowerCase();
      if (name === 'timezone' || name === 'extra_float_digits' || name === 'search_path') this.settings.set(name, v);
    }
    for (const [k, reported] of Object.entries(REPORTED_SETTINGS)) out.parameterStatus(this.w, reported, this.settings.get(k) ?? '');
    out.parameterStatus(this.w, 'session_authorization', this.user);
    this.key = this.ctx.keys.register(this);
    out.backendKeyData(this.w, this.key.pid, this.key.secret);
    this.phase = 'ready';
    this.ctx.deps.log.info({ conn: this.id, user: this.user, database: this.database, tls: this.tls }, 'pgwire connection ready');
    out.readyForQuery(this.w, this.tx);
    void this.flush();
  }

  /** The database name picks the target: a data source the user may use, or an engine. */
  private async resolveTarget(name: string): Promise<Target> {
    const principal = this.principal as Principal;
    try {
      const use = await this.ctx.deps.dataSources.checkUse(principal, name);
      return { kind: 'datasource', name, engine: use.engine, type: use.type };
    } catch (err) {
      const e = toSluiceError(err);
      if (e.code !== 'SLUICE_DATASOURCE_NOT_FOUND') {
        if (e.code === 'SLUICE_AUTH_FORBIDDEN') throw pgError('42501', `permission denied for database "${name}"`, { detail: e.message });
        throw new PgError(errorFieldsOf(e.toBody()));
      }
    }
    const engines = this.ctx.deps.engines ?? ['duckdb'];
    const engineName = name.split('-')[0]?.toLowerCase() ?? '';
    if (engines.includes(engineName)) return { kind: 'engine', name, engine: engineName };
    const fallback = this.ctx.deps.defaultEngine ?? 'duckdb';
    if (name === 'sluice' || name === 'postgres' || name === this.user) return { kind: 'engine', name: fallback, engine: fallback };
    throw pgError('3D000', `database "${name}" does not exist`, {
      hint: `A database is a data source you may use, or an engine: ${engines.join(', ')}.`,
    });
  }

  // ---------------------------------------------------------------- the query protocols

  private async onMessage(m: FrontendMessage): Promise<void> {
    if (m.type === 'X') return this.close();
    if (m.type === 'S') {
      this.skipToSync = false;
      this.endImplicitTransaction();
      out.readyForQuery(this.w, this.tx);
      return this.flush();
    }
    if (m.type === 'H') return this.flush();
    if (m.type === 'Q') return this.simpleQuery(parseQuery(m.body));
    if (this.skipToSync && 'PBDEC'.includes(m.type)) return;
    try {
      switch (m.type) {
        case 'P':
          return this.onParse(m.body);
        case 'B':
          return this.onBind(m.body);
        case 'D':
          return await this.onDescribe(m.body);
        case 'E':
          return await this.onExecute(m.body);
        case 'C':
          return this.onClose(m.body);
        case 'd':
        case 'c':
        case 'f':
          throw pgError('08P01', 'COPY is not supported');
        case 'p':
          throw new ProtocolViolation('unexpected password message');
        default:
          throw new ProtocolViolation(`invalid frontend message type ${m.type.charCodeAt(0)}`);
      }
    } catch (err) {
      if (err instanceof ProtocolViolation) throw err;
      await this.reportError(err);
      this.skipToSync = true;
    }
  }

  /** At Sync outside a transaction block, portals end (as PostgreSQL's implicit transaction does). */
  private endImplicitTransaction(): void {
    if (this.tx !== 'I') return;
    for (const p of this.portals.values()) p.result?.source?.close();
    this.portals.clear();
  }

  private toPgError(err: unknown): PgError {
    if (err instanceof PgError) return err;
    if (err instanceof JobFailure) return new PgError(errorFieldsOf(err.error, err.jobId));
    if (err instanceof ParameterError || err instanceof RelayRefusal) return pgError(err.sqlState, err.message);
    if (err instanceof SluiceError) return new PgError(errorFieldsOf(err.toBody()));
    this.ctx.deps.log.error({ conn: this.id, err: (err as Error)?.stack ?? String(err) }, 'pgwire statement failed');
    return pgError('XX000', (err as Error)?.message ?? String(err));
  }

  private async reportError(err: unknown): Promise<void> {
    const e = this.toPgError(err);
    out.errorResponse(this.w, e.fields);
    if (this.tx === 'T') this.tx = 'E';
    if (e.fatal) {
      this.endWith();
      return;
    }
    await this.flush();
  }

  private async simpleQuery(sql: string): Promise<void> {
    this.portals.delete('');
    this.statements.delete('');
    const statements = splitStatements(sql, dialectOf(this.target as Target));
    if (statements.length === 0) out.emptyQueryResponse(this.w);
    for (const stmt of statements) {
      try {
        if (this.tx === 'E' && !/^(ROLLBACK|ABORT|COMMIT|END)$/.test(leadingWords(stmt, 1)[0] ?? '')) {
          throw pgError('25P02', 'current transaction is aborted, commands ignored until end of transaction block');
        }
        const result = await this.runStatement(stmt);
        try {
          if (result.source) out.rowDescription(this.w, this.fields(result, []));
          await this.streamRows(result, [], 0);
        } finally {
          // Always: a statement left unread (an error, a cancel mid-stream) would keep its engine.
          result.source?.close();
        }
      } catch (err) {
        await this.reportError(err);
        break;
      }
    }
    out.readyForQuery(this.w, this.tx);
    await this.flush();
  }

  private onParse(body: Buffer): void {
    const p = parseParse(body);
    if (p.name !== '' && this.statements.has(p.name)) throw pgError('42P05', `prepared statement "${p.name}" already exists`);
    const count = Math.max(p.paramTypes.length, maxPlaceholder(p.query));
    const paramTypes = Array.from({ length: count }, (_, i) => p.paramTypes[i] ?? 0);
    if (count > 65_535) throw pgError('54000', 'too many parameters');
    this.statements.set(p.name, { sql: p.query, paramTypes });
    out.parseComplete(this.w);
  }

  private onBind(body: Buffer): void {
    const b = parseBind(body);
    const st = this.statements.get(b.statement);
    if (!st) throw pgError('26000', `prepared statement "${b.statement}" does not exist`);
    if (b.values.length !== st.paramTypes.length) {
      throw pgError('08P01', `bind message supplies ${b.values.length} parameters, but prepared statement "${b.statement}" requires ${st.paramTypes.length}`);
    }
    if (b.portal !== '' && this.portals.has(b.portal)) throw pgError('42P03', `cursor "${b.portal}" already exists`);
    if (b.paramFormats.length > 1 && b.paramFormats.length !== b.values.length) throw pgError('08P01', 'bind message has a wrong number of parameter formats');
    const target = this.target as Target;
    const literals = b.values.map((raw, i) =>
      parameterLiteral(
        st.paramTypes[i] ?? 0,
        b.paramFormats.length === 1 ? (b.paramFormats[0] as number) : (b.paramFormats[i] ?? 0),
        raw,
        dialectOf(target),
        target.engine,
      ),
    );
    const sql = literals.length ? substitutePlaceholders(st.sql, literals) : st.sql;
    this.portals.get(b.portal)?.result?.source?.close();
    this.portals.set(b.portal, { statement: st, sql, resultFormats: b.resultFormats });
    out.bindComplete(this.w);
  }

  private onClose(body: Buffer): void {
    const t = parseTarget(body);
    if (t.kind === 'S') this.statements.delete(t.name);
    else {
      this.portals.get(t.name)?.result?.source?.close();
      this.portals.delete(t.name);
    }
    out.closeComplete(this.w);
  }

  private async onDescribe(body: Buffer): Promise<void> {
    const t = parseTarget(body);
    if (t.kind === 'P') {
      const portal = this.portals.get(t.name);
      if (!portal) throw pgError('34000', `portal "${t.name}" does not exist`);
      const result = await this.portalResult(portal);
      if (result.source) out.rowDescription(this.w, this.fields(result, portal.resultFormats));
      else out.noData(this.w);
      return;
    }
    const st = this.statements.get(t.name);
    if (!st) throw pgError('26000', `prepared statement "${t.name}" does not exist`);
    out.parameterDescription(
      this.w,
      st.paramTypes.map((o) => o || 25),
    );
    const columns = await this.describeStatement(st);
    if (columns) {
      const types = columns.map((c) => pgTypeOf(c.type));
      out.rowDescription(this.w, this.fields({ source: new ArrayRowSource(columns, []), types, tag: () => '' }, []));
    } else out.noData(this.w);
  }

  /**
   * The columns of a prepared statement before it is bound. Statements answered locally are
   * evaluated (they have no side effects); a query is described by a job that runs it with NULL
   * parameters under `LIMIT 0`; anything else has no columns.
   */
  private async describeStatement(st: PreparedStatement): Promise<Column[] | null> {
    if (st.described !== undefined) return st.described;
    const sql = st.paramTypes.length
      ? substitutePlaceholders(
          st.sql,
          st.paramTypes.map(() => 'NULL'),
        )
      : st.sql;
    const local = parseSessionCommand(sql);
    const word = leadingWords(sql, 1)[0] ?? '';
    let columns: Column[] | null = null;
    if (local) columns = local.kind === 'show' ? [{ name: local.name, type: 'TEXT' }] : null;
    else {
      const answered = localSelect(sql, this.facts());
      if (answered) columns = answered.columns;
      else if (ROW_RETURNING.has(word)) {
        const probe = await this.runJob(`SELECT * FROM (${sql.replace(/;\s*$/, '')}) AS sluice_describe LIMIT 0`);
        columns = probe.source?.columns ?? null;
        probe.source?.close();
      }
    }
    st.described = columns;
    return columns;
  }

  private async onExecute(body: Buffer): Promise<void> {
    const e = parseExecute(body);
    const portal = this.portals.get(e.portal);
    if (!portal) throw pgError('34000', `portal "${e.portal}" does not exist`);
    if (portal.finished) {
      out.commandComplete(this.w, portal.result?.tag(0) ?? 'SELECT 0');
      return;
    }
    if (this.tx === 'E' && !/^(ROLLBACK|ABORT|COMMIT|END)$/.test(leadingWords(portal.sql, 1)[0] ?? '')) {
      throw pgError('25P02', 'current transaction is aborted, commands ignored until end of transaction block');
    }
    const result = await this.portalResult(portal);
    let finished: boolean;
    try {
      finished = await this.streamRows(result, portal.resultFormats, Math.max(e.maxRows, 0));
    } catch (err) {
      // The portal cannot go on: release what it holds (a running statement keeps its engine).
      portal.finished = true;
      result.source?.close();
      throw err;
    }
    if (finished) {
      portal.finished = true;
      result.source?.close();
    }
  }

  private async portalResult(portal: Portal): Promise<StatementResult> {
    portal.result ??= await this.runStatement(
      portal.sql,
      portal.resultFormats.every((f) => f === 0),
    );
    return portal.result;
  }

  private fields(result: StatementResult, formats: readonly number[]): out.FieldDescription[] {
    const columns = result.source?.columns ?? [];
    return columns.map((c, i) => {
      const t = result.types[i] as PgType;
      const format = (formats.length === 1 ? formats[0] : (formats[i] ?? 0)) as 0 | 1;
      return { name: c.name, typeOid: t.oid, typeSize: t.size, typeModifier: t.modifier, format };
    });
  }

  /**
   * Streams rows of a result as DataRow messages, at most `maxRows` (0: all). Returns true when the
   * result is complete (CommandComplete sent), false when the portal is suspended.
   */
  private async streamRows(result: StatementResult, formats: readonly number[], maxRows: number): Promise<boolean> {
    if (result.emptyQuery) {
      out.emptyQueryResponse(this.w);
      return true;
    }
    const source = result.source;
    if (!source) {
      out.commandComplete(this.w, result.tag(0));
      return true;
    }
    const pageRows = this.ctx.deps.pageRows ?? 16384;
    const n = source.columns.length;
    const binary = source.columns.map((_, i) => (formats.length === 1 ? formats[0] : formats[i]) === 1);
    const types = result.types;
    const plain = types.map((t) => !t.element && !TEXT_CONVERTED.has(t.kind));
    let sent = 0;
    while (maxRows === 0 || sent < maxRows) {
      if (this.running?.cancelled) throw new JobFailure({ code: 'SLUICE_JOB_CANCELLED', message: 'The job was cancelled' }, this.running.jobId ?? '');
      if (this.phase === 'closed') return true;
      const page = await source.next(maxRows === 0 ? pageRows : Math.min(pageRows, maxRows - sent));
      if (!Array.isArray(page)) {
        // DataRow messages as the engine's PostgreSQL sent them: copied, not re-encoded.
        if (page.rows === 0) break;
        for (const chunk of page.chunks) {
          this.w.bytes(chunk);
          if (this.w.length >= FLUSH_BYTES) await this.flush();
        }
        sent += page.rows;
        continue;
      }
      const rows: Row[] = page;
      if (rows.length === 0) break;
      const w = this.w;
      for (const row of rows) {
        const at = w.begin('D');
        w.int16(n);
        for (let i = 0; i < n; i++) {
          const v = row[i];
          if (v === null || v === undefined) w.int32(-1);
          else if (binary[i]) writeBinaryValue(w, types[i] as PgType, v);
          // Most values are strings already in PostgreSQL's text form (text, numeric, bigint…).
          else if (plain[i] && typeof v === 'string') w.lengthPrefixed(v);
          else w.lengthPrefixed(valueText(types[i] as PgType, v));
        }
        w.end(at);
        if (w.length >= FLUSH_BYTES) await this.flush();
      }
      sent += rows.length;
    }
    if (maxRows > 0 && sent >= maxRows && !source.done) {
      out.portalSuspended(this.w);
      return false;
    }
    out.commandComplete(this.w, result.tag(sent));
    return true;
  }

  // ---------------------------------------------------------------- statements

  private facts() {
    const target = this.target as Target;
    const settings = this.settings;
    return {
      user: this.user,
      database: this.database,
      schema: target.engine === 'duckdb' ? 'main' : target.type === 'mysql' || target.type === 'mariadb' ? this.database : 'public',
      pid: this.key?.pid ?? 0,
      version: `PostgreSQL ${LOCAL_SETTINGS.server_version} on Sluice pgwire ${this.ctx.deps.version ?? ''}`.trim(),
      setting: (name: string) => settings.get(name),
    };
  }

  private local(columns: Column[], rows: Row[], tag: (n: number) => string = (n) => `SELECT ${n}`): StatementResult {
    return { source: new ArrayRowSource(columns, rows), types: columns.map((c) => pgTypeOf(c.type)), tag };
  }

  private noRows(tag: string): StatementResult {
    return { source: null, types: [], tag: () => tag };
  }

  /** Runs one statement: answered here when it is session state or a catalog query, else as a job. */
  private async runStatement(sql: string, textResults = true): Promise<StatementResult> {
    this.running = undefined;
    if (splitStatements(sql, 'postgres').length === 0 && !/['"`]/.test(sql)) return { ...this.noRows(''), emptyQuery: true };
    const cmd = parseSessionCommand(sql);
    if (cmd) return this.runSessionCommand(cmd);
    const facts = this.facts();
    const local = localSelect(sql, facts);
    if (local) return this.local(local.columns, local.rows);
    if (alsoPassedThrough(sql)) {
      const m = /^\s*SET\s+(?:SESSION\s+|LOCAL\s+)?("?)([A-Za-z_][\w.]*)\1\s*(?:=|\bTO\b)\s*(.+?)\s*;?\s*$/is.exec(sql);
      if (m) this.settings.set((m[2] as string).toLowerCase(), (m[3] as string).replace(/^'(.*)'$/s, '$1'));
    }
    return this.runJob(sql, textResults);
  }

  private async runSessionCommand(cmd: SessionCommand): Promise<StatementResult> {
    switch (cmd.kind) {
      case 'begin':
        if (this.tx === 'I') this.tx = 'T';
        return this.noRows('BEGIN');
      case 'commit': {
        const tag = this.tx === 'E' ? 'ROLLBACK' : 'COMMIT';
        this.tx = 'I';
        return this.noRows(tag);
      }
      case 'rollback':
        this.tx = 'I';
        return this.noRows('ROLLBACK');
      case 'noop':
        return this.noRows(cmd.tag);
      case 'discard':
        this.statements.clear();
        this.portals.clear();
        return this.noRows('DISCARD ALL');
      case 'deallocate':
        if (cmd.name === null) this.statements.clear();
        else if (!this.statements.delete(cmd.name)) throw pgError('26000', `prepared statement "${cmd.name}" does not exist`);
        return this.noRows(cmd.name === null ? 'DEALLOCATE ALL' : 'DEALLOCATE');
      case 'reset-all':
        for (const k of Object.keys(REPORTED_SETTINGS)) await this.setSetting(k, null);
        return this.noRows('RESET');
      case 'set':
        await this.setSetting(cmd.name, cmd.value);
        return this.noRows('SET');
      case 'show': {
        if (cmd.name === 'all') {
          const rows = [...this.settings.entries()].sort().map(([k, v]) => [k, v, '']);
          return this.local(
            [
              { name: 'name', type: 'TEXT' },
              { name: 'setting', type: 'TEXT' },
              { name: 'description', type: 'TEXT' },
            ],
            rows,
            () => 'SHOW',
          );
        }
        const display = Object.entries(REPORTED_SETTINGS).find(([k]) => k === cmd.name)?.[1] ?? cmd.name;
        return this.local(
          [{ name: display.toLowerCase() === cmd.name ? display : cmd.name, type: 'TEXT' }],
          [[this.settings.get(cmd.name) ?? '']],
          () => 'SHOW',
        );
      }
    }
  }

  private async setSetting(name: string, value: string | null): Promise<void> {
    if (name === 'sluice.datasource' || name === 'sluice.engine') {
      if (this.relay && this.tx !== 'I') throw pgError('25001', `${name} cannot change inside a transaction block`);
      if (value === null || value === '') {
        this.target = await this.resolveTarget(this.database);
      } else if (name === 'sluice.datasource') {
        const use = await this.ctx.deps.dataSources.checkUse(this.principal as Principal, value).catch((err) => {
          const e = toSluiceError(err);
          if (e.code === 'SLUICE_DATASOURCE_NOT_FOUND') throw pgError('42704', `data source "${value}" does not exist`);
          throw err;
        });
        this.target = { kind: 'datasource', name: value, engine: use.engine, type: use.type };
      } else {
        const engines = this.ctx.deps.engines ?? ['duckdb'];
        const engine = value.split('-')[0]?.toLowerCase() ?? '';
        if (!engines.includes(engine)) throw pgError('22023', `unknown engine "${value}"`, { hint: `Engines: ${engines.join(', ')}` });
        this.target = { kind: 'engine', name: value, engine };
      }
      const t = this.target as Target;
      this.settings.set('sluice.datasource', t.kind === 'datasource' ? t.name : '');
      this.settings.set('sluice.engine', t.engine);
      return;
    }
    const v = value ?? LOCAL_SETTINGS[name] ?? '';
    if (name === 'datestyle' && !/\bISO\b/i.test(v)) throw pgError('22023', 'Sluice sends dates in ISO format only: DateStyle must include ISO');
    if (name === 'client_encoding' && !/^(UTF-?8|UNICODE)$/i.test(v)) throw pgError('22023', 'Sluice sends UTF8 only: client_encoding must be UTF8');
    this.settings.set(name, name === 'client_encoding' ? 'UTF8' : v);
    const reported = REPORTED_SETTINGS[name];
    if (reported) out.parameterStatus(this.w, reported, this.settings.get(name) ?? '');
  }

  /** A statement's submission on the connection's target, without its code. */
  private submission(): Record<string, unknown> {
    const target = this.target as Target;
    return {
      creator: 'pgwire',
      labels: {
        pgwireConnection: this.id,
        ...(this.settings.get('application_name') ? { applicationName: (this.settings.get('application_name') as string).slice(0, 200) } : {}),
      },
      ...(target.kind === 'datasource' ? { dataSource: target.name } : { engineType: target.name }),
    };
  }

  /** Submits `sql` as a job on the connection's target and waits until it is final. */
  private async runJob(sql: string, textResults = true): Promise<StatementResult> {
    const principal = this.principal as Principal;
    const running: { jobId?: string; cancelled: boolean; abort?: () => void } = { cancelled: false };
    this.running = running;
    const body: Record<string, unknown> = { code: sql, ...this.submission() };
    const interactive = this.ctx.deps.interactive;
    if (interactive) return this.runLive(interactive, principal, body, sql, running, textResults);
    const { job } = await this.ctx.deps.entrance.submit(principal, body);
    running.jobId = job.id;
    if (running.cancelled) await this.ctx.deps.entrance.cancel(principal, job.id).catch(() => {});
    const final: JobView = await this.ctx.waiter.wait(principal, job.id);
    if (final.state !== 'Succeed') {
      const error =
        final.error ??
        (final.state === 'Cancelled'
          ? { code: 'SLUICE_JOB_CANCELLED', message: 'The job was cancelled' }
          : { code: final.state === 'Timeout' ? 'SLUICE_JOB_RUN_TIMEOUT' : 'SLUICE_INTERNAL', message: `The job ended ${final.state}` });
      throw new JobFailure(error, job.id);
    }
    const sets = final.resultSets > 0 ? await this.ctx.deps.entrance.resultSets(principal, job.id) : [];
    const set = sets[0];
    if (set) {
      const source = new JobRowSource(this.ctx.deps.entrance, principal, job.id, set.index, set.columns, set.rows);
      return { source, types: set.columns.map((c) => pgTypeOf(c.type)), tag: (n) => `SELECT ${n}` };
    }
    const word = leadingWords(sql, 1)[0] ?? '';
    let affected: number | undefined;
    if (['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY'].includes(word)) {
      const log = await this.ctx.deps.entrance.log(principal, job.id, 1, 1000);
      for (const line of log.lines) {
        const m = /(\d+) rows? affected/.exec(line.text);
        if (m) affected = Number(m[1]);
      }
    }
    return this.noRows(commandTag(sql, affected));
  }

  /**
   * The fast path: the statement starts at once on the session's engine, and its rows stream to the
   * client as the engine yields them. It is still a job, recorded with its log and lineage.
   */
  private async runLive(
    interactive: InteractiveStatements,
    principal: Principal,
    body: Record<string, unknown>,
    sql: string,
    running: { jobId?: string; cancelled: boolean; abort?: () => void },
    textResults: boolean,
  ): Promise<StatementResult> {
    const controller = new AbortController();
    running.abort = () => controller.abort();
    if (running.cancelled) controller.abort();
    // Rows may come as the data source's own DataRow messages when every column goes to the client
    // in text format with a type whose text is the value's own: they are then copied, not re-encoded.
    const wireRows = textResults ? (columns: Column[]) => columns.every((c) => passesAsText(pgTypeOf(c.type))) : undefined;
    const statement = await interactive.start(principal, body, controller.signal, { wireRows });
    running.jobId = statement.jobId;
    if (statement.columns) {
      return { source: new LiveRowSource(statement), types: statement.columns.map((c) => pgTypeOf(c.type)), tag: (n) => `SELECT ${n}` };
    }
    const word = leadingWords(sql, 1)[0] ?? '';
    let affected: number | undefined;
    if (['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY'].includes(word)) {
      for (const line of statement.logLines) {
        const m = /(\d+) rows? affected/.exec(line);
        if (m) affected = Number(m[1]);
      }
    }
    return this.noRows(commandTag(sql, affected));
  }

  /** Cancels the statement this connection runs (a CancelRequest, or the client went away). */
  async cancelRunning(): Promise<void> {
    if (this.relay) return this.relay.cancel();
    const r = this.running;
    if (!r) return;
    r.cancelled = true;
    r.abort?.();
    if (r.jobId && this.principal) await this.ctx.deps.entrance.cancel(this.principal, r.jobId).catch(() => {});
  }
}
