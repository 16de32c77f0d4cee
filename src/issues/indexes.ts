import { invertedTime, safeKey } from '../storage/tables.js';
import { issueColumns, SUMMARY_COLUMNS, summaryFromColumns } from './fields.js';
import { type Issue, isOpen, type Priority, type Status } from './model.js';
import { issueKeywords } from './similarity.js';

/**
 * Index rows: slim copies of an issue, one per list it appears in, each in a partition that serves one
 * query with a single partition-scoped read (see docs/storage-issues.md). They are a pure function of
 * the issue, so the store can always recompute what should exist and repair what does not.
 *
 * - `IssueQueue`   open issues only, RowKey = queue order (New first, then priority, then age):
 *                  `q` (the whole queue), `q~st~<status>`, `q~cat~<category>`, `q~site~<site>`, `q~asg~<id>`
 * - `IssueArchive` done issues (resolved, closed, won't fix, duplicate), `arch~<yyyymm closed>`,
 *                  newest first; a month partition stays bounded however long the rollout runs
 * - `IssueByReporter` every issue, `rep~<reporter id>`, newest first; and `who~<person id>`: every issue a
 *                  person is in (reported, +1'd, assigned, commented on or changed), holding only the ref —
 *                  it never changes once written, so a +1 writes one row and rewrites none (privacy: `my
 *                  data` and `forget` find a person's issues with one partition read)
 */

export type IndexTable = 'queue' | 'archive' | 'reporter';

export interface IndexRow {
  table: IndexTable;
  partitionKey: string;
  rowKey: string;
  props: IndexProps;
}

/**
 * What an index row stores besides its keys: the list line's columns (fields.ts), normalised keys for
 * OData filters, and in category rows the keywords for "Is it one of these?" (`kw`).
 */
export type IndexProps = Record<string, string | number>;

/** Category and site names are matched case-insensitively; keys may not hold / \ # ?. */
export function nameKey(value: string): string {
  return safeKey(value.trim().toLowerCase().replace(/\s+/g, ' '));
}

export const PART = {
  queue: 'q',
  queueStatus: (s: Status) => `q~st~${s}`,
  queueCategory: (c: string) => `q~cat~${nameKey(c)}`,
  queueSite: (s: string) => `q~site~${nameKey(s)}`,
  queueAssignee: (id: string) => `q~asg~${safeKey(id)}`,
  archiveMonth: (month: string) => `arch~${month}`,
  reporter: (id: string) => `rep~${safeKey(id)}`,
  person: (id: string) => `who~${safeKey(id)}`,
} as const;

const PRIORITY_RANK: Record<Priority, string> = { P1: '1', P2: '2', P3: '3', P4: '4' };

/** The start every queue RowKey of this status group and priority shares: one range of a queue partition. */
export function queueRankPrefix(issue: Pick<Issue, 'status' | 'priority'>): string {
  const group = issue.status === 'new' ? '0' : '1';
  const rank = issue.priority ? PRIORITY_RANK[issue.priority] : '5';
  return `${group}${rank}~`;
}

/** Queue order as a RowKey: New before everything else, then P1..P4 then none, then oldest first. */
export function queueRowKey(issue: Pick<Issue, 'status' | 'priority' | 'createdAt' | 'ref'>): string {
  return `${queueRankPrefix(issue)}${issue.createdAt}~${issue.ref}`;
}

/** `2026-01` style month of an ISO time, as the archive partitions use it (UTC). */
export function monthOf(iso: string): string {
  return iso.slice(0, 4) + iso.slice(5, 7);
}

function propsOf(issue: Issue): IndexProps {
  return {
    ...issueColumns(issue, SUMMARY_COLUMNS),
    categoryKey: nameKey(issue.category),
    siteKey: nameKey(issue.site),
  };
}

/** Everyone an issue names by id: its reporter, those affected, its assignee, and who commented or changed it. */
export function peopleIn(issue: Issue): string[] {
  const ids = [
    issue.reporter.id,
    ...issue.affected.map((a) => a.id),
    issue.assignee?.id,
    ...issue.comments.map((c) => c.by.id),
    ...issue.history.flatMap((h) => [h.by.id, h.toId]),
  ];
  return [...new Set(ids.filter((id): id is string => Boolean(id)))];
}

export function indexRowsFor(issue: Issue): IndexRow[] {
  const props = propsOf(issue);
  const byAge = `${invertedTime(new Date(issue.createdAt))}~${issue.ref}`;
  const rows: IndexRow[] = [
    { table: 'reporter', partitionKey: PART.reporter(issue.reporter.id), rowKey: byAge, props },
    ...peopleIn(issue).map((id): IndexRow => ({ table: 'reporter', partitionKey: PART.person(id), rowKey: byAge, props: { ref: issue.ref } })),
  ];
  if (isOpen(issue.status)) {
    const rk = queueRowKey(issue);
    const queue = (partitionKey: string, extra: IndexProps = {}): IndexRow => ({
      table: 'queue',
      partitionKey,
      rowKey: rk,
      props: { ...props, ...extra },
    });
    rows.push(
      queue(PART.queue),
      queue(PART.queueStatus(issue.status)),
      queue(PART.queueCategory(issue.category), {
        kw: issueKeywords(issue.title, issue.description).join(' '),
      }),
      queue(PART.queueSite(issue.site)),
    );
    if (issue.assignee) rows.push(queue(PART.queueAssignee(issue.assignee.id)));
  } else {
    const closedAt = issue.closedAt ?? issue.updatedAt;
    rows.push({
      table: 'archive',
      partitionKey: PART.archiveMonth(monthOf(closedAt)),
      rowKey: `${invertedTime(new Date(closedAt))}~${issue.ref}`,
      props,
    });
  }
  return rows;
}

/** A `who~<person>` row (see PART.person). */
export const isPersonRow = (r: Pick<IndexRow, 'partitionKey'>) => r.partitionKey.startsWith('who~');

export const rowId = (r: Pick<IndexRow, 'table' | 'partitionKey' | 'rowKey'>) =>
  `${r.table}|${r.partitionKey}|${r.rowKey}`;

export function parseRowId(id: string): Pick<IndexRow, 'table' | 'partitionKey' | 'rowKey'> {
  const [table, partitionKey, ...rest] = id.split('|');
  return { table: table as IndexTable, partitionKey: partitionKey ?? '', rowKey: rest.join('|') };
}

export interface IndexPlan {
  upsert: IndexRow[];
  remove: Pick<IndexRow, 'table' | 'partitionKey' | 'rowKey'>[];
}

/** The writes that take the index from `before`'s rows to `after`'s: unchanged rows are not rewritten. */
export function planIndex(before: Issue | null, after: Issue | null): IndexPlan {
  const old = new Map((before ? indexRowsFor(before) : []).map((r) => [rowId(r), r]));
  const next = after ? indexRowsFor(after) : [];
  const nextIds = new Set(next.map(rowId));
  return {
    upsert: next.filter((r) => {
      const prev = old.get(rowId(r));
      return !prev || JSON.stringify(prev.props) !== JSON.stringify(r.props);
    }),
    remove: [...old.values()].filter((r) => !nextIds.has(rowId(r))),
  };
}

export const summaryFromProps = summaryFromColumns;
