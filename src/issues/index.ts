/**
 * The issue log: what the composition root and src/teams use. Plain functions and classes over plain
 * data; no botbuilder. Tables and keys: docs/storage-issues.md.
 */
export * from './cards.js';
export { IssueExport } from './export.js';
export * from './model.js';
export { OfferStore } from './offers.js';
export { IssueQueries, type QueueFilters } from './queries.js';
export { IssueRepository } from './repository.js';
export { BOARD_SORTS, OpenIssues } from './board.js';
export { type Caller, type HeldReport, IssueService, type ListName } from './service.js';
export { SlaCheck, SlaMarks } from './sla.js';
export { openIssueTables } from './tables.js';
export * from './verbs.js';
export { scheduleIssueJobs } from './jobs.js';
