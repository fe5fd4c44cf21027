/** @sluice/engine-manager — runs jobs on pooled engines. */
export { EngineManager, type EngineManagerDeps } from './engine-manager.ts';
export { EnginePool, type EngineState, type PooledEngine } from './engine-pool.ts';
export { InteractiveRunner } from './interactive-runner.ts';
export { type DataSourceResolver, JobRunner } from './job-runner.ts';
