import type { Row } from '@sluice/core';
import type { WireRows } from './pg-datarow-tap.ts';

/**
 * The part of node-postgres's connection that the extended query protocol needs. node-postgres
 * hands it to any object with a `submit(connection)` method given to `client.query()`, and then
 * routes the backend's answers to that object's `handle…` methods: that is how pg-cursor works, and
 * how these two classes read a statement's rows batch by batch.
 */
export interface PgWireConnection {
  parse(query: { text: string; name?: string; types?: number[] }): void;
  bind(config: { portal?: string; statement?: string; values?: unknown[] }): void;
  execute(config: { portal?: string; rows?: number }): void;
  describe(message: { type: 'S' | 'P'; name?: string }): void;
  close(message: { type: 'S' | 'P'; name?: string }): void;
  flush(): void;
  sync(): void;
  sendCopyFail(message: string): void;
  /** The socket: its messages of one step are corked into one write (one wake-up of the server). */
  readonly stream?: { cork?(): void; uncork?(): void };
  once(event: 'readyForQuery' | 'end' | 'error', listener: () => void): unknown;
  removeListener(event: 'readyForQuery' | 'end' | 'error', listener: () => void): unknown;
}

/**
 * Calls `done` once the backend has answered the Sync sent after a server error (ReadyForQuery), or
 * the connection ended. node-postgres forgets the failed query before that answer, so it is awaited
 * on the connection: a failed (or cancelled) statement reports its end only when the server is idle.
 * An error without a SQLSTATE is the connection's own (it ended or broke): nothing will answer, so
 * `done` runs at once.
 */
export function afterReady(connection: PgWireConnection | undefined, err: Error, done: () => void): void {
  const code = (err as { code?: unknown }).code;
  if (!connection || typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) {
    done();
    return;
  }
  const finish = () => {
    connection.removeListener('readyForQuery', finish);
    connection.removeListener('end', finish);
    connection.removeListener('error', finish);
    done();
  };
  connection.once('readyForQuery', finish);
  connection.once('end', finish);
  connection.once('error', finish);
}

/** Sends the messages `send` writes as one socket write, as node-postgres does for its queries. */
export function corked(connection: PgWireConnection, send: () => void): void {
  const stream = connection.stream;
  stream?.cork?.();
  try {
    send();
  } finally {
    stream?.uncork?.();
  }
}

/** A column of a RowDescription message. */
export interface PgField {
  name: string;
  dataTypeID: number;
  dataTypeModifier: number;
}

/**
 * Parses a statement into the unnamed prepared statement and describes it: the columns it returns,
 * or none. Ends with Sync, so the statement is prepared but nothing runs yet.
 */
export class PgDescribe {
  fields: PgField[] | undefined;
  readonly done: Promise<PgField[] | undefined>;
  private resolve!: (fields: PgField[] | undefined) => void;
  private reject!: (err: Error) => void;

  constructor(private readonly text: string) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  private connection: PgWireConnection | undefined;

  submit(connection: PgWireConnection): void {
    this.connection = connection;
    corked(connection, () => {
      connection.parse({ text: this.text });
      connection.describe({ type: 'S', name: '' });
      connection.sync();
    });
  }

  handleRowDescription(message: { fields: PgField[] }): void {
    this.fields = message.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID, dataTypeModifier: f.dataTypeModifier }));
  }

  handleError(err: Error): void {
    afterReady(this.connection, err, () => this.reject(err));
  }

  handleReadyForQuery(): void {
    this.resolve(this.fields);
  }

  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
}

/** What one fetch produced. */
export interface PortalBatch {
  rows: Row[];
  /** The fetch's DataRow messages as the server sent them, when the portal takes rows off the wire. */
  wire?: WireRows;
  /** Bytes of the rows' DataRow messages as the server sent them (a free, exact size measure). */
  bytes: number;
  /** False once the statement completed; the portal is then gone. */
  more: boolean;
}

type Waiter = { resolve: (batch: PortalBatch) => void; reject: (err: Error) => void };

/**
 * How a portal that runs its statement in one flight holds the server back: the connection's socket,
 * which stops being read while a batch waits for the consumer, so the server blocks in its send.
 */
export interface OneFlight {
  pause(): void;
  resume(): void;
  /** A batch is handed over once its DataRow messages reach this many bytes (or the row count is reached). */
  maxBytes: number;
}

/**
 * Binds the described statement to the unnamed portal and runs it `rows` rows at a time (Execute
 * with a row limit). Between fetches the portal is suspended on the server: nothing is read ahead of
 * {@link fetch}. Converts each DataRow as it arrives.
 *
 * With {@link OneFlight}, the statement is instead executed whole and synced in the same flight
 * (Execute without a row limit, then Sync): one round trip for a short statement instead of two,
 * since the Sync no longer waits for CommandComplete. Rows are cut into batches of the same bounds
 * here, and the socket is paused while a full batch waits for the consumer, so the server blocks
 * in its send instead of suspending the portal. A portal abandoned midway then reads the rest of
 * the statement's output and drops it (the session cancels a statement that does not end soon).
 * Only for an implicit transaction: in a user's transaction block an abandoned statement must not
 * fail, which a cancel would make it do, so there the portal is suspended between fetches.
 */
