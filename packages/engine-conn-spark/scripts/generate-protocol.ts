/**
 * Generates packages/engine-conn-spark/src/generated/ (the Spark Connect protocol descriptor and its
 * TypeScript types) from the .proto files inside a published Spark Connect jar.
 *
 *   generate-protocol.ts                  from the pyspark distribution of scripts/engines/spark.sh (the
 *                                         Spark the project tests with), checked against the wheel's RECORD
 *   generate-protocol.ts --maven 4.2.0    from org.apache.spark:spark-connect_2.13:4.2.0 on Maven Central,
 *                                         downloaded into the engine cache, checked against its .sha1
 *   --out <dir>                           write there instead of src/generated/
 *   --check                               write nothing; exit 1 if a committed file differs
 *
 * The engine cache is $SLUICE_ENGINE_CACHE, else <repo>/.cache/engines (never committed).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateProtocol, mavenArtifact, type ProtocolArtifact, pysparkArtifact } from '../src/protocol-codegen.ts';

const packageDir = path.resolve(import.meta.dirname, '..');
const repoRoot = path.resolve(packageDir, '../..');

const { values } = parseArgs({ options: { maven: { type: 'string' }, out: { type: 'string' }, check: { type: 'boolean', default: false } } });
const outDir = path.resolve(values.out ?? path.join(packageDir, 'src/generated'));
const cacheDir = process.env.SLUICE_ENGINE_CACHE || path.join(repoRoot, '.cache/engines');

try {
  const artifact: ProtocolArtifact = values.maven ? await mavenArtifact(values.maven, cacheDir) : await pysparkArtifact(repoRoot);
  const files = await generateProtocol(artifact);
  const stale: string[] = [];
  if (!values.check) await mkdir(outDir, { recursive: true });
  for (const [name, text] of files) {
    const file = path.join(outDir, name);
    const current = await readFile(file, 'utf8').catch(() => undefined);
    if (current === text) continue;
    stale.push(path.relative(repoRoot, file));
    if (!values.check) await writeFile(file, text);
  }
  const from = `${artifact.source}@${artifact.sparkVersion} (${artifact.checksum})`;
  if (values.check && stale.length > 0) {
    console.error(`generate-protocol: stale, regenerate with npm run generate:spark-protocol: ${stale.join(', ')} (from ${from})`);
    process.exitCode = 1;
  } else {
    console.error(`generate-protocol: ${stale.length > 0 && !values.check ? `wrote ${stale.join(', ')}` : 'up to date'} (from ${from})`);
  }
} catch (err) {
  console.error(`generate-protocol: ${(err as Error).message}`);
  process.exitCode = 1;
}
