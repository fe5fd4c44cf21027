/** @sluice/testkit — shared test support. */

export * from './connector-contract.ts';
export * from './services.ts';
