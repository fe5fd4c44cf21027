/**
 * The watchdog process. Its parent (an engine manager) tells it the process groups it started; when
 * the parent goes away for any reason, even `kill -9`, which nothing can catch, the IPC channel
 * closes and this process kills every group it still watches. So no engine process outlives the
 * manager that started it, and a retry elsewhere never races an orphan.
 */
const groups = new Set<number>();

process.on('message', (m: { v?: number; type?: string; pgid?: number }) => {
  if (m?.v !== 1 || typeof m.pgid !== 'number' || !Number.isInteger(m.pgid) || m.pgid <= 1) return;
  if (m.type === 'watch') {
    groups.add(m.pgid);
    // The parent may hold a process back until it knows the group is guarded. A parent already gone
    // must not make this process fail: killing its groups on 'disconnect' is what it is here for.
    try {
      if (process.connected) process.send?.({ v: 1, type: 'watching', pgid: m.pgid }, undefined, {}, () => {});
    } catch {
      // the channel closed meanwhile
    }
  } else if (m.type === 'unwatch') groups.delete(m.pgid);
});

// The parent starts nothing before this message arrives.
process.send?.({ v: 1, type: 'ready' });

// A signal to the whole process group (Ctrl-C in a terminal, `timeout`, a service manager) must not
// take the watchdog down before its parent: the parent's end is what it waits for.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});

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