export class PgPortal {
  /** The command tag of a completed statement, e.g. `INSERT 0 3`. */
  commandTag: string | undefined;
  private connection: PgWireConnection | undefined;
  private rows: Row[] = [];
  private bytes = 0;
  private wire: WireRows | undefined;
  private waiter: Waiter | undefined;
  /** Outcomes that came while nobody waited; in one flight several full batches may come in one read. */
  private readonly settled: { batch?: PortalBatch; error?: Error }[] = [];
  /** One flight: the rows that make a full batch, and whether the socket is paused. */
  private batchRows: number;
  private paused = false;
  private state: 'fetching' | 'suspended' | 'completing' | 'done' | 'failed' = 'fetching';
  private closed: Promise<void> | undefined;
  private onClosed: (() => void) | undefined;
  /** A Sync was sent: exactly one ReadyForQuery follows, and a second Sync would confuse the next query. */
  private synced = false;

  constructor(
    /** When set, the statement is parsed again first (something else used the unnamed statement). */
    private readonly parseText: string | undefined,
    private readonly firstFetch: number,
    /** Turns a DataRow's texts into a row; it may convert them in place and return the same array. */
    private convertRow: (fields: (string | null)[]) => Row,
    private readonly copyRefusal: string,
    private readonly oneFlight?: OneFlight,
  ) {
    this.batchRows = firstFetch;
  }

  /** Called at the portal's ReadyForQuery (the connection is idle again). */
  onReady: (() => void) | undefined;

  /** True while a fetch runs on the server (the statement may be executing). */
  get fetching(): boolean {
    return this.state === 'fetching';
  }

  /** True once the portal no longer exists on the server (completed, failed or closed). */
  get finished(): boolean {
    return this.state === 'done' || this.state === 'failed';
  }

  /** Waits for the batch of the fetch in flight. */
  next(): Promise<PortalBatch> {
    const first = this.settled.shift();
    if (first) {
      const { batch, error } = first;
      return error ? Promise.reject(error) : Promise.resolve(batch!);
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Asks for the next `rows` rows of a suspended portal. */
  fetch(rows: number): void {
    if (this.oneFlight) {
      this.batchRows = rows;
      // Read on once the consumer took every batch that came (never while one still waits).
      if (this.settled.length === 0) this.resumeSocket();
      return;
    }
    if (this.state !== 'suspended' || !this.connection) return;
    this.state = 'fetching';
    const connection = this.connection;
    corked(connection, () => {
      connection.execute({ portal: '', rows });
      connection.flush();
    });
  }

  /** Closes a suspended portal and ends the implicit transaction step; resolves once the server is ready. */
  abandon(): Promise<void> {
    if (this.finished) return Promise.resolve();
    if (!this.closed) {
      this.closed = new Promise<void>((resolve) => {
        this.onClosed = resolve;
      });
      if (this.oneFlight) {
        // The rest of the output is read and dropped; the statement ends at its ReadyForQuery.
        this.rows = [];
        this.bytes = 0;
        this.wire = undefined;
        this.settled.length = 0;
        this.resumeSocket();
      } else if (this.state === 'suspended' && this.connection) {
        this.state = 'completing';
        const connection = this.connection;
        corked(connection, () => {
          connection.close({ type: 'P', name: '' });
          this.sync();
        });
      }
      // A fetch in flight finishes first (or fails after a cancel); its end resolves `closed`.
    }
    return this.closed;
  }

  private settle(batch?: PortalBatch, error?: Error): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) {
      if (error) waiter.reject(error);
      else waiter.resolve(batch!);
    } else {
      this.settled.push(error ? { error } : { batch: batch! });
    }
  }

  private resumeSocket(): void {
    if (!this.paused) return;
    this.paused = false;
    this.oneFlight?.resume();
  }

  /** One flight: hands over the rows gathered so far once they make a full batch. */
  private cutBatch(): void {
    const flight = this.oneFlight;
    if (!flight || this.closed || this.state !== 'fetching') return;
    const count = this.wire ? this.wire.rows : this.rows.length;
    if (count < this.batchRows && this.bytes < flight.maxBytes) return;
    const waited = this.waiter !== undefined;
    this.settle(this.take(true));
    // Nobody took it at once: stop reading until the consumer asks for more.
    if (!waited && !this.paused) {
      this.paused = true;
      flight.pause();
    }
  }

  private sync(): void {
    if (this.synced || !this.connection) return;
    this.synced = true;
    this.connection.sync();
  }

