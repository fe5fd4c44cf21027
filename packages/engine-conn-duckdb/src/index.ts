/** @sluice/engine-conn-duckdb — DuckDB SQL in a worker process per engine, results streamed in batches. */
export { createDuckdbConnector, DUCKDB_VERSION, type DuckdbConnectorOptions } from './duckdb-connector.ts';
export { type DuckdbLaunchParams, DuckdbLaunchParamsSchema } from './launch-params.ts';
