import { type ConnectorFixtures, defineConnectorContract } from '@sluice/testkit';
import { createPrestoConnector, createTrinoConnector } from '../src/index.ts';
import { ensureTrino, trinoDataSource } from './trino-server.ts';

/** Fixtures for a real Trino; the data source is filled in once the server is up. */
function fixtures(): ConnectorFixtures {
  return {
    simple: { code: "SELECT 42 AS answer, 'hello' AS greeting", columns: ['answer', 'greeting'], rows: [[42, 'hello']] },
    userError: { code: 'SELECT * FROM no_such_table', errorCode: 'SLUICE_ENGINE_QUERY_FAILED' },
    // Six billion generated rows: minutes of work on any machine, until it is cancelled.
    slow: { code: 'SELECT sum(quantity) FROM tpch.sf1000.lineitem' },
    large: { code: 'SELECT * FROM tpch.tiny.lineitem', count: 60_175, unit: 'rows' },
    sessionState: {
      setup: 'USE memory.default',
      check: { code: 'SELECT current_catalog, current_schema', rows: [['memory', 'default']] },
    },
    localProcess: false,
  };
}

const trino = fixtures();
defineConnectorContract(
  'trino',
  async () => {
    trino.dataSource = trinoDataSource(await ensureTrino());
    return createTrinoConnector();
  },
  trino,
);

// The same server through the X-Presto-* header family (it runs with protocol.v1.alternate-header-name=Presto).
const presto = fixtures();
defineConnectorContract(
  'presto',
  async () => {
    presto.dataSource = trinoDataSource(await ensureTrino(), {}, 'presto');
    return createPrestoConnector();
  },
  presto,
);
