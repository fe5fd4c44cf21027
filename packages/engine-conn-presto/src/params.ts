/**
 * `@sluice/engine-conn-presto/params`: the data-source parameters this connector accepts, without the
 * connector. The data-source registry validates with them whether or not the engine is loaded.
 */
export { trinoParamsSchema, trinoSecretFields } from './trino-params.ts';
