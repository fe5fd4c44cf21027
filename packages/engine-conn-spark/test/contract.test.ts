import { type ConnectorFixtures, defineConnectorContract } from '@sluice/testkit';
import { createSparkConnector } from '../src/index.ts';
import { testConnectorOptions } from './spark-home.ts';

/** The shared contract against real Spark drivers (local mode), launched by the connector. */
const fixtures: ConnectorFixtures = {
  codeType: 'sql',
  simple: { code: "SELECT 42 AS answer, 'hello' AS greeting", columns: ['answer', 'greeting'], rows: [[42, 'hello']] },
  userError: { code: 'SELECT * FROM no_such_table', errorCode: 'SLUICE_ENGINE_QUERY_FAILED' },
  // A trillion generated rows: hours of work on two cores, until it is interrupted.
  slow: { code: 'SELECT sum(hash(id)) FROM range(0, 1000000000000)' },
  large: { code: 'SELECT id, id * 2 AS twice FROM range(0, 100000)', count: 100_000, unit: 'rows' },
  sessionState: {
    setup: 'CREATE OR REPLACE TEMPORARY VIEW sluice_state AS SELECT 7 AS v',
    check: { code: 'SELECT v FROM sluice_state', rows: [[7]] },
  },
  localProcess: true,
};

defineConnectorContract('spark', async () => createSparkConnector(await testConnectorOptions()), fixtures);
