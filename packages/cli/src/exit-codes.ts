/**
 * Exit codes of the `sluice` command. A scheduler can trust them: 0 only when the job succeeded.
 * `docs/dolphinscheduler.md` documents them for DolphinScheduler users.
 */
export const EXIT = {
  /** The job succeeded (or a job command such as `status` worked). */
  ok: 0,
  /** The job failed: its code or its engine reported an error. */
  failed: 1,
  /** Bad options or configuration; nothing was submitted. */
  usage: 2,
  /** The server refused a request (authentication, permission, unknown job, invalid job). */
  rejected: 3,
  /** The server could not be reached, or answered with something that is not the Sluice API. */
  unreachable: 4,
  /** The job timed out in the queue or while running (as GNU `timeout` exits). */
  timeout: 124,
  /** The job was cancelled by someone else or by the server (DolphinScheduler reads 137 as killed). */
  cancelled: 137,
  /** SIGINT (Ctrl-C): the job was cancelled, then the CLI exited. */
  sigint: 130,
  /** SIGTERM: the job was cancelled, then the CLI exited. */
  sigterm: 143,
} as const;

/** One of the exit codes above. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
