import type { InteractiveRelay, RelayedStatement, RelayPrepared } from '@sluice/core';
import { ByteReader } from './byte-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import { parseExecute, parseParse, parseQuery, parseTarget } from './frontend-messages.ts';
import type { FrontendMessage } from './message-framer.ts';
import { parseSessionCommand } from './session-commands.ts';
import { splitStatements } from './sql-lexer.ts';

/** What a relay needs from the client connection it serves. */
export interface RelayHost {
  /** Writes the server's bytes to the client; false when the client's buffer is full. */
  send(bytes: Buffer): boolean;
  /** Stops and restarts reading the client (the server's buffer is full). */
  pauseClient(): void;
  resumeClient(): void;
  /** Answers a message with the connection's own handlers (a `SET`/`SHOW sluice.…`), with the server's transaction status. */
  answerLocally(m: FrontendMessage, tx: string): Promise<void>;
  /** Whether a statement or portal name is one the connection answers itself. */
  isLocal(kind: 'S' | 'P', name: string): boolean;
  /** True while the connection's own handlers skip messages until Sync (one of them failed). */
  localSkipping(): boolean;
  /** A Sync ends what the connection's own handlers kept for the implicit transaction. */
  localSync(): void;
  /** Reports a refused statement (ErrorResponse); for a simple query also ReadyForQuery with `tx`. */
  refuse(err: unknown, query: boolean, tx: string): Promise<void>;
  /** The server connection broke. */
  lost(reason: string): void;
}

/** A statement the relay refuses before it reaches the server, with the SQLSTATE the client gets. */
export class RelayRefusal extends Error {
  constructor(
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
  }
}

/** A statement the client prepared on the server: a job each time it runs, unless it is session state. */
interface RelayStatement {
  prepared?: RelayPrepared;
}

/** A simple query's statements, and which of them set Sluice routing or are session state. */
interface QueryShape {
  texts: string[];
  /** A `SET`/`SHOW sluice.…` among them: alone, the connection answers it; with others, it is refused. */
  sluice: boolean;
  /** Transaction control and settings: not jobs. */
  session: boolean[];
}

const MAX_SHAPES = 512;

function shapeOf(sql: string): QueryShape {
  const texts = splitStatements(sql, 'postgres');
  return { texts, sluice: texts.some(isSluiceSetting), session: texts.map((t) => parseSessionCommand(t) !== null) };
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as Promise<T>)?.then === 'function';
}

/** A request sent to the server whose answer the relay waits for, in order. */
type Op =
  | { kind: 'setup' }
  | { kind: 'describe' | 'sync' }
  /** `statement`: the job the statement would be, recorded Failed if the server refuses it here. */
  | { kind: 'parse'; statement?: RelayPrepared }
  | { kind: 'bind'; portal: string; statement?: RelayPrepared }
  | { kind: 'close-portal' | 'execute'; portal: string }
  | { kind: 'close' }
  | { kind: 'query'; statements: (RelayPrepared | undefined)[]; at: number };

/** A portal's job: begun at its first Execute, ended at its CommandComplete (or when the portal goes). */
interface PortalJob {
  statement: RelayedStatement;
  rows: number;
}

/** The fields of an ErrorResponse the relay records: SQLSTATE and message. */
function errorOf(body: Buffer): { sqlState: string; message: string } {
  let sqlState = 'XX000';
  let message = '';
  const r = new ByteReader(body);
  try {
    for (let field = r.byte(); field !== 0; field = r.byte()) {
      const value = r.cstring();
      if (field === 0x43) sqlState = value;
      else if (field === 0x4d) message = value;
    }
  } catch {
    // A malformed error from the server still ends its statement; it goes to the client as it came.
  }
  return { sqlState, message };
}

/** One protocol message of `type` whose body `write` puts in. */
function encode(type: string, write: (w: ByteWriter) => void): Buffer {
  const w = new ByteWriter(256);
  const at = w.begin(type);
  write(w);
  w.end(at);
  return w.take();
}

const queryMessage = (sql: string) => encode('Q', (w) => w.cstring(sql));

function parseMessage(name: string, query: string, paramTypes: readonly number[]): Buffer {
  return encode('P', (w) => {
    w.cstring(name).cstring(query).int16(paramTypes.length);
    // Type OIDs are unsigned: `| 0` gives the same four bytes as a signed int32.
    for (const t of paramTypes) w.int32(t | 0);
  });
}

