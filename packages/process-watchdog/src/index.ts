/**
 * @sluice/process-watchdog — a watchdog child process that kills the process groups an engine
 * manager started (scripts, Spark drivers) when the manager dies, even by `kill -9`.
 */
export { type GatedSpawnOptions, spawnGated } from './gated-spawn.ts';
export { signalGroup } from './process-group.ts';
export { ProcessWatchdog, type ProcessWatchdogOptions } from './process-watchdog.ts';
