/** @sluice/testkit — shared test support. */

export * from './connector-contract.ts';
export * from './processes.ts';
export * from './services.ts';
