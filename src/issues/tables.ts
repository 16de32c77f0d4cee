import type { TableClient } from '@azure/data-tables';
import type { Tables } from '../storage/tables.js';
import type { IndexTable } from './indexes.js';

/** The issue log's tables (key design: docs/storage-issues.md). */
export const ISSUE_TABLES = {
  issues: 'Issues',
  queue: 'IssueQueue',
  archive: 'IssueArchive',
  reporter: 'IssueByReporter',
} as const;

export interface IssueTables {
  /** Main rows (the truth), the reference counter, idempotency rows and index repair markers. */
  main: TableClient;
  /** Index rows, one table per kind of list. */
  idx: Record<IndexTable, TableClient>;
}

export async function openIssueTables(tables: Tables): Promise<IssueTables> {
  const [main, queue, archive, reporter] = await Promise.all([
    tables.table(ISSUE_TABLES.issues),
    tables.table(ISSUE_TABLES.queue),
    tables.table(ISSUE_TABLES.archive),
    tables.table(ISSUE_TABLES.reporter),
  ]);
  return { main, idx: { queue, archive, reporter } };
}
