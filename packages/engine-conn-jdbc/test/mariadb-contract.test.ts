import { after } from 'node:test';
import { type ConnectorFixtures, defineConnectorContract } from '@sluice/testkit';
import { createJdbcConnector } from '../src/index.ts';
import { freshMysql, type TestSource } from './jdbc-servers.ts';

let source: TestSource | undefined;
after(async () => {
  await source?.drop();
});

const fixtures: ConnectorFixtures = {
  simple: { code: "SELECT 42 AS answer, 'hello' AS greeting", columns: ['answer', 'greeting'], rows: [[42, 'hello']] },
  userError: { code: 'SELECT * FROM no_such_table', errorCode: 'SLUICE_ENGINE_QUERY_FAILED' },
  slow: { code: 'SELECT SLEEP(30)' },
  large: { code: 'SELECT seq AS n, seq * 2 AS twice FROM seq_1_to_200000', count: 200_000, unit: 'rows' },
  sessionState: {
    setup: 'CREATE TEMPORARY TABLE contract_state AS SELECT 7 AS v',
    check: { code: 'SELECT v FROM contract_state', rows: [[7]] },
  },
  localProcess: false,
};

defineConnectorContract(
  'jdbc',
  async () => {
    source = await freshMysql();
    fixtures.dataSource = source.dataSource;
    return createJdbcConnector();
  },
  fixtures,
);
