import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { GENERATED_PROTOCOL } from './generated/spark-connect.ts';

/** The Spark Connect protocol as generated at build time: the gRPC client class and message codecs. */
export interface ConnectProtocol {
  /** The Spark release whose published jar the protocol was generated from, e.g. `4.1.4`. */
  sparkVersion: string;
  /** The published artifact it was generated from (see the generated file's header). */
  source: string;
  /** The checksum that artifact was verified against. */
  checksum: string;
  /** The `.proto` files of the closure, by path inside the jar. */
  files: readonly string[];
  /** gRPC client class of `spark.connect.SparkConnectService`. */
  Service: grpc.ServiceClientConstructor;
  /** The protobuf root, for decoding `google.rpc.Status` details and `Any` payloads. */
  root: protobuf.Root;
}

/** Where Spark keeps its jars: `<sparkHome>/jars`. */
export function sparkJarsDir(sparkHome: string): string {
  return path.join(sparkHome, 'jars');
}

/**
 * The Spark Connect server jar of a Spark distribution (`jars/spark-connect_<scala>-<version>.jar`).
 * Spark 4.x ships it; Spark 3.x distributions do not, which is why this connector needs Spark 4.
 * Its name gives the distribution's version, which the protocol guard checks.
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

/** The generated descriptor file: protobufjs JSON plus where it came from. */
interface DescriptorFile {
  sparkVersion: string;
  source: string;
  checksum: string;
  files: string[];
  descriptor: protobuf.INamespace;
}

let loaded: ConnectProtocol | undefined;

/**
 * The Spark Connect client, built from the descriptor generated at build time
 * (`src/generated/spark-connect.json`, see scripts/generate-protocol.ts): no .proto text is parsed
 * and no Spark distribution is read. Field names keep the protos' snake_case; int64 values are
 * decimal strings, enums their names, bytes Buffers, which is the shape the generated types in
 * `src/generated/spark-connect.ts` describe. Built once per process.
 */
export function loadConnectProtocol(): ConnectProtocol {
  if (loaded) return loaded;
  const file = JSON.parse(readFileSync(new URL('./generated/spark-connect.json', import.meta.url), 'utf8')) as DescriptorFile;
  // The two generated files come from one run; a descriptor from another run would not match the types.
  if (file.sparkVersion !== GENERATED_PROTOCOL.sparkVersion || file.checksum !== GENERATED_PROTOCOL.checksum) {
    throw new Error(
      `the generated Spark Connect descriptor (${file.sparkVersion}, ${file.checksum}) and types (${GENERATED_PROTOCOL.sparkVersion}, ${GENERATED_PROTOCOL.checksum}) disagree: run npm run generate:spark-protocol`,
    );
  }
  const definition = fromJSON(file.descriptor, { keepCase: true, longs: String, enums: String, bytes: Buffer, defaults: false, oneofs: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { spark?: { connect?: { SparkConnectService?: grpc.ServiceClientConstructor } } };
  const Service = pkg.spark?.connect?.SparkConnectService;
  if (!Service) throw new Error('the generated Spark Connect descriptor defines no spark.connect.SparkConnectService');
  loaded = {
    sparkVersion: file.sparkVersion,
    source: file.source,
    checksum: file.checksum,
    files: file.files,
    Service,
    root: protobuf.Root.fromJSON(file.descriptor),
  };
  return loaded;
}
