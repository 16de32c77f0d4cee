import { getChunks, putChunks } from '../storage/entities.js';
import { columnsToIssue, issueColumns } from './fields.js';
import type { Comment, HistoryEntry, Issue, Person } from './model.js';
import { refBucket } from './refs.js';

/**
 * An issue's main row in the `Issues` table: PartitionKey = bucket of a hundred refs (`R-00xx`),
 * RowKey = ref. It is the single source of truth. History, comments and affected users live inside it
 * as JSON, so they change together with the fields under one ETag: two concurrent appends cannot
 * overwrite each other (the second gets 412, reloads, and appends to the fresh list).
 */

/** Azure caps an entity at 1 MiB (strings count twice); this leaves room for the plain fields. */
export const MAX_JSON_CHARS = 400_000;

export class IssueTooLargeError extends Error {
  constructor(ref: string) {
    super(`${ref} has too much history to store more; start a new issue and link it.`);
  }
}

export type IssueEntity = { partitionKey: string; rowKey: string; kind: 'issue' } & Record<string, string | number>;

export function issueToEntity(issue: Issue, prefix: string): IssueEntity {
  const e: IssueEntity = {
    partitionKey: refBucket(prefix, issue.number),
    rowKey: issue.ref,
    kind: 'issue',
    ...issueColumns(issue),
    historyCount: issue.history.length,
    commentCount: issue.comments.length,
  };
  // History, comments and affected only ever grow, so a Merge never leaves a stale chunk behind;
  // readers also stop at the recorded part count.
  const size =
    putChunks(e, 'history', issue.history) +
    putChunks(e, 'comments', issue.comments) +
    putChunks(e, 'affected', issue.affected);
  if (size > MAX_JSON_CHARS) throw new IssueTooLargeError(issue.ref);
  return e;
}

export function entityToIssue(e: Record<string, unknown>): Issue {
  return {
    // Rows written before `ref` was a column carry it only as their RowKey.
    ...columnsToIssue({ ...e, ref: e.ref ?? e.rowKey }),
    affected: getChunks<Person[]>(e, 'affected', []),
    comments: getChunks<Comment[]>(e, 'comments', []),
    history: getChunks<HistoryEntry[]>(e, 'history', []),
  };
}
