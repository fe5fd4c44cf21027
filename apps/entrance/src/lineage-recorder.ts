import { type DataSourceConnection, type JobState, parseEngineType } from '@sluice/core';
import {
  buildRunEvent,
  type Dialect,
  type FrontEndChoice,
  isSqlCodeType,
  LineageExtractor,
  type LineageResult,
  lineageSeqOffset,
  type RunEventType,
} from '@sluice/metadata-hook';
import type { JobRow } from './job-store.ts';

/** What the recorder reads of a job: a stored row, or a job being submitted (attempt 0). */
export type LineageJob = Pick<JobRow, 'id' | 'attempt' | 'engine_type' | 'code_type' | 'code' | 'labels'>;

/** An OpenLineage event to write into the outbox in the same statement as a job's state change. */
export interface LineageRecord {
  event: unknown;
  seqOffset: number;
}

const DIALECT_OF_TYPE: Record<string, Dialect> = {
  postgresql: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  clickhouse: 'mysql',
  trino: 'trino',
  presto: 'presto',
  spark: 'spark',
  'flink-sql-gateway': 'flink',
  'duckdb-file': 'duckdb',
};
const DIALECT_OF_ENGINE: Record<string, Dialect> = { duckdb: 'duckdb', trino: 'trino', presto: 'presto', spark: 'spark', flink: 'flink', jdbc: 'postgres' };
const SCHEME_OF_TYPE: Record<string, string> = { postgresql: 'postgres', 'flink-sql-gateway': 'flink' };
/** Dialects an engine's jobs may be written in: a JDBC job's comes from its data source. */
const DIALECTS_OF_ENGINE: Record<string, Dialect[]> = {
  ...Object.fromEntries(Object.entries(DIALECT_OF_ENGINE).map(([e, d]) => [e, [d]])),
  jdbc: ['postgres', 'mysql'],
};

type Analysis = { lineage?: LineageResult; dialect?: Dialect; dataSource?: { name: string; uri: string } };

/**
 * Builds the OpenLineage events of a job's life: START when it starts running (RUNNING on a retry),
 * COMPLETE, FAIL or ABORT at the end. Dataset namespaces come from the data source (`postgres://h:p`,
 * `trino://h:p`) or the engine (`duckdb://sluice`). Extraction runs once per attempt, in the
 * extractor's worker threads (off the event loop), and never fails a job.
 */
/** Statements up to this size have their lineage remembered by text. */
const MAX_REMEMBERED_CODE = 16 * 1024;
const MAX_REMEMBERED = 500;

export class LineageRecorder {
  private readonly cache = new Map<string, Promise<Analysis>>();
  /**
   * Lineage by (dialect, namespace, defaults, code text), least recently used first: the same text in
   * the same place reads and writes the same datasets, and dashboards and schedulers send the same
   * statements again and again. A hit skips the parse (and the trip to a worker thread).
   */
  private readonly byText = new Map<string, Promise<LineageResult | undefined>>();
  private readonly extractor: LineageExtractor;

  /**
   * `extractor`: the worker pool that parses the SQL; the caller owns it and closes it. Without one,
   * the recorder parses inline (the pool with no workers).
   */
  constructor(private readonly opts: { namespace: string; parser?: FrontEndChoice; extractor?: LineageExtractor }) {
    this.extractor = opts.extractor ?? new LineageExtractor({ workers: 0 });
  }

  /** Has the extractor load, in the background, the grammars of the dialects these engines' jobs use. */
  warmUp(engines: readonly string[]): void {
    if (this.opts.parser === 'built-in') return;
    this.extractor.warmUp(engines.flatMap((e) => DIALECTS_OF_ENGINE[e] ?? []));
  }

