/**
 * The DuckDB worker: the child process behind one DuckDB engine. It owns one database and one
 * connection (so temp tables, views and SET survive between tasks) and runs one task at a time on
 * behalf of the parent, which talks to it only through the messages of `protocol.ts`.
 */
import { type DuckDBConnection, DuckDBInstance, type DuckDBPreparedStatement, version } from '@duckdb/node-api';
import { AheadStatements } from './ahead-statements.ts';
import { type ChildMessageBody, type ParentMessage, ParentMessageSchema, stamp } from './protocol.ts';
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
  if (body.type === 'done' || body.type === 'pong' || body.type === 'ready') flush();
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

function prepareAhead(message: Extract<ParentMessage, { type: 'prepare' }>): void {
  // A running task owns the connection; a long script would take the extracting path anyway.
  if (!ahead || current || shuttingDown || message.code.length > DIRECT_PREPARE_MAX_CHARS) return;
  ahead.offer(message.taskId, message.code);
}

function execute(message: Extract<ParentMessage, { type: 'execute' }>): void {
  if (!connection || !limits || current || shuttingDown) {
    const reason = current ? `task ${current.taskId} is still running` : 'the worker is not ready';
    void emit({ type: 'done', taskId: message.taskId, outcome: { status: 'internal', reason } });
    return;
  }
  const control = new TaskControl(message.credits, flush);
  const task: Current = { taskId: message.taskId, control, done: Promise.resolve() };
  current = task;
  const preparedAhead = ahead?.take(message.taskId, message.code);
  task.done = runStatements(connection, message.taskId, message.code, control, emit, limits, preparedAhead).then(async (outcome) => {
    if (task.interruptTimer) clearInterval(task.interruptTimer);
    current = undefined;
    await emit({ type: 'done', taskId: message.taskId, outcome });
  });
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
  if (ahead) await Promise.race([ahead.drain(), new Promise((resolve) => setTimeout(resolve, 1000))]);
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
      void emit({ type: 'pong', id: message.id, rss: process.memoryUsage.rss(), preparedAhead: ahead?.used ?? 0 });
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
