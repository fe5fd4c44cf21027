/**
 * The watchdog process of a shell engine. The engine manager tells it which process groups its
 * scripts run in; when the manager goes away for any reason — including `kill -9`, which no process
 * can catch — the IPC channel closes and this process kills every group it still watches, so no
 * script outlives the manager that ran it (a retry elsewhere must never race an orphan).
 */
const groups = new Set<number>();

process.on('message', (m: { v?: number; type?: string; pgid?: number }) => {
  if (m?.v !== 1 || typeof m.pgid !== 'number' || !Number.isInteger(m.pgid) || m.pgid <= 1) return;
  if (m.type === 'watch') groups.add(m.pgid);
  else if (m.type === 'unwatch') groups.delete(m.pgid);
});

// Tell the engine we listen; it runs no script before this.
process.send?.({ v: 1, type: 'ready' });

process.on('disconnect', () => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  }
  process.exit(0);
});
