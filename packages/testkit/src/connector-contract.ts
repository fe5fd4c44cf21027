import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Column,
  type DataSourceConnection,
  type Engine,
  type EngineConnector,
  type EngineEvent,
  type ErrorCode,
  type Row,
  SluiceError,
} from '@sluice/core';

/** What a task is expected to produce: rows (of the last result set), log text, or both. */
export interface ExpectedOutput {
  /** Column names of the last result set. */
  columns?: string[];
  /** Rows of the last result set, exactly. */
  rows?: Row[];
  /** A text that one log line contains. */
  logIncludes?: string;
}

/** Engine-specific code for the contract cases. */
export interface ConnectorFixtures {
  /** Code type of every fixture; default: the connector's first code type. */
  codeType?: string;
  /** Launch params of every engine the contract starts. */
  launchParams?: Record<string, unknown>;
  /**
   * The data source every engine the contract starts connects to, for connectors of external systems.
   * Read at each launch, so the factory may set it once its server is ready.
   */
  dataSource?: DataSourceConnection;
  /** A task that succeeds quickly, and what it produces. */
  simple: { code: string } & ExpectedOutput;
  /** A task that fails through the user's fault (a SQL error, a script exiting non-zero). */
  userError: { code: string; errorCode?: ErrorCode };
  /** A task that runs for at least 20 s unless cancelled. */
  slow: { code: string };
  /** A task with a large output: `count` rows, or `count` log lines. */
  large?: { code: string; count: number; unit: 'rows' | 'logLines' };
  /** State set up by one task and seen by a later task on the same engine, never on another engine. */
  sessionState?: { setup: string; check: { code: string } & ExpectedOutput };
  /** True when an engine is a local OS process (engine.pid), so the crash cases apply. */
  localProcess: boolean;
}

/** Everything a run of one task produced. */
export interface TaskRecord {
  events: EngineEvent[];
  logs: string[];
  resultSets: { columns: Column[]; rows: Row[] }[];
  rowCount: number;
}

function record(events: EngineEvent[]): TaskRecord {
  const out: TaskRecord = { events, logs: [], resultSets: [], rowCount: 0 };
  for (const event of events) {
    if (event.type === 'log') out.logs.push(event.line);
    else if (event.type === 'resultSet') out.resultSets.push({ columns: event.columns, rows: [] });
    else if (event.type === 'rows') {
      const current = out.resultSets[out.resultSets.length - 1];
      assert.ok(current, 'a rows event must follow a resultSet event');
      for (const row of event.rows) current.rows.push(row);
      out.rowCount += event.rows.length;
    }
  }
  return out;
}

function assertOutput(run: TaskRecord, expected: ExpectedOutput, what: string): void {
  assert.ok(expected.columns || expected.rows || expected.logIncludes, `fixture ${what} must expect columns, rows or log text`);
  const last = run.resultSets[run.resultSets.length - 1];
  if (expected.columns) {
    assert.ok(last, `${what}: expected a result set`);
    assert.deepEqual(
      last.columns.map((c) => c.name),
      expected.columns,
    );
  }
  if (expected.rows) {
    assert.ok(last, `${what}: expected a result set`);
    assert.deepEqual(last.rows, expected.rows);
  }
  if (expected.logIncludes) {
    const needle = expected.logIncludes;
    assert.ok(
      run.logs.some((line) => line.includes(needle)),
      `${what}: no log line contains ${JSON.stringify(needle)}; got ${JSON.stringify(run.logs.slice(0, 20))}`,
    );
  }
}

function matchesOutput(run: TaskRecord, expected: ExpectedOutput): boolean {
  try {
    assertOutput(run, expected, 'check');
    return true;
  } catch {
    return false;
  }
}

/** Resolves with the error a promise rejects with; fails when it resolves. */
async function rejection(promise: Promise<unknown>, what: string): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail(`${what} should have failed`);
}

