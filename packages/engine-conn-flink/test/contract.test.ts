import { type ConnectorFixtures, defineConnectorContract } from '@sluice/testkit';
import { createFlinkConnector } from '../src/index.ts';
import { ensureFlink, flinkDataSource } from './flink-server.ts';

// Streaming mode (Flink's default): query results lead with the changelog row kind column `op`.
const fixtures: ConnectorFixtures = {
  simple: { code: "SELECT 42 AS answer, 'hello' AS greeting", columns: ['op', 'answer', 'greeting'], rows: [['+I', 42, 'hello']] },
  userError: { code: 'SELECT * FROM no_such_table', errorCode: 'SLUICE_ENGINE_QUERY_FAILED' },
  // An unbounded source at one row a second: it runs until it is cancelled.
  slow: {
    code: "CREATE TEMPORARY TABLE IF NOT EXISTS contract_slow (x BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '1'); SELECT x FROM contract_slow",
  },
  large: {
    code: "CREATE TEMPORARY TABLE IF NOT EXISTS contract_large (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '20000', 'number-of-rows' = '20000'); SELECT id FROM contract_large",
    count: 20_000,
    unit: 'rows',
  },
  sessionState: {
    setup: 'CREATE TEMPORARY VIEW contract_state AS SELECT 7 AS v',
    check: { code: 'SELECT v FROM contract_state', rows: [['+I', 7]] },
  },
  localProcess: false,
};

defineConnectorContract(
  'flink',
  async () => {
    fixtures.dataSource = flinkDataSource(await ensureFlink());
    return createFlinkConnector();
  },
  fixtures,
);
