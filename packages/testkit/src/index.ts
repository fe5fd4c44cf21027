/** @sluice/testkit — shared test support. */
export * from './services.ts';