/** A `SET`/`SHOW`/`RESET` of a Sluice routing setting: the connection answers it, not the server. */
function isSluiceSetting(sql: string): boolean {
  const cmd = parseSessionCommand(sql);
  return (cmd?.kind === 'set' || cmd?.kind === 'show') && cmd.name.startsWith('sluice.');
}

/**
 * Relays one client connection to its own PostgreSQL session byte for byte (ADR 17). The client's
 * messages are read as they come; each statement is checked and intercepted (its text is rewritten
 * only when an interceptor changed it) and recorded as a job from the moment the server starts it
 * to its CommandComplete or ErrorResponse. The server's bytes go to the client as they arrive; the
 * relay only reads message headers, and the bodies of CommandComplete, ErrorResponse and
 * ReadyForQuery, to know which statement they end.
 */
export class Relay {
  /** The server's transaction status from its last ReadyForQuery. */
  tx = 'I';
  private readonly ops: Op[] = [];
  private out: Buffer[] = [];
  /** Requests in `out`, waiting for answers once it is written. */
  private outOps: Op[] = [];
  /** How a query text splits into statements, by text: a session sends the same texts again and again. */
  private readonly shapes = new Map<string, QueryShape>();
  private readonly statements = new Map<string, RelayStatement>();
  private readonly portalStatement = new Map<string, RelayStatement>();
  private readonly portalJobs = new Map<string, PortalJob>();
  /** Skipping client messages until Sync: a statement was refused before it reached the server. */
  private skipping = false;
  private idleWaiters: (() => void)[] = [];
  private setupDone: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private setupError: string | undefined;
  /** While the relay's own set-up query runs: the server's answers are not the client's. */
  private silent = false;
  /** The server failed a request and discards everything up to the next Sync, which has not been sent yet. */
  private discarding = false;
  /** A cancel was asked for since the last ReadyForQuery. */
  private cancelled = false;
  private closed = false;
  // Scanning the server's stream: a partial header, the body bytes of a message still to skip or gather.
  private header = Buffer.alloc(5);
  private headerBytes = 0;
  private skip = 0;
  private gatherType = 0;
  private gathered: Buffer[] = [];
  private gatherLeft = 0;

  constructor(
    private readonly session: InteractiveRelay,
    private readonly host: RelayHost,
  ) {
    const wire = session.wire;
    wire.onData((chunk) => this.fromServer(chunk));
    wire.onDrain(() => host.resumeClient());
    wire.onLost((reason) => {
      this.endAll('Cancelled');
      if (!this.closed) host.lost(reason);
    });
  }

  /**
   * Makes the server's session what the client was told at start-up (ParameterStatus): one query,
   * whose answers the client does not see.
   */
  async setUp(settings: readonly [string, string][]): Promise<void> {
    if (settings.length === 0) return;
    // set_config takes a setting's text as SET would read it unquoted (a search_path list stays a list).
    const literal = (v: string) => `'${v.replace(/'/g, "''")}'`;
    const sql = `SELECT ${settings.map(([k, v]) => `pg_catalog.set_config(${literal(k)}, ${literal(v)}, false)`).join(', ')}`;
    const done = new Promise<void>((resolve, reject) => {
      this.setupDone = { resolve, reject };
    });
    this.silent = true;
    this.push({ kind: 'setup' });
    this.session.wire.write(queryMessage(sql));
    await done;
  }

  /** Ends the relay and its session; statements still open end Cancelled. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.endAll('Cancelled');
    for (const w of this.idleWaiters.splice(0)) w();
    await this.session.close();
  }

  /** Cancels what the server executes for this client now. */
  cancel(): Promise<void> {
    // The server's "canceling statement due to user request" then ends the statement Cancelled.
    if (this.ops.length > 0) this.cancelled = true;
    return this.session.wire.cancel();
  }

  /** Called when the client's socket drained: reading the server may go on. */
  clientDrained(): void {
    this.session.wire.resume();
  }

  // ---------------------------------------------------------------- client to server

