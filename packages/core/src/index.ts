/** @sluice/core — the shared contracts every Sluice app and connector builds on. */

export * from './config.ts';
export * from './errors.ts';
export * from './events.ts';
export * from './job.ts';
export * from './ports/bus.ts';
export * from './ports/connector.ts';
export * from './ports/queue.ts';
export * from './ports/result-store.ts';
export * from './route-spec.ts';
export * from './ws-messages.ts';
