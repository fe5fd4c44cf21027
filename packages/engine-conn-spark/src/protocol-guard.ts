import { SluiceError } from '@sluice/core';
import { GENERATED_PROTOCOL } from './generated/spark-connect.ts';

/**
 * How a server's Spark version relates to the release the protocol was generated from:
 * - `same`: same major and minor version (patch releases do not change the protocol);
 * - `minor`: same major, other minor: compatible (protobuf skips fields one side does not know, and
 *   every field this connector uses exists in all of Spark 4), but worth a warning;
 * - `major`: another major version: refused, Spark Connect makes no promise across majors;
 * - `unknown`: the server's version could not be read.
 */
export type ProtocolMatch = 'same' | 'minor' | 'major' | 'unknown';

function majorMinor(version: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)(?:[.-]|$)/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** Compares a server's Spark version with the generated protocol's (see {@link ProtocolMatch}). */
export function protocolMatch(serverVersion: string, generatedVersion: string = GENERATED_PROTOCOL.sparkVersion): ProtocolMatch {
  const server = majorMinor(serverVersion);
  const generated = majorMinor(generatedVersion);
  if (!server || !generated) return 'unknown';
  if (server[0] !== generated[0]) return 'major';
  return server[1] === generated[1] ? 'same' : 'minor';
}

const warned = new Set<string>();

/**
 * The run-time guard against protocol drift, called before an engine is used: a server of another
 * major Spark version is refused with SLUICE_ENGINE_VERSION_UNSUPPORTED, which is not retried (details carry both versions); one
 * of another minor version, or whose version is unreadable, is accepted with one warning per
 * version per process.
 */
export function checkServerVersion(serverVersion: string, where: string, warn: (message: string) => void): void {
  const generated = GENERATED_PROTOCOL.sparkVersion;
  const match = protocolMatch(serverVersion, generated);
  if (match === 'same') return;
  if (match === 'major') {
    throw new SluiceError('SLUICE_ENGINE_VERSION_UNSUPPORTED', {
      engine: 'spark',
      reason: `${where} runs Spark ${serverVersion}, but this connector speaks the Spark Connect protocol of Spark ${generated}; regenerate it for that release (npm run generate:spark-protocol) or use a Spark ${generated.split('.')[0]}.x server`,
      serverVersion,
      protocolVersion: generated,
    });
  }
  if (warned.has(serverVersion)) return;
  warned.add(serverVersion);
  warn(
    match === 'minor'
      ? `${where} runs Spark ${serverVersion}; the Spark Connect protocol was generated from Spark ${generated}. Same major version, so it is used, but features of either side's newer minor release are unknown to the other.`
      : `${where} reports an unreadable Spark version "${serverVersion}"; the Spark Connect protocol was generated from Spark ${generated}.`,
  );
}

/** The default warning channel: a Node.js process warning (printed once to stderr), code SLUICE_SPARK_PROTOCOL_VERSION. */
export function processWarning(message: string): void {
  process.emitWarning(message, { code: 'SLUICE_SPARK_PROTOCOL_VERSION' });
}