  /** Handles one client message; messages are handed over strictly in order. */
  async fromClient(m: FrontendMessage, more: boolean): Promise<void> {
    if (this.skipping || this.host.localSkipping()) {
      if (m.type !== 'S') return;
      this.skipping = false;
    }
    switch (m.type) {
      case 'Q':
        await this.query(m);
        break;
      case 'P':
        await this.parse(m);
        break;
      case 'B': {
        const r = new ByteReader(m.body);
        const portal = r.cstring();
        const statement = r.cstring();
        if (this.host.isLocal('S', statement)) return this.local(m);
        const prepared = this.statements.get(statement) ?? {};
        this.portalStatement.set(portal, prepared);
        this.forward(m, { kind: 'bind', portal, statement: prepared.prepared });
        break;
      }
      case 'E': {
        const { portal } = parseExecute(m.body);
        if (this.host.isLocal('P', portal)) return this.local(m);
        this.forward(m, { kind: 'execute', portal });
        break;
      }
      case 'D': {
        const t = parseTarget(m.body);
        if (this.host.isLocal(t.kind, t.name)) return this.local(m);
        this.forward(m, { kind: 'describe' });
        break;
      }
      case 'C': {
        const t = parseTarget(m.body);
        if (this.host.isLocal(t.kind, t.name)) return this.local(m);
        if (t.kind === 'S') this.statements.delete(t.name);
        this.forward(m, t.kind === 'P' ? { kind: 'close-portal', portal: t.name } : { kind: 'close' });
        break;
      }
      case 'S':
        this.host.localSync();
        this.forward(m, { kind: 'sync' });
        break;
      case 'F':
        // A function call by OID carries no SQL text the statement policy could check, and no job.
        await this.idle();
        await this.host.refuse(new RelayRefusal('0A000', 'the function call protocol is not supported; call the function in a query'), true, this.tx);
        return;
      default:
        // Flush, COPY data and anything else: the server answers (or complains) itself.
        this.forward(m, undefined);
    }
    if (!more) this.flush();
  }

  private forward(m: FrontendMessage, op: Op | undefined, bytes?: Buffer): void {
    this.out.push(bytes ?? m.frame ?? encode(m.type, (w) => w.bytes(m.body)));
    if (op) this.outOps.push(op);
  }

  /**
   * Sends what was forwarded so far in one write, then notes the requests it carried (their jobs
   * begin): the bookkeeping comes after the bytes are on their way, and before any answer can be read.
   */
  flush(): void {
    if (this.out.length === 0 || this.closed) return;
    const bytes = this.out.length === 1 ? (this.out[0] as Buffer) : Buffer.concat(this.out);
    this.out = [];
    if (!this.session.wire.write(bytes)) this.host.pauseClient();
    const ops = this.outOps;
    this.outOps = [];
    for (const op of ops) this.push(op);
  }

