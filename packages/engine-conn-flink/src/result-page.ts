import type { Row } from '@sluice/core';
import { GatewayProtocolError } from './gateway-errors.ts';
import { decodeValue, type FlinkColumn } from './logical-type.ts';
import { plainJson } from './lossless-json.ts';

/** What a fetch returned: no result yet, a page of rows, or the end of the result. */
export type ResultType = 'NOT_READY' | 'PAYLOAD' | 'EOS';

/** `SUCCESS`: the statement ran and has no content (DDL, SET); `SUCCESS_WITH_CONTENT`: it has rows. */
export type ResultKind = 'SUCCESS' | 'SUCCESS_WITH_CONTENT';

/** Flink's changelog row kinds, in their short form: insert, update-before, update-after, delete. */
export type RowKind = '+I' | '-U' | '+U' | '-D';

const ROW_KINDS: Record<string, RowKind> = { INSERT: '+I', UPDATE_BEFORE: '-U', UPDATE_AFTER: '+U', DELETE: '-D' };

/** The short form of a row kind name of the JSON row format (`INSERT` → `+I`). */
export function rowKindOf(name: string): RowKind {
  const kind = ROW_KINDS[name];
  if (!kind) throw new GatewayProtocolError(`unknown row kind ${JSON.stringify(name)}`);
  return kind;
}

/** One decoded row of a result page: its changelog kind and its values in column order. */
export interface ChangelogRow {
  kind: RowKind;
  fields: Row;
}

/**
 * One response of `GET …/operations/{oh}/result/{token}`, decoded. The v1 API sends only
 * `resultType`, `results` and `nextResultUri`; `isQueryResult`, `jobId` and `resultKind` come with v2+.
 */
export interface ResultPage {
  resultType: ResultType;
  /** True for the rows of a query (SELECT); false for DDL, SET, SHOW, EXPLAIN and submitted DML. */
  isQueryResult?: boolean;
  /** The Flink job the statement submitted, if any. */
  jobId?: string;
  resultKind?: ResultKind;
  /** The result's columns; absent on NOT_READY. */
  columns?: FlinkColumn[];
  rows: ChangelogRow[];
  /** Where the next page is (a path with the API version and row format); absent at EOS. */
  nextResultUri?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Decodes a fetch response parsed with `parseLosslessJson`: row values are decoded by their
 * columns' logical types (BIGINT and DECIMAL exact), the envelope checked.
 */
export function decodeResultPage(body: unknown): ResultPage {
  if (!isRecord(body)) throw new GatewayProtocolError('a fetch response is not a JSON object');
  const resultType = body.resultType;
  if (resultType !== 'NOT_READY' && resultType !== 'PAYLOAD' && resultType !== 'EOS') {
    throw new GatewayProtocolError(`unknown resultType ${JSON.stringify(plainJson(resultType))}`);
  }
  const page: ResultPage = { resultType, rows: [] };
  if (typeof body.nextResultUri === 'string') page.nextResultUri = body.nextResultUri;
  if (typeof body.isQueryResult === 'boolean') page.isQueryResult = body.isQueryResult;
  if (typeof body.jobID === 'string') page.jobId = body.jobID;
  if (body.resultKind === 'SUCCESS' || body.resultKind === 'SUCCESS_WITH_CONTENT') page.resultKind = body.resultKind;
  if (resultType === 'NOT_READY') return page;
  const results = body.results;
  if (!isRecord(results)) throw new GatewayProtocolError(`a ${resultType} response has no results object`);
  if (!Array.isArray(results.columns)) throw new GatewayProtocolError('the results have no columns');
  const columns = plainJson(results.columns) as FlinkColumn[];
  for (const c of columns) {
    if (!isRecord(c) || typeof c.name !== 'string' || !isRecord(c.logicalType) || typeof c.logicalType.type !== 'string') {
      throw new GatewayProtocolError('a result column has no name or logical type');
    }
  }
  page.columns = columns;
  const data = results.data ?? [];
  if (!Array.isArray(data)) throw new GatewayProtocolError('the results data is not an array');
  const types = columns.map((c) => c.logicalType);
  for (const entry of data) {
    if (!isRecord(entry) || typeof entry.kind !== 'string' || !Array.isArray(entry.fields)) {
      throw new GatewayProtocolError('a result row is not {kind, fields}');
    }
    if (entry.fields.length !== columns.length) {
      throw new GatewayProtocolError(`a result row has ${entry.fields.length} fields for ${columns.length} columns`);
    }
    page.rows.push({ kind: rowKindOf(entry.kind), fields: entry.fields.map((v, i) => decodeValue(v, types[i])) });
  }
  return page;
}
