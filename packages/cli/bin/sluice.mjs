#!/usr/bin/env node
// The `sluice` command. It runs src/main.ts from source in this one process: no build step, no
// child process (so signals reach the CLI itself). Two module hooks are registered first: one adds
// the `sluice-source` export condition (ADR 0004), and tsx transpiles TypeScript on load.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

register('./source-condition.mjs', import.meta.url);
registerTsx();
await import('../src/main.ts');
