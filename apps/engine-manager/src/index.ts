/** @sluice/engine-manager — runs jobs on pooled engines. */
export { EngineManager, type EngineManagerDeps } from './engine-manager.ts';
export { EnginePool, type EngineState, type PooledEngine } from './engine-pool.ts';
export { JobRunner } from './job-runner.ts';
