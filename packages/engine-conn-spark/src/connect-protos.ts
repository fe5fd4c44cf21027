import { readdir } from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { readZipEntries } from './zip-entries.ts';

/** The .proto files the client is built from; their imports are followed inside the same jar. */
export const ROOT_PROTOS = ['spark/connect/base.proto', 'google/rpc/status.proto', 'google/rpc/error_details.proto'] as const;

/** The Spark Connect protocol as loaded from one jar: the gRPC client class and message codecs. */
export interface ConnectProtocol {
  /** The jar the .proto files were read from. */
  jar: string;
  /** The `.proto` files that were parsed, by path inside the jar. */
  files: readonly string[];
  /** gRPC client class of `spark.connect.SparkConnectService`. */
  Service: grpc.ServiceClientConstructor;
  /** The parsed protobuf root, for decoding `google.rpc.Status` details and `Any` payloads. */
  root: protobuf.Root;
}

/** Where Spark keeps its jars: `<sparkHome>/jars`. */
export function sparkJarsDir(sparkHome: string): string {
  return path.join(sparkHome, 'jars');
}

/**
 * The Spark Connect server jar of a Spark distribution (`jars/spark-connect_<scala>-<version>.jar`).
 * Spark 4.x ships it; Spark 3.x distributions do not, which is why this connector needs Spark 4.
 */
export async function findConnectJar(sparkHome: string): Promise<string> {
  const dir = sparkJarsDir(sparkHome);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new Error(`no Spark distribution at ${sparkHome}: ${(err as Error).message}`);
  }
  const jar = names.filter((n) => /^spark-connect_2\.1[23]-.+\.jar$/.test(n)).sort()[0];
  if (!jar) throw new Error(`${dir} has no spark-connect_2.13-*.jar: Spark Connect needs a Spark 4.x distribution`);
  return path.join(dir, jar);
}

/** Follows the imports of the root files through the jar's .proto entries; parses each once. */
function parseClosure(sources: Map<string, Buffer>): { root: protobuf.Root; files: string[] } {
  const root = new protobuf.Root();
  const done = new Set<string>();
  const pending: string[] = [...ROOT_PROTOS];
  while (pending.length > 0) {
    const file = pending.shift() as string;
    if (done.has(file)) continue;
    const source = sources.get(file);
    if (!source) throw new Error(`the Spark Connect jar has no ${file}`);
    const parsed = protobuf.parse(source.toString('utf8'), root, { keepCase: true, alternateCommentMode: false });
    done.add(file);
    for (const imported of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) if (!done.has(imported)) pending.push(imported);
  }
  root.resolveAll();
  return { root, files: [...done].sort() };
}

const cache = new Map<string, Promise<ConnectProtocol>>();

/**
 * Builds the Spark Connect client from the `.proto` files inside the server's own jar, at run time
 * (no generated code in the tree): the protocol always matches the Spark it talks to. Field names
 * keep the protos' snake_case; int64 values are decimal strings, enums their names, bytes Buffers.
 * Cached per jar.
 */
export function loadConnectProtocol(jar: string): Promise<ConnectProtocol> {
  let loading = cache.get(jar);
  if (!loading) {
    loading = (async () => {
      const sources = await readZipEntries(jar, (name) => name.endsWith('.proto') && (name.startsWith('spark/connect/') || name.startsWith('google/')));
      const { root, files } = parseClosure(sources);
      const definition = fromJSON(root.toJSON(), { keepCase: true, longs: String, enums: String, bytes: Buffer, defaults: false, oneofs: true });
      const loaded = grpc.loadPackageDefinition(definition) as unknown as { spark: { connect: { SparkConnectService: grpc.ServiceClientConstructor } } };
      const Service = loaded.spark?.connect?.SparkConnectService;
      if (!Service) throw new Error(`${jar} defines no spark.connect.SparkConnectService`);
      return { jar, files, Service, root };
    })();
    loading.catch(() => cache.delete(jar));
    cache.set(jar, loading);
  }
  return loading;
}
