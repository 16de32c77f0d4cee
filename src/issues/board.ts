import { odata, type TableClient } from '@azure/data-tables';
import { SUMMARY_COLUMNS } from './fields.js';
import { PART, queueRowKey, summaryFromProps } from './indexes.js';
import { type IssueSummary, isOpen, PRIORITIES, type Priority } from './model.js';
import { type QueueFilters, queuePartition } from './queries.js';
import { type BoardSort, compareIssues, sortIssues } from './order.js';
import { cursorPlace, decodeToken, encodeToken, type PageToken, sortedCursor } from './paging.js';
import { issueMatcher } from './search.js';
import type { IssueTables } from './tables.js';

/**
 * The champions' triage board on the dashboard tab: open issues with filters, a search and a choice of
 * order, a page at a time. It reads one queue partition (the most selective filter picks it, as for the
 * `triage` command), bounded: queue order needs only the rows up to the page asked for; another order or a
 * search reads at most BOARD_SCAN rows and says so when there were more. Every order pages by a cursor, the last
 * issue shown (its queue key, or its place in the chosen order): issues triaged, prioritised or logged between two
 * pages then neither skip nor repeat another, as a page counted by position would. Done issues are listed by
 * `IssueQueries.triageQueue` (the archive), not here.
 */

export { BOARD_SORTS, type BoardSort } from './order.js';

export interface BoardQuery {
  filters: QueueFilters & { priority?: Priority | 'none' };
  /** Words of the title, a reference, a site, a category or a person's name. */
  search?: string;
  sort: BoardSort;
  /** 0-based; where the page starts only without `after`. */
  page: number;
  pageSize: number;
  /**
   * The `next` of the page before: the page starts after the issue it names. Issues triaged on one page move
   * down the queue (or out of a status filter), so "page n" counted again would skip as many; after a cursor skips none.
   */
  after?: string;
}

export interface BoardPage {
  items: IssueSummary[];
  /** How many issues match, when they were all read (null in plain queue order, which reads only up to the page). */
  total: number | null;
  hasMore: boolean;
  /** More open issues than BOARD_SCAN matched the filters: the search and the order covered the first ones in queue order. */
  truncated: boolean;
  /** Pass as `after` for the next page; null on the last. */
  next: string | null;
  /** Where the page starts in the list as it is now (0-based), when the list was read whole (see `total`). */
  start?: number;
  /** `after` was not a cursor of this order (tampered, or from another order): this is the first page. */
  restarted?: true;
}

export const BOARD_SCAN = 1000;
const COLUMNS = ['RowKey', ...SUMMARY_COLUMNS];

/** Pure: search, order and page rows that are already in queue order, from a decoded `after` if one was given. */
export function boardPage(
  rows: readonly IssueSummary[],
  q: Pick<BoardQuery, 'search' | 'sort' | 'page' | 'pageSize'> & { after?: PageToken },
  truncated: boolean,
): BoardPage {
  const match = issueMatcher(q.search);
  const matches = sortIssues(match ? rows.filter(match) : [...rows], q.sort);
  const { sort, after } = q;
  // Right after the cursor's place, whether or not its issue is still listed (it may have been triaged since).
  let start = q.page * q.pageSize;
  let restarted = false;
  if (after) {
    const found =
      sort === 'queue'
        ? after.a !== undefined && matches.findIndex((r) => queueRowKey(r) > after.a!)
        : after.c !== undefined && matches.findIndex((r) => compareIssues(r, cursorPlace(after.c!), sort) > 0);
    restarted = found === false;
    start = found === false ? 0 : found < 0 ? matches.length : found;
  }
  const items = matches.slice(start, start + q.pageSize);
  const hasMore = start + q.pageSize < matches.length;
  const last = items.at(-1);
  return {
    items,
    total: matches.length,
    start,
    hasMore,
    truncated,
    next: hasMore && last ? encodeToken(sort === 'queue' ? { a: queueRowKey(last) } : { c: sortedCursor(last) }) : null,
    ...(restarted ? { restarted: true as const } : {}),
  };
}

export class OpenIssues {
  private readonly queue: TableClient;

  constructor(
    t: Pick<IssueTables, 'idx'>,
    /** How many rows another order or a search reads at most (tests set it small). */
    private readonly scan = BOARD_SCAN,
  ) {
    this.queue = t.idx.queue;
  }

  /** Every open issue (the whole queue partition): for the adoption snapshot, off the request path. */
  async all(): Promise<IssueSummary[]> {
    return (await this.read(PART.queue, [], Number.POSITIVE_INFINITY)).rows;
  }

  /** One page of the board. A done status is not listed here (see the module comment). */
  async board(q: BoardQuery): Promise<BoardPage> {
    const { status, priority } = q.filters;
    if (status && !isOpen(status)) return { items: [], total: 0, hasMore: false, truncated: false, next: null };
    const { pk, extra } = queuePartition(q.filters);
    if (priority) extra.push(odata`priority eq ${PRIORITIES.includes(priority as Priority) ? priority : ''}`);
    const plain = !q.search?.trim() && q.sort === 'queue';
    // A cursor that does not parse is no cursor: the first page, said as such (as every list's token, paging.ts).
    const after = q.after === undefined ? undefined : decodeToken(q.after);
    if (plain) {
      // Queue order is the partition's own order: the rows up to this page (and one more) are enough.
      const from = after?.a;
      const skip = after === undefined ? q.page * q.pageSize : 0;
      const need = skip + q.pageSize + 1;
      const { rows, keys } = await this.read(pk, from === undefined ? extra : [...extra, odata`RowKey gt ${from}`], need);
      const items = rows.slice(skip, skip + q.pageSize);
      const hasMore = rows.length >= need;
      const last = keys[skip + items.length - 1];
      return {
        items,
        total: null,
        hasMore,
        truncated: false,
        next: hasMore && last !== undefined ? encodeToken({ a: last }) : null,
        ...(after && from === undefined ? { restarted: true as const } : {}),
      };
    }
    // One page of at most `scan` rows (one request): whether there were more, the service says.
    const { rows, more } = await this.read(pk, extra, this.scan);
    return boardPage(rows, { ...q, after }, more);
  }

  /** Up to `n` rows of one partition query (with their RowKeys), and whether the partition holds more. */
  private async read(partitionKey: string, extra: string[], n: number): Promise<{ rows: IssueSummary[]; keys: string[]; more: boolean }> {
    const filter = [odata`PartitionKey eq ${partitionKey}`, ...extra].join(' and ');
    const rows: IssueSummary[] = [];
    const keys: string[] = [];
    const pages = this.queue
      .listEntities<Record<string, unknown>>({ queryOptions: { filter, select: COLUMNS } })
      .byPage({ maxPageSize: Math.min(1000, Number.isFinite(n) ? n : 1000) });
    for await (const page of pages) {
      for (const row of page) {
        rows.push(summaryFromProps(row));
        keys.push(String(row.rowKey));
      }
      if (rows.length >= n) return { rows: rows.slice(0, n), keys: keys.slice(0, n), more: rows.length > n || Boolean(page.continuationToken) };
    }
    return { rows, keys, more: false };
  }
}
