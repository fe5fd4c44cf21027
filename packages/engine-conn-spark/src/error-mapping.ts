import { status as GrpcStatus, type Metadata } from '@grpc/grpc-js';
import { SluiceError } from '@sluice/core';
import type protobuf from 'protobufjs';

/** The `google.rpc.ErrorInfo` a Spark Connect server attaches to a failed call. */
export interface SparkErrorInfo {
  /** The exception class, e.g. `org.apache.spark.sql.AnalysisException`. */
  reason: string;
  domain: string;
  metadata: Record<string, string>;
}

/** What a failed gRPC call carries: its status code, message and trailing metadata. */
export interface GrpcFailure {
  code?: number;
  details?: string;
  message?: string;
  metadata?: Metadata;
}

const MAX_REASON = 4000;

/** Decodes the `grpc-status-details-bin` trailer into its `ErrorInfo`, if the server sent one. */
export function errorInfoOf(root: protobuf.Root, failure: GrpcFailure): SparkErrorInfo | undefined {
  const raw = failure.metadata?.get('grpc-status-details-bin')?.[0];
  if (!raw || typeof raw === 'string') return undefined;
  try {
    const Status = root.lookupType('google.rpc.Status');
    const ErrorInfo = root.lookupType('google.rpc.ErrorInfo');
    const status = Status.toObject(Status.decode(raw)) as { details?: { type_url: string; value: Uint8Array }[] };
    for (const detail of status.details ?? []) {
      if (!detail.type_url.endsWith('/google.rpc.ErrorInfo')) continue;
      const info = ErrorInfo.toObject(ErrorInfo.decode(detail.value)) as Partial<SparkErrorInfo>;
      return { reason: info.reason ?? '', domain: info.domain ?? '', metadata: info.metadata ?? {} };
    }
  } catch {
    // an undecodable trailer is treated like no trailer
  }
  return undefined;
}

function parseJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** gRPC codes that mean the engine could not be reached or dropped the call: not the query's fault. */
const TRANSPORT_CODES: ReadonlySet<number> = new Set([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.UNKNOWN]);

/**
 * Maps a failed Spark Connect call to a SluiceError. An error the server explains with an ErrorInfo
 * (analysis, parse, runtime errors of the query) is the user's: SLUICE_ENGINE_QUERY_FAILED with the
 * Spark error class, SQLSTATE, message parameters and exception class in its details. A call that
 * never reached Spark or lost its connection is the engine's: SLUICE_ENGINE_CRASHED (retryable).
 */
export function mapConnectError(failure: GrpcFailure, info: SparkErrorInfo | undefined): SluiceError {
  const message = (failure.details || failure.message || 'the call failed').trim();
  if (info && info.domain === 'org.apache.spark') {
    const details: Record<string, unknown> = { engine: 'spark', reason: message.slice(0, MAX_REASON), exception: info.reason };
    if (info.metadata.errorClass) details.errorClass = info.metadata.errorClass;
    if (info.metadata.sqlState) details.sqlState = info.metadata.sqlState;
    const parameters = parseJson(info.metadata.messageParameters);
    if (parameters && typeof parameters === 'object' && Object.keys(parameters).length > 0) details.messageParameters = parameters;
    if (info.metadata.errorId) details.errorId = info.metadata.errorId;
    return new SluiceError('SLUICE_ENGINE_QUERY_FAILED', details);
  }
  if (failure.code === undefined || TRANSPORT_CODES.has(failure.code) || failure.code === GrpcStatus.CANCELLED) {
    return new SluiceError('SLUICE_ENGINE_CRASHED', { engine: 'spark', reason: message.slice(0, MAX_REASON) });
  }
  return new SluiceError('SLUICE_ENGINE_QUERY_FAILED', { engine: 'spark', reason: message.slice(0, MAX_REASON), grpcCode: failure.code });
}
