/** @sluice/engines — the engine catalog of a deployment. */
export * from './engine-catalog.ts';
