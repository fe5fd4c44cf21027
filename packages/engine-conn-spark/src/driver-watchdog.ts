import { ProcessWatchdog } from '@sluice/process-watchdog';

/**
 * The watchdog of one Spark connector: a child process holding the process groups of every driver and
 * batch application it started, which kills them if the engine manager dies (see @sluice/process-watchdog).
 */
export class DriverWatchdog extends ProcessWatchdog {
  constructor() {
    super({ name: 'Spark driver', readyTimeoutMs: 30_000 });
  }
}
