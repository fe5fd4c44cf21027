/**
 * The watchdog process of the Spark connector. The engine manager tells it the process groups of the
 * Spark drivers and spark-submit runs it started; when the manager goes away for any reason (even
 * `kill -9`, which nothing can catch) the IPC channel closes and this process kills every group it
 * still watches, so no Spark driver outlives the manager that launched it.
 */
const groups = new Set<number>();

process.on('message', (m: { v?: number; type?: string; pgid?: number }) => {
  if (m?.v !== 1 || typeof m.pgid !== 'number' || !Number.isInteger(m.pgid) || m.pgid <= 1) return;
  if (m.type === 'watch') groups.add(m.pgid);
  else if (m.type === 'unwatch') groups.delete(m.pgid);
});

process.send?.({ v: 1, type: 'ready' });

// A signal to the whole process group (Ctrl-C in a terminal, `timeout`, a service manager) must not
// take the watchdog down before its parent: the parent's end is what it waits for.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});

process.on('disconnect', () => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  process.exit(0);
});
