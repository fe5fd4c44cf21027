import { type Config, type EngineConnector, parseEngineType, SluiceError } from '@sluice/core';
import { flinkParamsSchema, flinkSecretFields } from '@sluice/engine-conn-flink/params';
import { jdbcParamsSchemas, jdbcSecretFields } from '@sluice/engine-conn-jdbc/params';
import { trinoParamsSchema, trinoSecretFields } from '@sluice/engine-conn-presto/params';
import { sparkParamsSchema, sparkSecretFields } from '@sluice/engine-conn-spark/params';
import type { z } from 'zod';

/** A resolved engine label: the connector plus the concrete version. */
export interface ResolvedEngine {
  connector: EngineConnector;
  version: string;
  /** Normalised `name-version` label stored on the job. */
  label: string;
}

type Factory = (config: Config) => Promise<EngineConnector>;

/**
 * Every connector this build knows, by name. SLUICE_ENGINES picks which are loaded: a connector's
 * module (and its clients: gRPC and Arrow for Spark, the database drivers for JDBC) is imported only
 * when it is picked. Data-source parameters come from the light `/params` modules above.
 */
const FACTORIES: Record<string, Factory> = {
  duckdb: async () => (await import('@sluice/engine-conn-duckdb')).createDuckdbConnector(),
  shell: async (c) => (await import('@sluice/engine-conn-shell')).createShellConnector({ timeoutSeconds: c.SLUICE_SHELL_TIMEOUT_SECONDS }),
  jdbc: async () => (await import('@sluice/engine-conn-jdbc')).createJdbcConnector(),
  trino: async () => (await import('@sluice/engine-conn-presto')).createTrinoConnector(),
  presto: async () => (await import('@sluice/engine-conn-presto')).createPrestoConnector(),
  flink: async () => (await import('@sluice/engine-conn-flink')).createFlinkConnector(),
  spark: async (c) => {
    const spark = await import('@sluice/engine-conn-spark');
    return spark.createSparkConnector(spark.sparkOptionsFromConfig(c));
  },
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

  /**
   * Builds the catalog from configuration, loading only the connectors SLUICE_ENGINES names; an
   * unknown name stops start-up before any connector is loaded.
   */
  static async fromConfig(config: Config): Promise<EngineCatalog> {
    const factories = config.SLUICE_ENGINES.map((name) => {
      const f = FACTORIES[name];
      if (!f)
        throw new SluiceError('SLUICE_CONFIG_INVALID', {
          setting: 'SLUICE_ENGINES',
          reason: `unknown engine "${name}"; known: ${Object.keys(FACTORIES).join(', ')}`,
        });
      return f;
    });
    const connectors: EngineConnector[] = [];
    for (const f of factories) connectors.push(await f(config));
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