  private take(more: boolean): PortalBatch {
    const batch: PortalBatch = { rows: this.rows, bytes: this.bytes, more };
    if (this.wire) batch.wire = this.wire;
    this.rows = [];
    this.bytes = 0;
    this.wire = undefined;
    return batch;
  }

  /** DataRow messages a {@link DataRowTap} took off the wire for this portal (instead of handleDataRow). */
  addWireRows(chunk: Buffer, rows: number): void {
    if (this.state !== 'fetching' || this.closed) return; // rows of a fetch being abandoned
    if (this.oneFlight) {
      // A read may hold more rows than the batch has room for: it is cut at the DataRow that fills it.
      const room = this.batchRows - (this.wire?.rows ?? 0);
      if (room > 0 && rows > room) {
        let at = 0;
        for (let i = 0; i < room; i++) at += 1 + chunk.readUInt32BE(at + 1);
        this.addWire(chunk.subarray(0, at), room);
        this.cutBatch();
        this.addWireRows(chunk.subarray(at), rows - room);
        return;
      }
    }
    this.addWire(chunk, rows);
    this.cutBatch();
  }

  private addWire(chunk: Buffer, rows: number): void {
    this.wire ??= { chunks: [], rows: 0 };
    this.wire.chunks.push(chunk);
    this.wire.rows += rows;
    this.bytes += chunk.length;
  }

  submit(connection: PgWireConnection): void {
    this.connection = connection;
    corked(connection, () => {
      if (this.parseText !== undefined) connection.parse({ text: this.parseText });
      connection.bind({ portal: '', statement: '', values: [] });
      if (this.onDescribe) connection.describe({ type: 'P', name: '' });
      if (this.oneFlight) {
        connection.execute({ portal: '', rows: 0 });
        this.sync();
      } else {
        connection.execute({ portal: '', rows: this.firstFetch });
        connection.flush();
      }
    });
  }

  /**
   * Set to have the portal described (Describe of the portal, sent with Bind): it is called with the
   * columns before any row arrives, and may replace the row converter.
   */
  onDescribe: ((fields: PgField[]) => void) | undefined;
  /** The columns a portal description reported (set only when {@link onDescribe} is). */
  fields: PgField[] | undefined;

  /** Replaces how rows are converted (before the first row arrives). */
  setConverter(convertRow: (fields: (string | null)[]) => Row): void {
    this.convertRow = convertRow;
  }

  handleRowDescription(message: { fields: PgField[] }): void {
    if (!this.onDescribe) return;
    this.fields = message.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID, dataTypeModifier: f.dataTypeModifier }));
    this.onDescribe(this.fields);
  }

  handleDataRow(message: { fields: (string | null)[]; length: number }): void {
    if (this.closed && this.oneFlight) return; // the rest of an abandoned statement
    this.rows.push(this.convertRow(message.fields));
    this.bytes += message.length;
    if (this.oneFlight) this.cutBatch();
  }

  handlePortalSuspended(): void {
    this.state = 'suspended';
    if (this.closed && this.connection) {
      this.state = 'completing';
      this.rows = [];
      this.bytes = 0;
      this.wire = undefined;
      const connection = this.connection;
      corked(connection, () => {
        connection.close({ type: 'P', name: '' });
        this.sync();
      });
      return;
    }
    this.settle(this.take(true));
  }

  handleCommandComplete(message: { text: string }): void {
    this.commandTag = message.text;
    this.state = 'completing';
    this.sync();
  }

  handleEmptyQuery(): void {
    this.state = 'completing';
    this.sync();
  }

  handleCopyInResponse(connection: PgWireConnection): void {
    connection.sendCopyFail(this.copyRefusal);
    // The server ignores a Sync that reaches it in copy-in mode, as the one sent with the Execute
    // did; the error that CopyFail causes then waits for this one.
    if (this.oneFlight) connection.sync();
  }

  handleCopyData(): void {
    // COPY … TO STDOUT: the data is not a result set; it is dropped and the command tag reports the count.
  }

  handleReadyForQuery(): void {
    const wasClosing = this.closed !== undefined;
    this.state = 'done';
    this.resumeSocket();
    this.onReady?.();
    this.onClosed?.();
    if (!wasClosing) this.settle(this.take(false));
  }

  handleError(err: Error): void {
    this.state = 'failed';
    this.rows = [];
    this.bytes = 0;
    this.wire = undefined;
    // The backend skips everything up to the next Sync after an error.
    const synced = this.synced;
    this.sync();
    const finish = () => {
      this.onClosed?.();
      this.settle(undefined, err);
    };
    // In one flight the Sync went with the Execute: its ReadyForQuery is still to come, and must be read.
    this.resumeSocket();
    if (synced && !this.oneFlight) finish();
    else afterReady(this.connection, err, finish);
  }
}
