import type { Column, InteractiveStatement, Principal, Row, WireRows } from '@sluice/core';
import type { EntranceApi } from '@sluice/entrance';

/** Where the rows of one statement come from, read in pages as the client consumes them. */
export interface RowSource {
  readonly columns: Column[];
  /** The next rows, at most `limit` (possibly fewer); an empty array once every row was read. */
  next(limit: number): Promise<Row[] | WireRows>;
  /** True once every row was read. */
  readonly done: boolean;
  /** Drops read-ahead; the source is not used after this. */
  close(): void;
}

/** Rows computed by the gateway itself (catalog answers, SHOW). */
export class ArrayRowSource implements RowSource {
  private at = 0;

  constructor(
    readonly columns: Column[],
    private readonly rows: Row[],
  ) {}

  get done(): boolean {
    return this.at >= this.rows.length;
  }

  async next(limit: number): Promise<Row[]> {
    const out = this.rows.slice(this.at, this.at + limit);
    this.at += out.length;
    return out;
  }

  close(): void {}
}

/**
 * Rows of a job's result set, read page by page through the entrance (which streams them from the
 * result store). One page is read ahead while the previous one is written to the client, and no
 * more: the gateway holds at most two pages of a result, whatever its size.
 */
export class JobRowSource implements RowSource {
  private offset = 0;
  private ahead: { offset: number; limit: number; rows: Promise<Row[]> } | undefined;

  constructor(
    private readonly entrance: EntranceApi,
    private readonly principal: Principal,
    private readonly jobId: string,
    private readonly index: number,
    readonly columns: Column[],
    private readonly total: number,
  ) {}

  get done(): boolean {
    return this.offset >= this.total;
  }

  private read(offset: number, limit: number): Promise<Row[]> {
    return this.entrance.readRows(this.principal, this.jobId, this.index, offset, limit).then((r) => r.rows);
  }

  async next(limit: number): Promise<Row[]> {
    const want = Math.min(limit, this.total - this.offset);
    if (want <= 0) return [];
    const pending = this.ahead?.offset === this.offset && this.ahead.limit === want ? this.ahead.rows : this.read(this.offset, want);
    this.ahead = undefined;
    const rows = await pending;
    this.offset += rows.length;
    if (rows.length < want) this.offset = this.total; // the set is shorter than its index said: stop
    const nextWant = Math.min(limit, this.total - this.offset);
    if (nextWant > 0) {
      const p = this.read(this.offset, nextWant);
      p.catch(() => {});
      this.ahead = { offset: this.offset, limit: nextWant, rows: p };
    }
    return rows;
  }

  close(): void {
    this.ahead = undefined;
  }
}

/**
 * Rows of a statement that is still running: each batch is pulled from the engine as the client
 * takes it, so the first rows reach the client while the engine produces the rest, and the engine
 * never runs further ahead than one batch beyond the one in hand.
 */
export class LiveRowSource implements RowSource {
  constructor(private readonly statement: InteractiveStatement) {}

  get columns(): Column[] {
    return this.statement.columns ?? [];
  }

  get done(): boolean {
    return this.statement.done;
  }

  next(limit: number): Promise<Row[] | WireRows> {
    return this.statement.next(limit);
  }

  close(): void {
    void this.statement.close().catch(() => {});
  }
}
