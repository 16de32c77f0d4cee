import type { IssueSummary } from './model.js';

/**
 * The orders a champion can choose for a list of issues (the tab's board: open and done issues alike).
 * `queue` is the list's own stored order: for open issues New first, then by priority and age; for done
 * issues the most recently closed first. The others sort rows already read.
 */
export const BOARD_SORTS = ['queue', 'oldest', 'newest', 'priority'] as const;
export type BoardSort = (typeof BOARD_SORTS)[number];

/** A done list in a chosen order reads at most this many of the most recently closed (see IssueQueries). */
export const SORTED_DONE_CAP = 1000;

/**
 * What a done list sorted among only some of its rows says (card and tab): how many the order covered (the cap
 * unless older rows did not fit beside newer ones), and what to do.
 */
export function sortedOnlyNote(sorted = SORTED_DONE_CAP): string {
  return sorted > 0
    ? `Sorted among the ${sorted.toLocaleString('en-GB')} most recently closed only: there are more. Narrow the filters (category, site, assignee) to sort the rest.`
    : `None sorted: more than ${SORTED_DONE_CAP.toLocaleString('en-GB')} here, all closed over five years ago. Narrow the filters (category, site, assignee) to sort them, or list them most recently closed first.`;
}

const RANK: Record<string, number> = { P1: 1, P2: 2, P3: 3, P4: 4 };

type Sortable = Pick<IssueSummary, 'createdAt' | 'priority'> & { ref?: string };

/** References in number order (R-0999 before R-1000), as ties are broken. */
const byRef = (a: Sortable, b: Sortable) => (a.ref?.length ?? 0) - (b.ref?.length ?? 0) || (a.ref ?? '').localeCompare(b.ref ?? '');

/**
 * The order `sort` puts two issues in (0 only for `queue`, which keeps rows as read). Ties fall to the reference,
 * so the order is total and a page can resume right after the last issue it showed.
 */
export function compareIssues(a: Sortable, b: Sortable, sort: Exclude<BoardSort, 'queue'>): number {
  if (sort === 'oldest') return a.createdAt.localeCompare(b.createdAt) || byRef(a, b);
  if (sort === 'newest') return b.createdAt.localeCompare(a.createdAt) || byRef(b, a);
  return (RANK[a.priority ?? ''] ?? 5) - (RANK[b.priority ?? ''] ?? 5) || a.createdAt.localeCompare(b.createdAt) || byRef(a, b);
}

/** Sorts `rows` in place by `sort` (stable: `queue` keeps them as read). */
export function sortIssues<T extends Sortable>(rows: T[], sort: BoardSort): T[] {
  if (sort !== 'queue') rows.sort((a, b) => compareIssues(a, b, sort));
  return rows;
}

/** The orders a done list can be asked for by name (the `triage` command's `sort:`); `queue` is its default. */
export const LIST_SORTS = ['oldest', 'newest', 'priority'] as const satisfies readonly BoardSort[];
export type ListSort = (typeof LIST_SORTS)[number];
