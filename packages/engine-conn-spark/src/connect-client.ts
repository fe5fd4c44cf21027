import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { SluiceError } from '@sluice/core';
import type { ConnectProtocol } from './connect-protos.ts';
import { errorInfoOf, type GrpcFailure, mapConnectError } from './error-mapping.ts';
import type { ExecutePlanResponse, SparkConnectServiceMethods, UserContext } from './generated/spark-connect.ts';

export type { ExecutePlanResponse } from './generated/spark-connect.ts';

/** The methods of the service that take one request and answer one response. */
type UnaryMethod = {
  [M in keyof SparkConnectServiceMethods]: SparkConnectServiceMethods[M] extends { requestStream: false; responseStream: false } ? M : never;
}[keyof SparkConnectServiceMethods];
type RequestOf<M extends keyof SparkConnectServiceMethods> = SparkConnectServiceMethods[M]['request'];
type ResponseOf<M extends keyof SparkConnectServiceMethods> = SparkConnectServiceMethods[M]['response'];
/** The fields every request of a session carries; {@link ConnectClient} fills them in. */
type SessionFields = 'session_id' | 'user_context' | 'client_type';

/** A running ExecutePlan call: its responses in order (pulling is the flow control), and cancel. */
export interface PlanExecution {
  operationId: string;
  responses: AsyncIterable<ExecutePlanResponse>;
  /** Drops the call on the client side (the server then stops the operation). */
  cancel(): void;
}

/** Where and as whom a client talks to a Spark Connect server. */
export interface ConnectClientOptions {
  /** `host:port`. */
  target: string;
  /** The Sluice user; Spark Connect keeps separate sessions per user id. */
  userId: string;
  /** Bearer token for servers behind an authenticating proxy. */
  token?: string;
  tls?: boolean;
  /** Name the server logs for this client. */
  clientType?: string;
}

type Unary<M extends UnaryMethod> = (
  request: RequestOf<M>,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, res: ResponseOf<M>) => void,
) => void;
type ServerStream = (
  request: RequestOf<'ExecutePlan'>,
  metadata: grpc.Metadata,
  options?: grpc.CallOptions,
) => grpc.ClientReadableStream<ResponseOf<'ExecutePlan'>>;

/**
 * A Spark Connect session over gRPC: one session id for the lifetime of the client, so temporary
 * views, `SET`s and the current database carry over from one task to the next on the same engine.
 */
export class ConnectClient {
  readonly sessionId = randomUUID();
  private readonly client: grpc.Client;
  private readonly userContext: UserContext;
  private readonly clientType: string;

  /** `channel`: the gRPC client of another session on the same server, shared (see {@link forUser}). */
  constructor(
    private readonly protocol: ConnectProtocol,
    private readonly options: ConnectClientOptions,
    private readonly channel?: grpc.Client,
  ) {
    const credentials = options.tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
    this.client =
      channel ??
      new protocol.Service(options.target, credentials, {
        'grpc.max_receive_message_length': 256 * 1024 * 1024,
        'grpc.max_send_message_length': 128 * 1024 * 1024,
        'grpc.keepalive_time_ms': 30_000,
        'grpc.keepalive_timeout_ms': 20_000,
        'grpc.keepalive_permit_without_calls': 0,
      });
    this.userContext = { user_id: options.userId, user_name: options.userId };
    this.clientType = options.clientType ?? 'sluice';
  }

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.options.token) md.set('authorization', `Bearer ${this.options.token}`);
    return md;
  }

  private base(): { session_id: string; user_context: UserContext; client_type: string } {
    return { session_id: this.sessionId, user_context: this.userContext, client_type: this.clientType };
  }

  /** One unary call of the generated service, typed by its request and response messages. */
  private unary<M extends UnaryMethod>(method: M, request: Omit<RequestOf<M>, SessionFields>, timeoutMs: number): Promise<ResponseOf<M>> {
    const fn = (this.client as unknown as Record<M, Unary<M>>)[method];
    const full = { ...this.base(), ...request } as RequestOf<M>;
    return new Promise<ResponseOf<M>>((resolve, reject) => {
      fn.call(this.client, full, this.metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(this.mapError(err)) : resolve(res)));
    });
  }

  /** Maps a failed call to a SluiceError with the Spark error class, if the server sent one. */
  mapError(err: GrpcFailure): SluiceError {
    return mapConnectError(err, errorInfoOf(this.protocol.root, err));
  }

  /** Values of configuration keys in this session; unset keys are absent. */
  async getConf(keys: string[], timeoutMs = 10_000): Promise<Record<string, string>> {
    const res = await this.unary('Config', { operation: { get_option: { keys } } }, timeoutMs);
    const out: Record<string, string> = {};
    for (const pair of res.pairs ?? []) if (pair.key !== undefined && pair.value !== undefined && pair.value !== null) out[pair.key] = pair.value;
    return out;
  }

  /** Sets configuration of this session (runtime settings only; Spark refuses static ones). */
  async setConf(pairs: Record<string, string>, timeoutMs = 10_000): Promise<void> {
    const list = Object.entries(pairs).map(([key, value]) => ({ key, value }));
    if (list.length > 0) await this.unary('Config', { operation: { set: { pairs: list } } }, timeoutMs);
  }

  /** Unsets configuration keys of this session. */
  async unsetConf(keys: string[], timeoutMs = 10_000): Promise<void> {
    if (keys.length > 0) await this.unary('Config', { operation: { unset: { keys } } }, timeoutMs);
  }

  /** Runs one SQL statement; results, schema and progress stream back. */
  executeSql(query: string, tags: string[]): PlanExecution {
    const operationId = randomUUID();
    const fn = (this.client as unknown as { ExecutePlan: ServerStream }).ExecutePlan;
    const call = fn.call(this.client, { ...this.base(), operation_id: operationId, plan: { root: { sql: { query } } }, tags }, this.metadata());
    // Errors surface through the iterator; this listener only keeps an unread error from being unhandled.
    call.on('error', () => {});
    return { operationId, responses: call, cancel: () => call.cancel() };
  }

  /** Interrupts one operation; the session and the engine stay usable. */
  async interrupt(operationId: string, timeoutMs = 5_000): Promise<string[]> {
    const res = await this.unary('Interrupt', { interrupt_type: 'INTERRUPT_TYPE_OPERATION_ID', operation_id: operationId }, timeoutMs);
    return res.interrupted_ids ?? [];
  }

  /** The Spark version of the server (`AnalyzePlan` with `spark_version`), e.g. `4.1.4`. */
  async sparkVersion(timeoutMs = 10_000): Promise<string> {
    const res = await this.unary('AnalyzePlan', { spark_version: {} }, timeoutMs);
    return res.spark_version?.version ?? '';
  }

  /** Releases the session on the server: its temporary views and settings are dropped. */
  async releaseSession(timeoutMs = 5_000): Promise<void> {
    await this.unary('ReleaseSession', {}, timeoutMs);
  }

  /**
   * Another session on the same server and channel, for another user: its own session id, so its
   * temporary views and settings are its own. Closing it leaves the channel open.
   */
  forUser(userId: string): ConnectClient {
    return new ConnectClient(this.protocol, { ...this.options, userId }, this.client);
  }

  /** Closes the channel (a session made by {@link forUser} does not own it). */
  close(): void {
    if (!this.channel) this.client.close();
  }
}
