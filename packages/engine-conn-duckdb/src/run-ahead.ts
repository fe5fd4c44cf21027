import type { ChildMessageBody, TaskOutcome } from './protocol.ts';
import { type Emit, TaskControl } from './statement-runner.ts';

/**
 * Calls that change state even inside a SELECT: a sequence, the random seed, statements handed to
 * another database (`postgres_execute`, `mysql_execute`, …) and HTTP requests of extensions. A SELECT
 * that names one of them is never run ahead of its task.
 */
const EFFECTFUL_CALL = /\b(?:nextval|setseed|[a-z0-9_]*_execute|http_[a-z0-9_]+)\s*\(/i;

/** True when nothing in `code` rules out running it ahead (its statement type is checked once prepared). */
export function mayRunAhead(code: string): boolean {
  return !EFFECTFUL_CALL.test(code);
}

/**
 * How a run ahead ended: the task's outcome, or `declined` when it ran nothing (prepare refused the
 * code, or the statement is not a SELECT). A declined task runs as if no hint had come.
 */
export type AheadOutcome = TaskOutcome | 'declined';

/**
 * One task run ahead of its `execute` message (the worker's `prepare` message with credits; see ADR 16).
 * Until the task comes, what the run emits is held here; `adopt` hands it over in order and sends the
 * rest straight on. A run the task never adopts is cancelled by the next task or hint, or when it
 * expires.
 */
export class AheadRun {
  readonly control: TaskControl;
  readonly ended: Promise<AheadOutcome>;
  outcome: AheadOutcome | undefined;
  private held: ChildMessageBody[] = [];
  private target: Emit | undefined;

  /**
   * `start` runs the task with this run's control and emitter, after whatever it must wait for.
   * `starving` is called before the run waits for a credit once adopted (the worker sends what it holds).
   */
  constructor(
    readonly taskId: string,
    readonly code: string,
    credits: number,
    start: (control: TaskControl, emit: Emit) => Promise<AheadOutcome>,
    starving: () => void,
  ) {
    this.control = new TaskControl(credits, () => {
      if (this.target) starving();
    });
    this.ended = start(this.control, (body) => this.emit(body)).then(
      (outcome) => {
        this.outcome = outcome;
        return outcome;
      },
      (err: unknown) => {
        this.outcome = { status: 'internal', reason: err instanceof Error ? err.message : String(err) };
        return this.outcome;
      },
    );
  }

  get adopted(): boolean {
    return this.target !== undefined;
  }

  /** The messages emitted so far and not yet handed over (the task's log, result set and rows). */
  get heldMessages(): readonly ChildMessageBody[] {
    return this.held;
  }

  /** The task has come: what is held goes to `emit` in order, and everything after goes straight on. */
  adopt(emit: Emit): void {
    this.target = emit;
    const out = this.held;
    this.held = [];
    for (const body of out) void emit(body);
  }

  /** Stops a run nobody will adopt; `interrupt` stops a query DuckDB is executing. Resolves once it ended. */
  async cancel(interrupt: () => void): Promise<void> {
    if (this.outcome !== undefined) return;
    this.control.cancel();
    interrupt();
    // An interrupt that lands just before a query starts can be lost; repeat until the run ends.
    const timer = setInterval(interrupt, 100);
    try {
      await this.ended;
    } finally {
      clearInterval(timer);
    }
  }

  private emit(body: ChildMessageBody): Promise<void> {
    if (this.target) return this.target(body);
    this.held.push(body);
    return Promise.resolve();
  }
}
