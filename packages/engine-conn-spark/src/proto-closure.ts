import protobuf from 'protobufjs';
import { readZipEntries } from './zip-entries.ts';

/** The .proto files the connector's protocol is built from; their imports are followed inside the same jar. */
export const ROOT_PROTOS = ['spark/connect/base.proto', 'google/rpc/status.proto', 'google/rpc/error_details.proto'] as const;

/** The `.proto` entries of a Spark Connect jar that the closure may need, by path inside the jar. */
export function readConnectProtoSources(jar: string): Promise<Map<string, Buffer>> {
  return readZipEntries(jar, (name) => name.endsWith('.proto') && (name.startsWith('spark/connect/') || name.startsWith('google/')));
}

/** A parsed closure of .proto files: the resolved root and the files it was built from, sorted. */
export interface ProtoClosure {
  root: protobuf.Root;
  files: string[];
}

/**
 * Parses {@link ROOT_PROTOS} and everything they import (transitively) from `sources`, each file
 * once, in a fixed order, so the same sources always give the same root. Names keep the protos'
 * snake_case (`keepCase`), as the gRPC loader is configured to. Comments are kept (the type emitter
 * turns them into TSDoc).
 */
export function parseProtoClosure(sources: ReadonlyMap<string, Buffer>): ProtoClosure {
  const root = new protobuf.Root();
  const done = new Set<string>();
  const pending: string[] = [...ROOT_PROTOS];
  while (pending.length > 0) {
    const file = pending.shift() as string;
    if (done.has(file)) continue;
    const source = sources.get(file);
    if (!source) throw new Error(`the Spark Connect artifact has no ${file}`);
    // alternateCommentMode: Spark's protos document fields with `//` comments, which the default mode drops.
    const parsed = protobuf.parse(source.toString('utf8'), root, { keepCase: true, alternateCommentMode: true });
    done.add(file);
    const imports = [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])].sort();
    for (const imported of imports) if (!done.has(imported)) pending.push(imported);
  }
  root.resolveAll();
  return { root, files: [...done].sort() };
}
