/** @sluice/entrance — job intake, the job state machine, admission and the scheduler. */
export { Admission } from './admission.ts';
export { type DataSourceAccess, type DirectRunner, type DirectSlot, type EntranceApi, EntranceService, type LogPage } from './entrance-service.ts';
export { newJobId } from './ids.ts';
export {
  type Fence,
  type Guard,
  groupKey,
  type JobEnd,
  type JobRow,
  JobStore,
  type NewJob,
  type SealedResultSet,
  type SubmitClaim,
  type TransitionPatch,
  toJobView,
} from './job-store.ts';
export { type LineageJob, type LineageRecord, LineageRecorder } from './lineage-recorder.ts';
export { type Logger, Scheduler } from './scheduler.ts';
export { type JournalEntry, type JournalRun, StatementJournal, type StatementJournalOptions, type StatementOutcome } from './statement-journal.ts';
