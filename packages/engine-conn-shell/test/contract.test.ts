import { defineConnectorContract } from '@sluice/testkit';
import { createShellConnector } from '../src/index.ts';

defineConnectorContract('shell', () => createShellConnector(), {
  simple: { code: 'echo "hello from $SLUICE_TASK_ID"', logIncludes: 'hello from contract-task-' },
  userError: { code: 'echo about to fail; exit 3', errorCode: 'SLUICE_ENGINE_SCRIPT_FAILED' },
  slow: { code: 'echo started; sleep 30; echo not cancelled' },
  large: { code: 'seq 1 20000', count: 20_000, unit: 'logLines' },
  sessionState: {
    setup: 'echo persisted > "$HOME/contract-state"',
    check: { code: 'cat "$HOME/contract-state"', logIncludes: 'persisted' },
  },
  localProcess: false,
});
