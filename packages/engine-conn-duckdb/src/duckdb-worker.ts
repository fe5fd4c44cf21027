/**
 * The DuckDB worker: the child process behind one DuckDB engine. It owns one database and one
 * connection (so temp tables, views and SET survive between tasks) and runs one task at a time on
 * behalf of the parent, which talks to it only through the messages of `protocol.ts`.
 */
import { type DuckDBConnection, DuckDBInstance, type DuckDBPreparedStatement, StatementType, version } from '@duckdb/node-api';
import { AheadStatements } from './ahead-statements.ts';
import { type ChildMessageBody, type ParentMessage, ParentMessageSchema, stamp, type TaskOutcome } from './protocol.ts';
import { AheadRun, mayRunAhead } from './run-ahead.ts';
import { DIRECT_PREPARE_MAX_CHARS, type RunnerLimits, runStatements, TaskControl } from './statement-runner.ts';

interface Current {
  taskId: string;
  control: TaskControl;
  done: Promise<void>;
  interruptTimer?: NodeJS.Timeout;
}

let instance: DuckDBInstance | undefined;
let connection: DuckDBConnection | undefined;
let limits: RunnerLimits | undefined;
let current: Current | undefined;
let shuttingDown = false;

/** The statement prepared for the task expected next (`prepare` message); see AheadStatements. */
let ahead: AheadStatements<DuckDBPreparedStatement> | undefined;

/** The task run ahead of its `execute` (a `prepare` message with credits; ADR 16). */
let aheadRun: AheadRun | undefined;
let aheadExpiry: NodeJS.Timeout | undefined;
/** Tasks so far that adopted a run ahead. */
let ranAheadUsed = 0;
/** A run ahead nobody adopts is dropped after this long. */
const AHEAD_EXPIRY_MS = 30_000;
/**
 * Set once a task ran a transaction statement (BEGIN, COMMIT, …): the connection may then be inside
 * a transaction the user opened, where a failing statement run ahead would abort it. Nothing runs
 * ahead on this connection any more.
 */
let explicitTransactions = false;

function observeStatement(type: StatementType): void {
  if (type === StatementType.TRANSACTION) explicitTransactions = true;
}

/** The longest a task message waits to travel with the next one. */
const HOLD_MS = 10;

/** Task messages held back to leave together (see {@link emit}). */
let held: ChildMessageBody[] = [];
let holdTimer: NodeJS.Timeout | undefined;

/** Sends the held messages: one alone as itself, several as one `batch`. */
function flush(): void {
  if (holdTimer) clearTimeout(holdTimer);
  holdTimer = undefined;
  if (held.length === 0) return;
  const out = held;
  held = [];
  if (!process.connected) return;
  const message = out.length === 1 ? stamp(out[0] as ChildMessageBody) : stamp({ type: 'batch' as const, messages: out.map((m) => stamp(m)) });
  process.send!(message, undefined, {}, () => {});
}

/**
 * Sends a message to the parent. It does not wait for the write: the IPC channel keeps the order, and
 * rows are already bounded by the parent's credits, so waiting would only add a turn of the event
 * loop per message to every task.
 *
 * A task's messages are held for at most {@link HOLD_MS} so that they leave together: the log line,
 * the result set and the rows of a short query, and its end, are one write instead of four. The end
 * sends at once, and so does everything held when the task must wait for a credit (see
 * `TaskControl`), so holding never delays what the parent needs to go on.
 */
function emit(body: ChildMessageBody): Promise<void> {
  held.push(body);
  if (body.type === 'done' || body.type === 'pong' || body.type === 'ready' || body.type === 'ranAhead') flush();
  else holdTimer ??= setTimeout(flush, HOLD_MS);
  return Promise.resolve();
}

/** Sends a message and waits until it is written: for the last words before the process exits. */
function emitAndWait(body: ChildMessageBody): Promise<void> {
  flush();
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(stamp(body), undefined, {}, () => resolve());
  });
}

