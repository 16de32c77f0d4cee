/**
 * The issue log: what src/teams calls. Plain functions and classes over plain data; no botbuilder.
 * See docs/storage-issues.md for the tables and keys behind IssueStore.
 */
export * from './actions.js';
export * from './cards.js';
export { csvCell, csvHeader, issueCsvLine, issuesToCsv } from './csv.js';
export * from './model.js';
export type { Page, PageRequest } from './paging.js';
export { formatRef, parseRef } from './refs.js';
export {
  ACTION_ROLE,
  type ActionKind,
  type ActionOutcome,
  addAffectedUser,
  applyTriageAction,
  canTransition,
  concurrentChange,
  createIssue,
  describeChange,
  type Notification,
  OPERATION_ROLE,
  type Role,
  reporterView,
  TRANSITIONS,
  type TriageAction,
} from './rules.js';
export { dueSlaEvents, SLA_MARKS_TABLE, SlaCheck, type SlaEvent, type SlaKind, SlaMarks } from './sla.js';
export {
  type ActOptions,
  type ActResult,
  type CreatedWindow,
  ISSUE_TABLES,
  IssueStore,
  type IssueStoreOptions,
  type LogResult,
  type QueueFilters,
} from './store.js';
export { type FieldErrors, validateNewIssue } from './validation.js';
