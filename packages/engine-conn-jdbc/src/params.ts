/**
 * `@sluice/engine-conn-jdbc/params`: the data-source parameters this connector accepts, without the
 * connector and its drivers. The data-source registry validates with them whether or not the engine
 * is loaded.
 */
export { jdbcParamsSchemas, jdbcSecretFields } from './param-schemas.ts';
