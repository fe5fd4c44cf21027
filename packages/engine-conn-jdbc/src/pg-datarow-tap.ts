import type { WireRows } from '@sluice/core';

export type { WireRows };

type DataListener = (chunk: Buffer) => void;

const DATA_ROW = 0x44; // 'D'

/**
 * Takes the DataRow messages of one statement off a node-postgres connection before node-postgres
 * parses them, and hands them on as the bytes the server sent; every other message (RowDescription,
 * PortalSuspended, CommandComplete, ErrorResponse, ReadyForQuery, notices) goes to node-postgres's
 * own parser as usual, in order. A consumer that writes rows in the same wire format (the gateway's
 * PostgreSQL listener) then copies bytes instead of parsing each value into a string and encoding it
 * back.
 *
 * It must be installed while the connection is idle (node-postgres holds no partial message) and
 * removed once the statement's ReadyForQuery was handed on.
 */
export class DataRowTap {
  private saved: DataListener[] = [];
  private pending: Buffer | undefined;
  private installed = false;

  constructor(
    private readonly stream: NodeJS.EventEmitter,
    private readonly onRows: (chunk: Buffer, rows: number) => void,
  ) {}

  install(): void {
    if (this.installed) return;
    this.saved = this.stream.listeners('data') as DataListener[];
    for (const l of this.saved) this.stream.removeListener('data', l);
    this.stream.on('data', this.onData);
    this.installed = true;
  }

  /** Gives the connection back to node-postgres; bytes not yet looked at go to it. Safe twice. */
  uninstall(): void {
    if (!this.installed) return;
    this.installed = false;
    this.stream.removeListener('data', this.onData);
    for (const l of this.saved) this.stream.on('data', l);
    const rest = this.pending;
    this.pending = undefined;
    if (rest && rest.length > 0) this.forward(rest);
  }

  private forward(bytes: Buffer): void {
    for (const l of this.saved) l.call(this.stream, bytes);
  }

  private readonly onData = (chunk: Buffer): void => {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let at = 0;
    // Start of the run being gathered: DataRows (rows > 0) or other messages (rows === 0).
    let runStart = 0;
    let rows = 0;
    while (at + 5 <= buf.length) {
      const end = at + 1 + buf.readUInt32BE(at + 1);
      if (end > buf.length) break;
      const isRow = buf[at] === DATA_ROW;
      if (isRow && rows === 0 && at > runStart) {
        // Other messages before this row: node-postgres handles them first.
        this.forward(buf.subarray(runStart, at));
        runStart = at;
        if (!this.installed) {
          this.forward(buf.subarray(at));
          return;
        }
      } else if (!isRow && rows > 0) {
        this.onRows(buf.subarray(runStart, at), rows);
        runStart = at;
        rows = 0;
      }
      if (isRow) rows++;
      at = end;
    }
    if (rows > 0) this.onRows(buf.subarray(runStart, at), rows);
    else if (at > runStart) this.forward(buf.subarray(runStart, at));
    if (at < buf.length) {
      // A message split across reads: kept for the next one, or handed on if the tap was removed meanwhile.
      if (this.installed) this.pending = buf.subarray(at);
      else this.forward(buf.subarray(at));
    }
  };
}