function assertSluiceError(err: unknown, code: ErrorCode): asserts err is SluiceError {
  assert.ok(err instanceof SluiceError, `expected a SluiceError ${code}, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
}

/**
 * The contract every engine connector passes, against its real engine: launch and health, events of a
 * simple task, user errors, cancel, isolation, session state, large results under slow consumption,
 * close, and (for local processes) a kill -9 of the engine. Call it at the top level of a test file.
 */
/** Each case's bound: a case that hangs (an engine that never answers) fails instead of stalling the run. */
const CASE = { timeout: 240_000 };

export function defineConnectorContract(name: string, factory: () => EngineConnector | Promise<EngineConnector>, fixtures: ConnectorFixtures): void {
  describe(`${name} connector contract`, () => {
    let connector: EngineConnector;
    let codeType: string;
    const engines: Engine[] = [];
    const dirs: string[] = [];
    let taskSeq = 0;
    let engineSeq = 0;

    before(async () => {
      connector = await factory();
      codeType = fixtures.codeType ?? connector.codeTypes[0] ?? '';
    });

    after(async () => {
      await Promise.allSettled(engines.map((engine) => engine.close()));
      await Promise.allSettled(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    });

    async function launch(): Promise<Engine> {
      engineSeq += 1;
      const engineId = `contract-${name}-${engineSeq}`;
      const workDir = await mkdtemp(path.join(tmpdir(), `sluice-contract-${name}-`));
      dirs.push(workDir);
      const engine = await connector.launch({
        engineId,
        user: 'contract',
        version: connector.defaultVersion,
        workDir,
        params: fixtures.launchParams ?? {},
        ...(fixtures.dataSource ? { dataSource: fixtures.dataSource } : {}),
      });
      engines.push(engine);
      return engine;
    }

    function task(code: string, signal: AbortSignal = new AbortController().signal) {
      taskSeq += 1;
      return { taskId: `contract-task-${taskSeq}`, code, codeType, runtimeParams: {}, signal };
    }

    /** Runs a task to its end, optionally pausing before each pull to consume slowly. */
    async function run(engine: Engine, code: string, options: { signal?: AbortSignal; slowPulls?: number } = {}): Promise<TaskRecord> {
      const events: EngineEvent[] = [];
      let pulls = 0;
      for await (const event of engine.execute(task(code, options.signal))) {
        events.push(event);
        pulls += 1;
        if (options.slowPulls && pulls <= options.slowPulls) await sleep(20);
      }
      return record(events);
    }

    it('describes itself', CASE, () => {
      assert.equal(connector.name, name);
      assert.ok(connector.versions.length > 0);
      assert.ok(connector.versions.includes(connector.defaultVersion), 'defaultVersion is one of versions');
      assert.ok(connector.codeTypes.length > 0);
      assert.ok(connector.codeTypes.includes(codeType), `code type ${codeType} is one of codeTypes`);
    });

    it('launches an engine that reports healthy', CASE, async () => {
      const engine = await launch();
      assert.equal(typeof engine.id, 'string');
      assert.ok(engine.id.length > 0);
      const health = await engine.health();
      assert.equal(health.ok, true, health.detail);
      if (fixtures.localProcess) {
        assert.ok(Number.isInteger(engine.pid) && (engine.pid ?? 0) > 0, 'a local-process engine has a pid');
        assert.doesNotThrow(() => process.kill(engine.pid!, 0), 'the engine process exists');
      }
    });

    it('runs the simple task and produces its events', CASE, async () => {
      const engine = await launch();
      const result = await run(engine, fixtures.simple.code);
      assert.ok(result.events.length > 0, 'a task produces events');
      assertOutput(result, fixtures.simple, 'simple');
      for (const set of result.resultSets) {
        for (const row of set.rows) assert.equal(row.length, set.columns.length, 'each row has one value per column');
      }
      for (const event of result.events) {
        if (event.type === 'progress') assert.ok(event.progress >= 0 && event.progress <= 1, 'progress is between 0 and 1');
      }
    });

    it('fails a user error with a SluiceError of category user that is not retryable', CASE, async () => {
      const engine = await launch();
      const err = await rejection(run(engine, fixtures.userError.code), 'the user-error task');
      assert.ok(err instanceof SluiceError, `expected a SluiceError, got ${String(err)}`);
      assert.equal(err.category, 'user');
      assert.equal(err.retryable, false);
      if (fixtures.userError.errorCode) assert.equal(err.code, fixtures.userError.errorCode);
      // The error is the task's, not the engine's: the engine stays usable.
      assertOutput(await run(engine, fixtures.simple.code), fixtures.simple, 'simple after a user error');
    });

    it('refuses a task whose signal is already aborted with SLUICE_JOB_CANCELLED', CASE, async () => {
      const engine = await launch();
      const controller = new AbortController();
      controller.abort();
      const err = await rejection(run(engine, fixtures.simple.code, { signal: controller.signal }), 'an aborted task');
      assertSluiceError(err, 'SLUICE_JOB_CANCELLED');
    });

    it('cancels the slow task within 5 s, and the same engine then runs the simple task', CASE, async () => {
      const engine = await launch();
      const controller = new AbortController();
      const running = run(engine, fixtures.slow.code, { signal: controller.signal });
      const early = await Promise.race([
        running.then(
          () => 'finished' as const,
          () => 'failed' as const,
        ),
        sleep(700, 'running' as const),
      ]);
      assert.equal(early, 'running', 'the slow task is still running after 0.7 s');
      const abortedAt = Date.now();
      controller.abort();
      const err = await rejection(running, 'the cancelled slow task');
      const took = Date.now() - abortedAt;
      assertSluiceError(err, 'SLUICE_JOB_CANCELLED');
      assert.ok(took < 5000, `cancel took ${took} ms`);
      assert.equal((await engine.health()).ok, true);
      assertOutput(await run(engine, fixtures.simple.code), fixtures.simple, 'simple after a cancel');
    });

    it('keeps two engines isolated', CASE, async () => {
      const [a, b] = await Promise.all([launch(), launch()]);
      assert.notEqual(a.id, b.id);
      if (fixtures.localProcess) assert.notEqual(a.pid, b.pid);
      // Both run at the same time and each gets its own answer.
      const [ra, rb] = await Promise.all([run(a, fixtures.simple.code), run(b, fixtures.simple.code)]);
      assertOutput(ra, fixtures.simple, 'simple on engine A');
      assertOutput(rb, fixtures.simple, 'simple on engine B');
      if (fixtures.sessionState) {
        const { setup, check } = fixtures.sessionState;
        await run(a, setup);
        const onB = await run(b, check.code).then(
          (r) => matchesOutput(r, check),
          () => false,
        );
        assert.equal(onB, false, 'state set up on engine A is not visible on engine B');
        assertOutput(await run(a, check.code), check, 'session state on engine A');
      }
    });

    if (fixtures.sessionState) {
      const state = fixtures.sessionState;
      it('keeps session state across tasks on one engine', CASE, async () => {
        const engine = await launch();
        const before = await run(engine, state.check.code).then(
          (r) => matchesOutput(r, state.check),
          () => false,
        );
        assert.equal(before, false, 'the check does not pass before the setup ran');
        await run(engine, state.setup);
        assertOutput(await run(engine, fixtures.simple.code), fixtures.simple, 'a task between setup and check');
        assertOutput(await run(engine, state.check.code), state.check, 'session state');
      });
    }

    if (fixtures.large) {
      const large = fixtures.large;
      it(`delivers a large output (${large.count} ${large.unit}) consumed slowly, exactly`, CASE, async () => {
        const engine = await launch();
        const result = await run(engine, large.code, { slowPulls: 25 });
        if (large.unit === 'rows') {
          assert.equal(result.rowCount, large.count);
          const batches = result.events.filter((e) => e.type === 'rows').length;
          assert.ok(batches > 1, `a large result arrives in several batches, got ${batches}`);
        } else {
          assert.equal(result.logs.length, large.count);
        }
      });
    }

    it('close() stops the engine and is safe to call twice', CASE, async () => {
      const engine = await launch();
      assertOutput(await run(engine, fixtures.simple.code), fixtures.simple, 'simple before close');
      const exits: string[] = [];
      engine.onExit((reason) => exits.push(reason));
      await engine.close();
      await engine.close();
      assert.equal((await engine.health()).ok, false, 'a closed engine is not healthy');
      if (fixtures.localProcess) assert.throws(() => process.kill(engine.pid!, 0), 'the engine process is gone');
      const err = await rejection(run(engine, fixtures.simple.code), 'a task on a closed engine');
      assert.ok(err instanceof SluiceError, `a closed engine fails tasks with a SluiceError, got ${String(err)}`);
      await sleep(50);
      assert.deepEqual(exits, [], 'onExit does not fire for close()');
    });

    it('close() stops a running task', CASE, async () => {
      const engine = await launch();
      const running = rejection(run(engine, fixtures.slow.code), 'a task running during close()');
      await sleep(500);
      const closedAt = Date.now();
      await engine.close();
      const err = await running;
      assertSluiceError(err, 'SLUICE_ENGINE_CRASHED');
      assert.equal(err.retryable, true, 'a task stopped by close() may run again elsewhere');
      assert.ok(Date.now() - closedAt < 5000, 'close() ends the running task promptly');
    });

    if (fixtures.localProcess) {
      it('reports a kill -9 of the engine process: the running task fails with SLUICE_ENGINE_CRASHED and onExit fires once', CASE, async () => {
        const engine = await launch();
        const exits: string[] = [];
        engine.onExit((reason) => exits.push(reason));
        const running = rejection(run(engine, fixtures.slow.code), 'a task whose engine was killed');
        await sleep(500);
        assert.ok(engine.pid, 'a local-process engine has a pid');
        process.kill(engine.pid, 'SIGKILL');
        const err = await running;
        assertSluiceError(err, 'SLUICE_ENGINE_CRASHED');
        assert.equal(err.retryable, true);
        await sleep(100);
        assert.equal(exits.length, 1, `onExit fired ${exits.length} times`);
        assert.equal((await engine.health()).ok, false);
        const next = await rejection(run(engine, fixtures.simple.code), 'a task on a dead engine');
        assertSluiceError(next, 'SLUICE_ENGINE_CRASHED');
        await engine.close();
        assert.equal(exits.length, 1, 'close() after a crash does not fire onExit again');
      });
    }
  });
}
