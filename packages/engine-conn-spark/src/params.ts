/**
 * `@sluice/engine-conn-spark/params`: the data-source parameters this connector accepts, without the
 * connector and its gRPC and Arrow clients. The data-source registry validates with them whether or
 * not the engine is loaded.
 */
export { sparkParamsSchema, sparkSecretFields } from './spark-params.ts';
