import { after } from 'node:test';
import { type ConnectorFixtures, defineConnectorContract } from '@sluice/testkit';
import { createJdbcConnector } from '../src/index.ts';
import { freshClickhouse, type TestSource } from './jdbc-servers.ts';

let source: TestSource | undefined;
after(async () => {
  await source?.drop();
});

const fixtures: ConnectorFixtures = {
  simple: { code: "SELECT 42 AS answer, 'hello' AS greeting", columns: ['answer', 'greeting'], rows: [[42, 'hello']] },
  userError: { code: 'SELECT * FROM no_such_table', errorCode: 'SLUICE_ENGINE_QUERY_FAILED' },
  // An endless aggregation: it returns nothing until cancelled.
  slow: { code: 'SELECT count() FROM system.numbers' },
  large: { code: 'SELECT number AS n, number * 2 AS twice FROM system.numbers LIMIT 200000', count: 200_000, unit: 'rows' },
  sessionState: {
    setup: 'CREATE TEMPORARY TABLE contract_state (v UInt8) ENGINE = Memory; INSERT INTO contract_state VALUES (7)',
    check: { code: 'SELECT v FROM contract_state', rows: [[7]] },
  },
  localProcess: false,
};

defineConnectorContract(
  'jdbc',
  async () => {
    source = await freshClickhouse();
    fixtures.dataSource = source.dataSource;
    return createJdbcConnector();
  },
  fixtures,
);
