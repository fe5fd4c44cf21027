/** What the worker keeps of a prepared statement: it must be freed when dropped. */
export interface Destroyable {
  destroySync(): void;
}

/**
 * Statements prepared ahead of their task (the worker's `prepare` message, `PrepareAheadEngine` in
 * `@sluice/core`). At most one is kept, for one task id and code. Only that task's `take` returns it.
 * Any other `take` or `offer` drops it, so nothing runs on the connection between a prepare and the
 * task it was made for.
 *
 * `take` also waits until no prepare of an offer is still in flight. DuckDB closes a connection's open
 * streaming result when anything is prepared on that connection, silently and with the rows read so
 * far. A task must therefore not start streaming until every prepare made ahead has finished, even a
 * dropped one (libuv's threads may run them in any order).
 */
export class AheadStatements<S extends Destroyable> {
  private ahead: { taskId: string; code: string; prepared: Promise<S | undefined> } | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Tasks so far that ran on a statement prepared ahead. */
  used = 0;

  /** `prepare` resolves to the statement, or undefined when it is refused (and never rejects). */
  constructor(private readonly prepare: (code: string) => Promise<S | undefined>) {}

  /** Starts preparing `code` for task `taskId`, dropping what was kept before. */
  offer(taskId: string, code: string): void {
    this.drop();
    const prepared = this.prepare(code);
    this.inFlight.add(prepared);
    void prepared.then(() => this.inFlight.delete(prepared));
    this.ahead = { taskId, code, prepared };
  }

  /**
   * Keeps a statement prepared elsewhere for task `taskId` (a run ahead that found it is not a SELECT),
   * dropping what was kept before. The caller must have drained first: nothing else is in flight.
   */
  keep(taskId: string, code: string, statement: S): void {
    this.drop();
    this.ahead = { taskId, code, prepared: Promise.resolve(statement) };
  }

  /**
   * For a task about to run: the statement prepared for this task id and code (undefined when there is
   * none, or when its prepare was refused), once no prepare is in flight any more. Whatever else was
   * kept is dropped.
   */
  async take(taskId: string, code: string): Promise<S | undefined> {
    const mine = this.ahead?.taskId === taskId && this.ahead.code === code ? this.ahead.prepared : undefined;
    if (mine) this.ahead = undefined;
    await this.drain();
    const statement = await mine;
    if (statement) this.used += 1;
    return statement;
  }

  /** Drops what is kept and resolves once no prepare is in flight (before the connection closes). */
  async drain(): Promise<void> {
    this.drop();
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  private drop(): void {
    const dropped = this.ahead;
    this.ahead = undefined;
    void dropped?.prepared.then((statement) => statement?.destroySync());
  }
}
