import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Dialect } from './dialect.ts';
import { parseScript } from './sql-parser.ts';

/** Everyday statements that must parse (expressions, clauses and statements lineage does not use). */
const EVERYDAY: [Dialect, string][] = [
  ['duckdb', 'select 20240101 as run_date, range as n, range * range as sq from range(100000)'],
  ['duckdb', "SET threads = 4; SHOW TABLES; COPY t TO 'x.csv'; PRAGMA version; INSTALL httpfs; LOAD httpfs"],
  ['postgres', "INSERT INTO t VALUES (1, 'a'), (2, 'b')"],
  ['trino', 'SELECT a FROM c.s.t ORDER BY a DESC NULLS LAST OFFSET 5 ROWS FETCH FIRST 10 ROWS ONLY'],
  [
    'postgres',
    "SELECT CAST(x AS DECIMAL(10,2)), y::text, j->>'k', z IS DISTINCT FROM w, v BETWEEN 1 AND 2, array[1,2], interval '1 day', date '2020-01-01', " +
      "EXTRACT(year FROM d), trim(both ' ' from s), substring(s from 1 for 2), position('a' in s), COUNT(DISTINCT q) FILTER (WHERE f) " +
      'FROM t GROUP BY GROUPING SETS ((x), (y)), d',
  ],
  ['postgres', "SELECT * FROM t WHERE a ILIKE 'x%' AND b IN (1,2) AND NOT EXISTS (SELECT 1 FROM u WHERE u.id = t.id) AND c = CURRENT_DATE"],
  ['postgres', 'select a from t where x = any(array[1,2]) and y = all(select z from u)'],
  ['spark', "INSERT OVERWRITE DIRECTORY 's3://b/out' USING parquet SELECT s.f.g, m['k'] FROM db.t s LEFT SEMI JOIN db.u ON s.id = u.id DISTRIBUTE BY s.id"],
  ['mysql', 'SELECT a, b INTO OUTFILE "/tmp/x" FROM t'],
  ['mysql', 'DROP TABLE IF EXISTS t; CREATE TABLE t LIKE s; ALTER TABLE t ADD COLUMN c INT'],
  ['trino', "CREATE TABLE c.s.t (a bigint, b varchar) WITH (format = 'PARQUET')"],
  ['trino', 'SELECT sum(x) OVER (PARTITION BY y ORDER BY z ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM c.s.t TABLESAMPLE BERNOULLI (10)'],
  ['trino', "SELECT json_extract_scalar(p, '$.a'), try(cast(x as int)), if(a > 1, b, c), coalesce(a, b) FROM c.s.t"],
  ['postgres', 'WITH v(a, b) AS (VALUES (1, 2)) INSERT INTO t SELECT a, b FROM v'],
  ['spark', 'SELECT /*+ BROADCAST(u) */ t.a FROM db.t t JOIN db.u u USING (id)'],
  ['flink', "SELECT * FROM src /*+ OPTIONS('scan.startup.mode'='earliest-offset') */"],
  ['duckdb', "SELECT * FROM read_csv('a.csv', header = true) JOIN 'b.parquet' USING (id)"],
];

it('parses everyday statements of every dialect', () => {
  for (const [dialect, sql] of EVERYDAY) {
    const parsed = parseScript(sql, dialect);
    const failed = parsed.filter((p) => p.error);
    assert.deepEqual(
      failed.map((p) => p.error?.message),
      [],
      `${dialect}: ${sql}`,
    );
  }
});

it('reports where a statement stops parsing', () => {
  const [p] = parseScript('INSERT INTO t SELECT FROM WHERE', 'trino');
  assert.ok(p?.error);
  assert.match(p.error.message, /expected/);
  assert.equal(parseScript('SELEC 1', 'mysql')[0]?.error?.message, "expected a statement but found 'SELEC'");
});
