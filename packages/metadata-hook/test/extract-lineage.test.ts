import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractLineage, type LineageOutput, type LineageResult } from '../src/index.ts';
import { FIXTURES, NAMESPACES } from './fixtures/lineage-fixtures.ts';

function findOutput(result: LineageResult, key: string): { out: LineageOutput; column: string } {
  const out = [...result.outputs].sort((a, b) => b.name.length - a.name.length).find((o) => key.startsWith(`${o.name}.`));
  assert.ok(out, `no output for ${key}; outputs: ${result.outputs.map((o) => o.name).join(', ')}`);
  return { out, column: key.slice(out.name.length + 1) };
}

function direct(result: LineageResult, key: string): string[] {
  const { out, column } = findOutput(result, key);
  return (out.columnLineage[column] ?? [])
    .flatMap((f) => f.transformations.filter((t) => t.type === 'DIRECT').map((t) => `${f.name}.${f.field}:${t.subtype}`))
    .sort();
}

describe('extractLineage fixtures', () => {
  it('has at least 40 statements across all six dialect families', () => {
    const statements = FIXTURES.reduce((n, f) => n + f.sql.split(';').filter((s) => s.trim()).length, 0);
    assert.ok(statements >= 40, `only ${statements} statements`);
    const families = new Set(FIXTURES.map((f) => (f.dialect === 'presto' ? 'trino' : f.dialect === 'hive' ? 'spark' : f.dialect)));
    assert.deepEqual([...families].sort(), ['duckdb', 'flink', 'mysql', 'postgres', 'spark', 'trino']);
  });

  for (const f of FIXTURES) {
    it(f.name, () => {
      const ns = NAMESPACES[f.dialect];
      const result = extractLineage(f.sql, f.dialect, { namespace: ns, ...f.ctx });
      assert.equal(result.errors.length, f.errors ?? 0, `errors: ${JSON.stringify(result.errors)}`);
      assert.deepEqual(result.inputs.map((d) => d.name).sort(), [...f.inputs].sort(), 'inputs');
      assert.deepEqual(result.outputs.map((d) => d.name).sort(), [...f.outputs].sort(), 'outputs');
      for (const [key, expected] of Object.entries(f.columns ?? {})) {
        assert.deepEqual(direct(result, key), [...expected].sort(), `column lineage of ${key}`);
      }
      for (const key of f.noColumns ?? []) {
        const { out, column } = findOutput(result, key);
        assert.equal(out.columnLineage[column], undefined, `${key} should have no lineage`);
      }
      for (const [outName, expected] of Object.entries(f.indirect ?? {})) {
        const out = result.outputs.find((o) => o.name === outName);
        assert.ok(out, `no output ${outName}`);
        const actual = new Set(out.datasetLineage.flatMap((x) => x.transformations.map((t) => `${x.name}.${x.field}:~${t.subtype}`)));
        for (const e of expected) assert.ok(actual.has(e), `${outName} lacks indirect ${e}; has ${[...actual].join(', ')}`);
      }
    });
  }
});