async function init(message: Extract<ParentMessage, { type: 'init' }>): Promise<void> {
  try {
    process.chdir(message.workDir);
    instance = await DuckDBInstance.create(message.database, message.settings);
    connection = await instance.connect();
    const conn = connection;
    // A prepare refused (a syntax error, several statements) leaves the task to its usual path.
    ahead = new AheadStatements((code) => conn.prepare(code).catch(() => undefined));
    // Progress is only tracked with the progress bar on; never print it.
    await connection.run('SET enable_progress_bar = true');
    await connection.run('SET enable_progress_bar_print = false');
    await connection.run('SET progress_bar_time = 0');
    limits = { progressIntervalMs: message.progressIntervalMs, batchRows: message.batchRows, batchBytes: message.batchBytes };
    await emit({ type: 'ready', duckdbVersion: version() });
  } catch (err) {
    await emitAndWait({ type: 'initFailed', reason: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  }
}

/** Cancels the run ahead, if any; resolves once it has ended and the connection is free. */
function dropAheadRun(): Promise<void> {
  const run = aheadRun;
  aheadRun = undefined;
  if (aheadExpiry) clearTimeout(aheadExpiry);
  aheadExpiry = undefined;
  const conn = connection;
  return run ? run.cancel(() => conn?.interrupt()) : Promise.resolve();
}

function prepareAhead(message: Extract<ParentMessage, { type: 'prepare' }>): void {
  // A running task owns the connection; a long script would take the extracting path anyway.
  if (!ahead || !connection || !limits || current || shuttingDown || message.code.length > DIRECT_PREPARE_MAX_CHARS) return;
  const previous = dropAheadRun();
  if (message.credits === undefined || explicitTransactions || !mayRunAhead(message.code)) {
    ahead.offer(message.taskId, message.code);
    return;
  }
  const conn = connection;
  const statements = ahead;
  const runLimits = limits;
  const { taskId, code } = message;
  const run = new AheadRun(
    taskId,
    code,
    message.credits,
    async (control, emitAhead) => {
      // Nothing else may be prepared or streaming on the connection while this run prepares and streams.
      await previous;
      await statements.drain();
      if (control.cancelled) return 'declined';
      const prepared = await conn.prepare(code).catch(() => undefined);
      if (!prepared) return 'declined';
      if (control.cancelled) {
        prepared.destroySync();
        return 'declined';
      }
      if (prepared.statementType !== StatementType.SELECT) {
        // Not run, but prepared all the same: kept for its task, as a hint without credits would be.
        statements.keep(taskId, code, prepared);
        return 'declined';
      }
      return runStatements(conn, taskId, code, control, emitAhead, runLimits, Promise.resolve(prepared), observeStatement);
    },
    flush,
  );
  aheadRun = run;
  aheadExpiry = setTimeout(() => {
    if (aheadRun === run) void dropAheadRun();
  }, AHEAD_EXPIRY_MS);
  aheadExpiry.unref();
  void run.ended.then((outcome) => offerRanAhead(run, outcome));
}

/**
 * A run ahead ended before its task came: a short result (at most one batch of rows) goes to the
 * parent, which may then answer the task without a round trip. The run stays here too, in case the
 * task's `execute` is already on its way: it is then replayed from what is held.
 */
function offerRanAhead(run: AheadRun, outcome: TaskOutcome | 'declined'): void {
  if (aheadRun !== run || run.adopted || outcome === 'declined') return;
  if (outcome.status !== 'ok' && outcome.status !== 'queryFailed') return;
  const held = run.heldMessages;
  if (held.filter((m) => m.type === 'rows').length > 1) return;
  void emit({ type: 'ranAhead', taskId: run.taskId, code: run.code, messages: held.map((m) => stamp(m)), outcome });
}

function finishTask(task: Current, taskId: string, outcome: TaskOutcome): Promise<void> {
  if (task.interruptTimer) clearInterval(task.interruptTimer);
  current = undefined;
  return emit({ type: 'done', taskId, outcome });
}

function execute(message: Extract<ParentMessage, { type: 'execute' }>): void {
  if (!connection || !limits || current || shuttingDown) {
    const reason = current ? `task ${current.taskId} is still running` : 'the worker is not ready';
    void emit({ type: 'done', taskId: message.taskId, outcome: { status: 'internal', reason } });
    return;
  }
  const conn = connection;
  const runLimits = limits;
  const statements = ahead;
  const run = aheadRun;
  if (run && run.taskId === message.taskId && run.code === message.code) {
    // The task was run ahead: adopt it. Its credits were given with the hint, as many as this message's.
    aheadRun = undefined;
    if (aheadExpiry) clearTimeout(aheadExpiry);
    aheadExpiry = undefined;
    const task: Current = { taskId: message.taskId, control: run.control, done: Promise.resolve() };
    current = task;
    run.adopt(emit);
    task.done = run.ended.then(async (ended) => {
      let outcome: TaskOutcome;
      if (ended === 'declined') {
        const preparedAhead = statements?.take(message.taskId, message.code);
        outcome = await runStatements(conn, message.taskId, message.code, run.control, emit, runLimits, preparedAhead, observeStatement);
      } else {
        ranAheadUsed += 1;
        outcome = ended;
      }
      await finishTask(task, message.taskId, outcome);
    });
    return;
  }
  const previous = dropAheadRun();
  const control = new TaskControl(message.credits, flush);
  const task: Current = { taskId: message.taskId, control, done: Promise.resolve() };
  current = task;
  const preparedAhead = previous.then(() => statements?.take(message.taskId, message.code));
  task.done = runStatements(conn, message.taskId, message.code, control, emit, runLimits, preparedAhead, observeStatement).then((outcome) =>
    finishTask(task, message.taskId, outcome),
  );
}

function cancel(taskId: string): void {
  if (!current || current.taskId !== taskId || current.control.cancelled || !connection) return;
  const conn = connection;
  current.control.cancel();
  conn.interrupt();
  // An interrupt that lands just before a query starts can be lost; repeat until the task ends.
  current.interruptTimer = setInterval(() => conn.interrupt(), 100);
}

async function shutdown(): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  const running = current;
  if (running) {
    cancel(running.taskId);
    await Promise.race([running.done, new Promise((resolve) => setTimeout(resolve, 1000))]);
  }
  // A prepare still running on one of libuv's threads must not meet the connection closing.
  const settled = Promise.all([dropAheadRun(), ahead?.drain()]);
  await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 1000))]);
  try {
    connection?.closeSync();
    instance?.closeSync();
  } finally {
    process.exit(0);
  }
}

function onMessage(raw: unknown): void {
  const parsed = ParentMessageSchema.safeParse(raw);
  if (!parsed.success) {
    process.stderr.write(`duckdb worker: invalid message from parent: ${parsed.error.message}\n`);
    return;
  }
  const message = parsed.data;
  switch (message.type) {
    case 'init':
      void init(message);
      break;
    case 'execute':
      execute(message);
      break;
    case 'prepare':
      prepareAhead(message);
      break;
    case 'credit':
      if (current?.taskId === message.taskId) current.control.grant(message.batches);
      break;
    case 'cancel':
      cancel(message.taskId);
      break;
    case 'ping':
      void emit({ type: 'pong', id: message.id, rss: process.memoryUsage.rss(), preparedAhead: ahead?.used ?? 0, ranAhead: ranAheadUsed });
      break;
    case 'shutdown':
      void shutdown();
      break;
  }
}

if (!process.send) {
  process.stderr.write('duckdb worker: must be started with an IPC channel (child_process.fork)\n');
  process.exit(2);
}
process.on('message', onMessage);
// The parent is gone: nobody can consume results any more.
process.on('disconnect', () => process.exit(0));
