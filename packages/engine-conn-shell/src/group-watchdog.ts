import { ProcessWatchdog } from '@sluice/process-watchdog';

/**
 * The watchdog of a shell engine: a child process holding the process groups of its scripts, which
 * kills them if the engine manager dies, even by `kill -9` (see @sluice/process-watchdog). close()
 * stops it once the engine has stopped its scripts itself.
 */
export class GroupWatchdog extends ProcessWatchdog {
  constructor() {
    super({ name: 'shell', readyTimeoutMs: 15_000 });
  }
}