  private analyse(row: LineageJob, ds?: DataSourceConnection): Promise<Analysis> {
    const key = `${row.id}.${row.attempt}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const engine = parseEngineType(row.engine_type).name;
    const dialect = ds ? DIALECT_OF_TYPE[ds.type] : DIALECT_OF_ENGINE[engine];
    let namespace = `${engine}://sluice`;
    let dataSource: { name: string; uri: string } | undefined;
    let defaults: { defaultCatalog?: string; defaultSchema?: string } = {};
    if (ds) {
      const host = String(ds.params.host ?? 'localhost');
      namespace = `${SCHEME_OF_TYPE[ds.type] ?? ds.type}://${host}${ds.params.port ? `:${ds.params.port}` : ''}`;
      dataSource = { name: ds.name, uri: namespace };
      const db = typeof ds.params.database === 'string' ? ds.params.database : undefined;
      defaults =
        ds.type === 'postgresql'
          ? { defaultCatalog: db, defaultSchema: 'public' }
          : ds.type === 'trino' || ds.type === 'presto'
            ? { defaultCatalog: ds.params.catalog as string | undefined, defaultSchema: ds.params.schema as string | undefined }
            : { defaultCatalog: db };
    }
    const out = (async (): Promise<Analysis> => {
      const lineage = dialect && isSqlCodeType(row.code_type) ? await this.extract(row.code, dialect, namespace, defaults) : undefined;
      return { lineage, dialect, dataSource };
    })();
    if (this.cache.size > 2000) this.cache.clear();
    this.cache.set(key, out);
    return out;
  }

  private extract(code: string, dialect: Dialect, namespace: string, defaults: { defaultCatalog?: string; defaultSchema?: string }) {
    const run = () => this.extractor.extract(code, dialect, { namespace, ...defaults }, { frontEnd: this.opts.parser });
    if (code.length > MAX_REMEMBERED_CODE) return run();
    const key = JSON.stringify([dialect, namespace, defaults.defaultCatalog ?? null, defaults.defaultSchema ?? null, code]);
    let found = this.byText.get(key);
    if (found)
      this.byText.delete(key); // re-inserted below: most recently used last
    else {
      found = run();
      // Only a clean parse is remembered: an error may be passing (a worker that died, a timeout).
      const forget = () => {
        if (this.byText.get(key) === found) this.byText.delete(key);
      };
      found.then((r) => (r?.errors.length ? forget() : undefined), forget);
    }
    this.byText.set(key, found);
    if (this.byText.size > MAX_REMEMBERED) this.byText.delete(this.byText.keys().next().value as string);
    return found;
  }

  /**
   * Whether a job reads or writes a dataset, as its lineage tells: true also when the lineage is
   * unknown (code that is not SQL) or partly unknown (a statement the parser could not read), since
   * such a job may well touch one.
   */
  async touchesData(row: LineageJob, ds?: DataSourceConnection): Promise<boolean> {
    const { lineage } = await this.analyse(row, ds);
    const touches = !lineage || lineage.inputs.length > 0 || lineage.outputs.length > 0 || lineage.errors.length > 0;
    // A job whose events are not built forgets its analysis now (ended() would have).
    if (!touches) this.cache.delete(`${row.id}.${row.attempt}`);
    return touches;
  }

  private async build(row: LineageJob, eventType: RunEventType, extra: { ds?: DataSourceConnection; error?: string }): Promise<LineageRecord> {
    const { lineage, dialect, dataSource } = await this.analyse(row, extra.ds);
    const engine = parseEngineType(row.engine_type);
    const event = buildRunEvent({
      eventType,
      job: { id: row.id, namespace: this.opts.namespace, code: row.code, codeType: row.code_type, labels: row.labels },
      dialect,
      engine: { name: engine.name, version: engine.version ?? '' },
      lineage,
      error: extra.error ? { message: extra.error } : undefined,
      dataSource,
    });
    return { event, seqOffset: lineageSeqOffset(eventType) };
  }

  /** The event of a job that starts running: START, or RUNNING for a retry. */
  started(row: LineageJob, ds?: DataSourceConnection): Promise<LineageRecord> {
    return this.build(row, row.attempt === 0 ? 'START' : 'RUNNING', { ds });
  }

  /** The event of a job that ended in `to`. */
  async ended(row: LineageJob, to: JobState, extra: { ds?: DataSourceConnection; error?: string } = {}): Promise<LineageRecord> {
    const type: RunEventType = to === 'Succeed' ? 'COMPLETE' : to === 'Cancelled' ? 'ABORT' : 'FAIL';
    const record = await this.build(row, type, extra);
    this.cache.delete(`${row.id}.${row.attempt}`);
    return record;
  }
}
