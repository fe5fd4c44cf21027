import { type Config, type EngineConnector, parseEngineType, SluiceError } from '@sluice/core';
import { createDuckdbConnector } from '@sluice/engine-conn-duckdb';
import { createFlinkConnector, flinkParamsSchema, flinkSecretFields } from '@sluice/engine-conn-flink';
import { createJdbcConnector, jdbcParamsSchemas, jdbcSecretFields } from '@sluice/engine-conn-jdbc';
import { createPrestoConnector, createTrinoConnector, trinoParamsSchema, trinoSecretFields } from '@sluice/engine-conn-presto';
import { createShellConnector } from '@sluice/engine-conn-shell';
import { createSparkConnector, sparkOptionsFromConfig, sparkParamsSchema, sparkSecretFields } from '@sluice/engine-conn-spark';
import type { z } from 'zod';

/** A resolved engine label: the connector plus the concrete version. */
export interface ResolvedEngine {
  connector: EngineConnector;
  version: string;
  /** Normalised `name-version` label stored on the job. */
  label: string;
}

type Factory = (config: Config) => EngineConnector;

/** Every connector this build knows, by name. SLUICE_ENGINES picks which are loaded. */
const FACTORIES: Record<string, Factory> = {
  duckdb: () => createDuckdbConnector(),
  shell: (c) => createShellConnector({ timeoutSeconds: c.SLUICE_SHELL_TIMEOUT_SECONDS }),
  jdbc: () => createJdbcConnector(),
  trino: () => createTrinoConnector(),
  presto: () => createPrestoConnector(),
  flink: () => createFlinkConnector(),
  spark: (c) => createSparkConnector(sparkOptionsFromConfig(c)),
};

/** Connection parameters of a data-source type, as the connector that serves it defines them. */
export interface DataSourceParamsSpec {
  schema: z.ZodObject;
  secretFields: readonly string[];
}

/**
 * Parameter schemas owned by the connectors: the data-source registry validates with exactly what
 * the engine will accept, so a registered data source can never be one its engine refuses.
 */
const CONNECTOR_PARAMS: Record<string, DataSourceParamsSpec> = {
  ...Object.fromEntries(
    Object.entries(jdbcParamsSchemas).map(([type, schema]) => [type, { schema, secretFields: jdbcSecretFields[type as keyof typeof jdbcSecretFields] }]),
  ),
  trino: { schema: trinoParamsSchema, secretFields: trinoSecretFields },
  presto: { schema: trinoParamsSchema, secretFields: trinoSecretFields },
  spark: { schema: sparkParamsSchema as z.ZodObject, secretFields: sparkSecretFields },
  'flink-sql-gateway': { schema: flinkParamsSchema as z.ZodObject, secretFields: flinkSecretFields },
};

/** The connector-defined parameters of a data-source type, if a connector defines them. */
export function connectorParamsFor(type: string): DataSourceParamsSpec | undefined {
  return CONNECTOR_PARAMS[type];
}

/** The connectors of one deployment, and the resolution of `engineType` labels against them. */
export class EngineCatalog {
  private readonly connectorsByName = new Map<string, EngineConnector>();

  constructor(
    connectors: EngineConnector[],
    private readonly defaultEngine: string,
  ) {
    for (const c of connectors) this.connectorsByName.set(c.name, c);
  }

  /** Builds the catalog from configuration; an unknown name in SLUICE_ENGINES stops start-up. */
  static fromConfig(config: Config): EngineCatalog {
    const connectors = config.SLUICE_ENGINES.map((name) => {
      const f = FACTORIES[name];
      if (!f)
        throw new SluiceError('SLUICE_CONFIG_INVALID', {
          setting: 'SLUICE_ENGINES',
          reason: `unknown engine "${name}"; known: ${Object.keys(FACTORIES).join(', ')}`,
        });
      return f(config);
    });
    return new EngineCatalog(connectors, config.SLUICE_DEFAULT_ENGINE);
  }

  /** The loaded connector of an engine name, if any. */
  byName(name: string): EngineConnector | undefined {
    return this.connectorsByName.get(name);
  }

  get connectors(): EngineConnector[] {
    return [...this.connectorsByName.values()];
  }

  /** Resolves `duckdb`, `duckdb-1.5` or undefined (the default engine). */
  resolve(label: string | undefined): ResolvedEngine {
    const t = parseEngineType(label ?? this.defaultEngine);
    const connector = this.connectorsByName.get(t.name);
    if (!connector) throw new SluiceError('SLUICE_JOB_ENGINE_UNKNOWN', { engineType: label, known: [...this.connectorsByName.keys()] });
    const version = t.version ?? connector.defaultVersion;
    if (!connector.versions.includes(version)) {
      throw new SluiceError('SLUICE_JOB_ENGINE_UNKNOWN', { engineType: label, known: connector.versions.map((v) => `${connector.name}-${v}`) });
    }
    return { connector, version, label: `${connector.name}-${version}` };
  }
}