  /** Waits until the server answered everything sent to it. */
  private idle(): Promise<void> {
    this.flush();
    if (this.ops.length === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async local(m: FrontendMessage): Promise<void> {
    await this.idle();
    await this.host.answerLocally(m, this.tx);
  }

  private async query(m: FrontendMessage): Promise<void> {
    const sql = parseQuery(m.body);
    let shape = this.shapes.get(sql);
    if (!shape) {
      shape = shapeOf(sql);
      if (this.shapes.size >= MAX_SHAPES) this.shapes.clear();
      this.shapes.set(sql, shape);
    }
    const texts = shape.texts;
    if (shape.sluice && texts.length === 1) return this.local(m);
    const statements: (RelayPrepared | undefined)[] = [];
    const codes: string[] = [];
    let changed = false;
    try {
      if (shape.sluice) throw new RelayRefusal('0A000', 'SET and SHOW of sluice.* settings must be sent in a query of their own');
      for (let i = 0; i < texts.length; i++) {
        const text = texts[i] as string;
        // Every statement passes the policy and the interceptors; transaction control and settings are not jobs.
        const p = this.session.prepare(text);
        const prepared = isPromise(p) ? await p : p;
        if (prepared.code !== text) changed = true;
        codes.push(prepared.code);
        statements.push(shape.session[i] ? undefined : prepared);
      }
    } catch (err) {
      await this.idle();
      await this.host.refuse(err, true, this.tx);
      return;
    }
    // A newline before each semicolon: a statement may end in a line comment.
    const bytes = changed ? queryMessage(codes.join('\n;\n')) : undefined;
    this.forward(m, { kind: 'query', statements, at: 0 }, bytes);
  }

  private async parse(m: FrontendMessage): Promise<void> {
    const p = parseParse(m.body);
    if (isSluiceSetting(p.query)) return this.local(m);
    let prepared: RelayPrepared | undefined;
    if (splitStatements(p.query, 'postgres').length > 0) {
      try {
        const pending = this.session.prepare(p.query);
        prepared = isPromise(pending) ? await pending : pending;
      } catch (err) {
        await this.idle();
        await this.host.refuse(err, false, this.tx);
        this.skipping = true;
        return;
      }
    }
    // Transaction control and settings are checked like any statement, but are not jobs.
    const statement = prepared && parseSessionCommand(p.query) ? undefined : prepared;
    this.statements.set(p.name, { prepared: statement });
    const bytes = prepared && prepared.code !== p.query ? parseMessage(p.name, prepared.code, p.paramTypes) : undefined;
    this.forward(m, { kind: 'parse', statement }, bytes);
  }

  // ---------------------------------------------------------------- the answers, in order

  private push(op: Op): void {
    // After a failed request the server drops everything up to the next Sync unanswered. This is
    // decided when the requests are noted, so it also holds for requests that were forwarded but not
    // yet written when the error came.
    if (op.kind === 'sync') this.discarding = false;
    else if (this.discarding) return;
    this.ops.push(op);
    if (this.ops.length === 1) {
      this.session.wire.setBusy(true);
      this.activate(op);
    }
  }

  /** The server starts on `op` now: its job begins. */
  private activate(op: Op): void {
    if (op.kind === 'execute') {
      if (!this.portalJobs.has(op.portal)) {
        const prepared = this.portalStatement.get(op.portal)?.prepared;
        if (prepared) this.portalJobs.set(op.portal, { statement: prepared.begin(), rows: 0 });
      }
    } else if (op.kind === 'query') this.beginQueryStatement(op);
  }

  private beginQueryStatement(op: Extract<Op, { kind: 'query' }>): void {
    const prepared = op.statements[op.at];
    if (prepared) this.portalJobs.set('\u0000query', { statement: prepared.begin(), rows: 0 });
  }

  /** The head op is answered: the next one starts. */
  private pop(): void {
    this.ops.shift();
    const next = this.ops[0];
    if (next) this.activate(next);
    else {
      this.session.wire.setBusy(false);
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private endJob(portal: string, state: 'Succeed' | 'Failed' | 'Cancelled', tag?: string, error?: { sqlState: string; message: string }): void {
    const job = this.portalJobs.get(portal);
    if (!job) return;
    this.portalJobs.delete(portal);
    job.statement.end({ state, rows: job.rows, tag, error });
  }

  private endAll(state: 'Succeed' | 'Cancelled'): void {
    for (const portal of [...this.portalJobs.keys()]) this.endJob(portal, state);
  }

  private fromServer(chunk: Buffer): void {
    if (this.silent) {
      // Nothing follows the set-up's ReadyForQuery in its chunk: the client has sent nothing yet.
      this.scan(chunk);
      return;
    }
    // The bytes go on first; what they mean for the jobs is noted after.
    if (!this.closed && !this.host.send(chunk)) this.session.wire.pause();
    this.scan(chunk);
  }

  /** Walks the server's messages in `chunk`: headers always, the bodies of C, E and Z. */
  private scan(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
        continue;
      }
      if (this.gatherLeft > 0) {
        const n = Math.min(this.gatherLeft, chunk.length - at);
        this.gathered.push(chunk.subarray(at, at + n));
        this.gatherLeft -= n;
        at += n;
        if (this.gatherLeft === 0) {
          const body = this.gathered.length === 1 ? (this.gathered[0] as Buffer) : Buffer.concat(this.gathered);
          this.gathered = [];
          this.message(this.gatherType, body);
        }
        continue;
      }
      let type: number;
      let length: number;
      if (this.headerBytes === 0 && chunk.length - at >= 5) {
        type = chunk[at] as number;
        length = chunk.readUInt32BE(at + 1) - 4;
        at += 5;
      } else {
        const n = Math.min(5 - this.headerBytes, chunk.length - at);
        chunk.copy(this.header, this.headerBytes, at, at + n);
        this.headerBytes += n;
        at += n;
        if (this.headerBytes < 5) continue;
        this.headerBytes = 0;
        type = this.header[0] as number;
        length = this.header.readUInt32BE(1) - 4;
      }
      if (type === 0x43 || type === 0x45 || type === 0x5a) {
        // CommandComplete, ErrorResponse, ReadyForQuery: their bodies say how the statement ended.
        if (length <= 0) this.message(type, Buffer.alloc(0));
        else {
          this.gatherType = type;
          this.gatherLeft = length;
        }
      } else {
        this.message(type, undefined);
        this.skip = Math.max(0, length);
      }
    }
  }

  private message(type: number, body: Buffer | undefined): void {
    const op = this.ops[0];
    switch (type) {
      case 0x44: {
        // DataRow
        const portal = op?.kind === 'execute' ? op.portal : op?.kind === 'query' ? '\u0000query' : undefined;
        const job = portal === undefined ? undefined : this.portalJobs.get(portal);
        if (job) job.rows++;
        return;
      }
      case 0x43: // CommandComplete
      case 0x49: // EmptyQueryResponse
        if (op?.kind === 'execute') {
          this.endJob(op.portal, 'Succeed', body?.toString('utf8', 0, Math.max(0, body.length - 1)));
          this.pop();
        } else if (op?.kind === 'query') {
          this.endJob('\u0000query', 'Succeed', body?.toString('utf8', 0, Math.max(0, body.length - 1)));
          op.at++;
          this.beginQueryStatement(op);
        }
        return;
      case 0x73: // PortalSuspended: the portal's job goes on at its next Execute
        if (op?.kind === 'execute') this.pop();
        return;
      case 0x31: // ParseComplete
      case 0x33: // CloseComplete
        if (op?.kind === 'close-portal') this.endJob(op.portal, 'Succeed');
        if (op) this.pop();
        return;
      case 0x32: // BindComplete: a portal of the same name is replaced
        if (op?.kind === 'bind') this.endJob(op.portal, 'Succeed');
        if (op) this.pop();
        return;
      case 0x54: // RowDescription
      case 0x6e: // NoData
        if (op?.kind === 'describe') this.pop();
        return;
      case 0x45: {
        // ErrorResponse
        const error = errorOf(body ?? Buffer.alloc(0));
        const state = error.sqlState === '57014' && this.cancelled ? 'Cancelled' : 'Failed';
        if (!op) return;
        if (op.kind === 'setup') {
          this.setupError = error.message;
          return;
        }
        if (op.kind === 'query') {
          this.endJob('\u0000query', state, undefined, error);
          op.at = op.statements.length;
          return;
        }
        if (op.kind === 'execute') this.endJob(op.portal, state, undefined, error);
        // A statement the server refuses at Parse (a syntax error, a missing table) or at Bind (a
        // parameter it cannot read) never runs, but the client saw it fail: it is a Failed job, as
        // the same error in a simple query is.
        else if ((op.kind === 'parse' || op.kind === 'bind') && op.statement) op.statement.begin().end({ state, rows: 0, error });
        // The server skips everything up to the next Sync: those requests get no answer.
        while (this.ops[0] && this.ops[0].kind !== 'sync') this.ops.shift();
        if (this.ops[0]) this.activate(this.ops[0]);
        else {
          this.discarding = true;
          this.ops.unshift(op);
          this.pop();
        }
        return;
      }
      case 0x5a: {
        // ReadyForQuery
        this.tx = String.fromCharCode(body?.[0] ?? 0x49);
        this.cancelled = false;
        if (this.tx === 'I' && this.portalJobs.size > 0) this.endAll('Succeed');
        if (op?.kind === 'setup') {
          const done = this.setupDone;
          const failed = this.setupError;
          this.setupDone = undefined;
          this.silent = false;
          this.pop();
          if (failed !== undefined) done?.reject(new Error(`the data source refused the session settings: ${failed}`));
          else done?.resolve();
          return;
        }
        if (op?.kind === 'sync' || op?.kind === 'query') this.pop();
        return;
      }
      default:
        // Notices, ParameterStatus, notifications and COPY traffic pass through unnoted.
        return;
    }
  }
}
