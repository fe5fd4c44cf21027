import { defineConnectorContract } from '@sluice/testkit';
import { createDuckdbConnector } from '../src/index.ts';

defineConnectorContract('duckdb', () => createDuckdbConnector(), {
  simple: { code: "SELECT 42 AS answer, 'hello' AS greeting", columns: ['answer', 'greeting'], rows: [[42, 'hello']] },
  userError: { code: 'SELECT * FROM no_such_table', errorCode: 'SLUICE_ENGINE_QUERY_FAILED' },
  slow: { code: 'SELECT sum(hash(i)) FROM range(10000000000000) t(i)' },
  large: { code: 'SELECT i, i * 2 AS twice FROM range(200000) t(i)', count: 200_000, unit: 'rows' },
  sessionState: {
    setup: 'CREATE TEMP TABLE contract_state AS SELECT 7 AS v',
    check: { code: 'SELECT v FROM contract_state', rows: [[7]] },
  },
  localProcess: true,
});
