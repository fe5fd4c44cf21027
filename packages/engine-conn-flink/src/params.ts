/**
 * `@sluice/engine-conn-flink/params`: the data-source parameters this connector accepts, without the
 * connector. The data-source registry validates with them whether or not the engine is loaded.
 */
export { flinkParamsSchema, flinkSecretFields } from './flink-params.ts';
