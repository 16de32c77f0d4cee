import { odata, type TableClient } from '@azure/data-tables';
import { type Clock, systemClock } from '../clock.js';
import { invertedTime } from '../storage/tables.js';
import type { RefCounter } from './counter.js';
import { SUMMARY_COLUMNS } from './fields.js';
import { monthOf, nameKey, PART, queueRankPrefix, summaryFromProps } from './indexes.js';
import { type IssueSummary, isOpen, type NewIssue, PRIORITIES, type Priority, type Status } from './model.js';
import {
  decodeToken,
  encodeToken,
  type Page,
  type PageRequest,
  type PageToken,
  cursorPlace,
  pageLimit,
  sortedCursor,
} from './paging.js';
import { type BoardSort, compareIssues, type ListSort, SORTED_DONE_CAP, sortIssues } from './order.js';
import { issueMatcher } from './search.js';
import { issueKeywords, likeness, looksAlike } from './similarity.js';
import type { IssueTables } from './tables.js';

/**
 * The issue log's lists, each a read of one index partition (the archive: a few month partitions),
 * never a scan. See docs/storage-issues.md.
 */

export interface QueueFilters {
  status?: Status;
  category?: string;
  site?: string;
  assigneeId?: string;
  /** A done list's order (the `triage` command's `sort:`); the open queue keeps its own. */
  sort?: ListSort;
}

/** Issues created in [from, to); no `from` means since the beginning. */
/**
 * The open-issue queue's partition for these filters — the most selective one (assignee, site, category,
 * status) — and the OData conditions for the others, inside it. The triage command and the tab's board share it.
 */
export function queuePartition(filters: QueueFilters): { pk: string; extra: string[] } {
  const { status, category, site, assigneeId } = filters;
  let pk: string;
  const extra: string[] = [];
  if (assigneeId) pk = PART.queueAssignee(assigneeId);
  else if (site) pk = PART.queueSite(site);
  else if (category) pk = PART.queueCategory(category);
  else if (status) pk = PART.queueStatus(status);
  else pk = PART.queue;
  if (status && pk !== PART.queueStatus(status)) extra.push(odata`status eq ${status}`);
  if (category && pk !== PART.queueCategory(category)) extra.push(odata`categoryKey eq ${nameKey(category)}`);
  if (site && pk !== PART.queueSite(site)) extra.push(odata`siteKey eq ${nameKey(site)}`);
  return { pk, extra };
}

export interface CreatedWindow {
  from?: Date;
  to: Date;
}

/** "Is it one of these?" reads at most this many open issues of the category (queue order). */
const SIMILAR_SCAN = 300;
/** The columns a list line needs (category rows also hold keywords). */
const LIST_COLUMNS = ['RowKey', ...SUMMARY_COLUMNS];
/** What retention reads of an archive row: where it is, and which issue. */
const ARCHIVE_KEYS = ['PartitionKey', 'RowKey', 'ref'];
/** An archive page reads at most this many month partitions before returning what it has... */
const ARCHIVE_MONTHS_PER_PAGE = 6;
/**
 * ...unless it has found nothing yet: a page that says "nothing here" with closed issues a few quiet months
 * back reads as if there were none. Empty month partitions are cheap reads; five years bounds a page.
 */
const ARCHIVE_MONTHS_WHEN_EMPTY = 60;
/** ...then it jumps to the newest month with rows further back (a few probes each): at most this many times a page. */
const ARCHIVE_JUMPS_PER_PAGE = 3;
/** A search of the done issues reads at most this many rows per page, this many at a time. */
const ARCHIVE_SEARCH_SCAN = 1000;
const ARCHIVE_SEARCH_CHUNK = 200;

/**
 * A done list in an order other than its own (most recently closed first) is sorted after reading: it reads
 * at most this many rows (the most recently closed) and says so when there were more.
 */
const ARCHIVE_SORT_SCAN = SORTED_DONE_CAP;

/** What narrows the done issues beyond the index's filters (the tab's board offers all three). */
export interface ArchiveNarrowing {
  priority?: Priority | 'none';
  /** Words that must all appear (see issueMatcher). */
  search?: string;
  /** The order chosen; `queue` (or none) is the archive's own, most recently closed first. */
  sort?: BoardSort;
}

export class IssueQueries {
  private sinceCache: string | null = null;
  private readonly idx: IssueTables['idx'];

  constructor(
    t: IssueTables,
    /** Where the archive's months begin (the first reference's date). */
    private readonly counter: Pick<RefCounter, 'since'>,
    private readonly clock: Clock = systemClock,
  ) {
    this.idx = t.idx;
  }

  /**
   * Open issues that look like the same problem: same category and site, sharing words with the title
   * and description. One bounded read of the category's queue partition.
   */
  async findSimilarOpen(
    input: Pick<NewIssue, 'category' | 'site' | 'title' | 'description'>,
    limit = 5,
  ): Promise<IssueSummary[]> {
    if (!input.category?.trim() || !input.site?.trim()) return [];
    const mine = issueKeywords(input.title ?? '', input.description ?? '');
    if (!mine.length) return [];
    const rows = await this.take(
      this.idx.queue,
      [
        odata`PartitionKey eq ${PART.queueCategory(input.category)}`,
        odata`siteKey eq ${nameKey(input.site)}`,
      ],
      SIMILAR_SCAN,
      [...LIST_COLUMNS, 'kw'],
    );
    return rows
      .map((r) => ({
        r,
        kw: String(r.kw ?? '')
          .split(' ')
          .filter(Boolean),
      }))
      .filter(({ kw }) => looksAlike(mine, kw))
      .map(({ r, kw }) => ({ summary: summaryFromProps(r), score: likeness(mine, kw) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, limit)
      .map((x) => x.summary);
  }

  // ---- lists --------------------------------------------------------------------------------------

  /** Reads up to `n` rows of one partition query, following continuation pages. */
  private async take(
    client: TableClient,
    conditions: string[],
    n: number,
    select?: string[],
  ): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    const queryOptions = { filter: conditions.join(' and '), ...(select ? { select } : {}) };
    const iter = client
      .listEntities<Record<string, unknown>>({ queryOptions })
      .byPage({ maxPageSize: Math.min(1000, n) });
    for await (const page of iter) {
      out.push(...page);
      if (out.length >= n) break;
    }
    return out.slice(0, n);
  }

  private async partitionPage(
    client: TableClient,
    partitionKey: string,
    extra: string[],
    limit: number,
    token: PageToken,
  ): Promise<Page<IssueSummary>> {
    const conds = [odata`PartitionKey eq ${partitionKey}`];
    if (token.a) conds.push(odata`RowKey gt ${token.a}`);
    else if (token.rk) conds.push(odata`RowKey ge ${token.rk}`);
    const rows = await this.take(client, [...conds, ...extra], limit + 1, LIST_COLUMNS);
    const last = rows[Math.min(limit, rows.length) - 1];
    return {
      items: rows.slice(0, limit).map(summaryFromProps),
      // After the last one shown (as the tab's board pages): not the next one's key, which would skip an issue that
      // lands between the two before the next press.
      next: rows.length > limit && last ? encodeToken({ a: String(last.rowKey) }) : null,
    };
  }

  /** "my issues": the reporter's issues, newest first, any status. */
  listByReporter(reporterId: string, page?: PageRequest): Promise<Page<IssueSummary>> {
    return this.partitionPage(
      this.idx.reporter,
      PART.reporter(reporterId),
      [],
      pageLimit(page),
      decodeToken(page?.token),
    );
  }

  /** "assigned": a champion's open issues, in queue order. */
  listAssigned(championId: string, page?: PageRequest): Promise<Page<IssueSummary>> {
    return this.partitionPage(
      this.idx.queue,
      PART.queueAssignee(championId),
      [],
      pageLimit(page),
      decodeToken(page?.token),
    );
  }

  /**
   * "triage": open issues, New first, then by priority, then oldest first, with optional filters.
   * The most selective filter picks the partition (assignee, site, category, status); the others
   * filter inside it. A done status (resolved, closed, won't fix, duplicate) lists the archive instead,
   * most recently closed first.
   */
  async triageQueue(filters: QueueFilters = {}, page?: PageRequest, narrow: ArchiveNarrowing = {}): Promise<Page<IssueSummary>> {
    const limit = pageLimit(page);
    const token = decodeToken(page?.token);
    if (filters.status && !isOpen(filters.status)) {
      return this.archivePage(filters, limit, token, { ...(filters.sort ? { sort: filters.sort } : {}), ...narrow });
    }
    const { pk, extra } = queuePartition(filters);
    return this.partitionPage(this.idx.queue, pk, extra, limit, token);
  }

  private async since(): Promise<string | null> {
    this.sinceCache ??= await this.counter.since();
    return this.sinceCache;
  }

  /**
   * Done issues, most recently closed first. A search cannot be asked of Table storage, so its rows are
   * matched here as they are read: at most ARCHIVE_SEARCH_SCAN rows per page, then the page ends with a
   * token that resumes right after the last row read (so a rare word never makes one request read the
   * whole archive, and the next page neither skips nor repeats a row).
   */
  private async archivePage(
    filters: QueueFilters,
    limit: number,
    token: PageToken,
    narrow: ArchiveNarrowing,
  ): Promise<Page<IssueSummary>> {
    if (narrow.sort && narrow.sort !== 'queue') return this.sortedArchivePage(filters, limit, token, { ...narrow, sort: narrow.sort });
    const since = await this.since();
    if (!since) return { items: [], next: null };
    const extra = archiveConditions(filters, narrow);
    const match = issueMatcher(narrow.search);
    const floor = monthOf(since);
    const current = monthOf(this.clock.now().toISOString());
    // A token names a month it was made in, so never a later one: a forged future month starts at the first page.
    const fromToken = token.m !== undefined && token.m <= current;
    let month = fromToken ? (token.m as string) : current;
    let rk = fromToken ? token.rk : undefined;
    let budget = ARCHIVE_SEARCH_SCAN;
    const found: { item: IssueSummary; rowKey: string; month: string }[] = [];
    const pageOf = (next: PageToken | null): Page<IssueSummary> => ({
      items: found.slice(0, limit).map((f) => f.item),
      next: next ? encodeToken(next) : null,
    });
    let jumps = 0;
    for (let i = 0, empty = 0; month >= floor; i++, empty++) {
      if (i >= ARCHIVE_MONTHS_PER_PAGE && found.length > 0) break;
      if (empty >= ARCHIVE_MONTHS_WHEN_EMPTY && found.length === 0) {
        // Five years of nothing: jump to the newest month further back that has rows, or end the list, rather
        // than return an empty page that says there is more. A search may match none of the rows there: it reads
        // on (its scan budget bounds it), with a few jumps a page at most.
        if (jumps++ >= ARCHIVE_JUMPS_PER_PAGE) break;
        const newest = await this.newestMonthWithRows(floor, month, extra);
        if (!newest) return pageOf(null);
        month = newest;
        rk = undefined;
        empty = 0;
      }
      for (;;) {
        const conds = [odata`PartitionKey eq ${PART.archiveMonth(month)}`];
        if (rk) conds.push(odata`RowKey ge ${rk}`);
        // Without a search every row is shown: just enough for the page and the next one's start.
        const want = match ? Math.min(ARCHIVE_SEARCH_CHUNK, budget) : limit + 1 - found.length;
        const rows = await this.take(this.idx.archive, [...conds, ...extra], match ? want + 1 : want, LIST_COLUMNS);
        const read = rows.slice(0, want);
        for (const row of read) {
          const item = summaryFromProps(row);
          if (!match || match(item)) found.push({ item, rowKey: String(row.rowKey), month });
          const after = found[limit];
          if (after) return pageOf({ m: after.month, rk: after.rowKey });
        }
        budget -= read.length;
        const resume = match ? rows[want] : undefined;
        if (!resume) break; // this month is read to its end
        rk = String(resume.rowKey);
        if (budget <= 0) return pageOf({ m: month, rk });
      }
      month = previousMonth(month);
      rk = undefined;
      if (match && budget <= 0) break;
    }
    return pageOf(month >= floor ? { m: month } : null);
  }

  /**
   * The newest month in [from, to] holding an archive row that meets `extra`, or null when none does. A probe asks
   * for one row in a range of month partitions, which answers the oldest first: the first probe gives the oldest
   * month with rows, then a binary search narrows to the newest, about log2(months) probes (7 for ten years).
   */
  private async newestMonthWithRows(from: string, to: string, extra: string[]): Promise<string | null> {
    const oldestIn = async (m: string): Promise<string | null> => {
      const [row] = await this.take(
        this.idx.archive,
        [odata`PartitionKey ge ${PART.archiveMonth(m)} and PartitionKey le ${PART.archiveMonth(to)}`, ...extra],
        1,
        ['PartitionKey'],
      );
      const month = String(row?.partitionKey ?? '').slice(PART.archiveMonth('').length);
      return /^\d{6}$/.test(month) ? month : null;
    };
    const oldest = await oldestIn(from);
    if (!oldest) return null;
    let lo = monthIndex(oldest);
    let hi = monthIndex(to);
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const found = await oldestIn(monthAt(mid));
      if (found) lo = monthIndex(found);
      else hi = mid - 1;
    }
    return monthAt(lo);
  }

  /**
   * Done issues in a chosen order (oldest, newest, priority): the archive's rows cannot be read in that order,
   * so the most recently closed ARCHIVE_SORT_SCAN rows are read (month by month, narrowed as the plain list
   * is), sorted, and paged by an offset in the token. `truncated` says the order covered only those: only when
   * there are more rows than it read (not merely more months than it walked).
   */
  private async sortedArchivePage(
    filters: QueueFilters,
    limit: number,
    token: PageToken,
    narrow: ArchiveNarrowing & { sort: Exclude<BoardSort, 'queue'> },
  ): Promise<Page<IssueSummary>> {
    const since = await this.since();
    if (!since) return { items: [], next: null };
    const extra = archiveConditions(filters, narrow);
    const match = issueMatcher(narrow.search);
    const floor = monthOf(since);
    let month = monthOf(this.clock.now().toISOString());
    const rows: IssueSummary[] = [];
    let budget = ARCHIVE_SORT_SCAN;
    let truncated = false;
    const keep = (read: Record<string, unknown>[]) => {
      for (const row of read) {
        const item = summaryFromProps(row);
        if (!match || match(item)) rows.push(item);
      }
    };
    for (let i = 0; month >= floor; i++, month = previousMonth(month)) {
      if (i >= ARCHIVE_MONTHS_WHEN_EMPTY) {
        // Months further back are read in one range (month by month, a long rollout's empty months would each
        // cost a request). It returns the oldest month first, so its rows are sorted in only when all of them
        // fit the budget: else they are not the most recently closed, and there really are more.
        const older = await this.take(
          this.idx.archive,
          [odata`PartitionKey ge ${PART.archiveMonth(floor)} and PartitionKey le ${PART.archiveMonth(month)}`, ...extra],
          budget + 1,
          LIST_COLUMNS,
        );
        if (older.length > budget) truncated = true;
        else keep(older);
        break;
      }
      // With the budget spent, each older month is still read for one row: "there are more" only when there are
      // (exactly 1,000 done issues, then empty months, is all of them).
      const read = await this.take(this.idx.archive, [odata`PartitionKey eq ${PART.archiveMonth(month)}`, ...extra], budget + 1, LIST_COLUMNS);
      if (read.length > budget) truncated = true;
      keep(read.slice(0, budget));
      budget -= read.length;
      if (truncated) break;
    }
    sortIssues(rows, narrow.sort);
    const sort = narrow.sort;
    // After the last issue shown, found by its place in the order (it may have been reopened since): an issue
    // closed or reopened before it meanwhile neither repeats nor skips one. `o` is an older card's offset.
    const cursor = token.c && cursorPlace(token.c);
    const found = cursor ? rows.findIndex((r) => compareIssues(r, cursor, sort) > 0) : -1;
    const start = cursor ? (found < 0 ? rows.length : found) : Math.min(token.o ?? 0, rows.length);
    const end = start + limit;
    const last = rows[Math.min(end, rows.length) - 1];
    return {
      items: rows.slice(start, end),
      next: end < rows.length && last ? encodeToken({ c: sortedCursor(last) }) : null,
      ...(truncated ? { truncated, sorted: rows.length } : {}),
    };
  }

  /**
   * Untriaged (New) issues, for the SLA check: one partition, as small as triage keeps it. `windows`
   * narrows it to issues created inside any of the given time ranges (filtered by the service), plus every
   * New P1 issue whatever its age: one raised to P1 after it had passed the escalation limit lies in no
   * window, and P1 issues sort first in the partition (one short RowKey range). None means all New issues.
   */
  async untriaged(windows: readonly CreatedWindow[] = []): Promise<IssueSummary[]> {
    const conds = [odata`PartitionKey eq ${PART.queueStatus('new')}`];
    const ranges = windows.map((w) =>
      w.from
        ? odata`(createdAt ge ${w.from.toISOString()} and createdAt lt ${w.to.toISOString()})`
        : odata`(createdAt lt ${w.to.toISOString()})`,
    );
    if (ranges.length) {
      // New P1 rows start `01~`; the next rank's start (`02~`) ends them.
      const p1 = queueRankPrefix({ status: 'new', priority: 'P1' });
      const p2 = queueRankPrefix({ status: 'new', priority: 'P2' });
      ranges.push(odata`(RowKey ge ${p1} and RowKey lt ${p2})`);
      conds.push(`(${ranges.join(' or ')})`);
    }
    const rows = await this.take(this.idx.queue, conds, Number.POSITIVE_INFINITY, LIST_COLUMNS);
    return rows.map(summaryFromProps);
  }


  // ---- privacy (src/issues/privacy.ts) --------------------------------------------------------------------

  /** Every issue a person is in (their `who~` rows) or reported (`rep~`: also issues logged before `who~` rows). */
  async refsOf(personId: string): Promise<string[]> {
    const read = (pk: string) =>
      this.take(this.idx.reporter, [odata`PartitionKey eq ${pk}`], Number.POSITIVE_INFINITY, ['ref']);
    const rows = (await Promise.all([read(PART.person(personId)), read(PART.reporter(personId))])).flat();
    return [...new Set(rows.map((r) => String(r.ref ?? '')).filter(Boolean))];
  }

  /**
   * Retention: up to `limit` done issues closed before `before`, oldest first, with the archive row each was
   * found by. Whole months before `before`'s month are one range of partitions; that month, a range of rows
   * (its rows sort newest first by closing time).
   */
  async closedBefore(before: Date, limit: number): Promise<{ ref: string; partitionKey: string; rowKey: string }[]> {
    const month = monthOf(before.toISOString());
    const oldMonths = await this.take(
      this.idx.archive,
      [odata`PartitionKey ge ${PART.archiveMonth('')} and PartitionKey lt ${PART.archiveMonth(month)}`],
      limit,
      ARCHIVE_KEYS,
    );
    const later = String(Number(invertedTime(before)) + 1).padStart(13, '0');
    const thisMonth =
      oldMonths.length < limit
        ? await this.take(
            this.idx.archive,
            [odata`PartitionKey eq ${PART.archiveMonth(month)} and RowKey ge ${later}`],
            limit - oldMonths.length,
            ARCHIVE_KEYS,
          )
        : [];
    return [...oldMonths, ...thisMonth].map((r) => ({
      ref: String(r.ref),
      partitionKey: String(r.partitionKey),
      rowKey: String(r.rowKey),
    }));
  }
}

/** The archive rows' own conditions for the filters and narrowing (each month partition is read with them). */
function archiveConditions(filters: QueueFilters, narrow: ArchiveNarrowing): string[] {
  const extra: string[] = [];
  if (filters.status) extra.push(odata`status eq ${filters.status}`);
  if (filters.category) extra.push(odata`categoryKey eq ${nameKey(filters.category)}`);
  if (filters.site) extra.push(odata`siteKey eq ${nameKey(filters.site)}`);
  if (filters.assigneeId) extra.push(odata`assigneeId eq ${filters.assigneeId}`);
  if (narrow.priority) extra.push(odata`priority eq ${PRIORITIES.includes(narrow.priority as Priority) ? narrow.priority : ''}`);
  return extra;
}

/** Months since year 0, so a range of months can be halved; monthAt turns one back into YYYYMM. */
function monthIndex(yyyymm: string): number {
  return Number(yyyymm.slice(0, 4)) * 12 + Number(yyyymm.slice(4, 6)) - 1;
}

function monthAt(index: number): string {
  return `${Math.floor(index / 12)}${String((index % 12) + 1).padStart(2, '0')}`;
}

function previousMonth(yyyymm: string): string {
  const y = Number(yyyymm.slice(0, 4));
  const m = Number(yyyymm.slice(4, 6));
  return m === 1 ? `${y - 1}12` : `${y}${String(m - 1).padStart(2, '0')}`;
}
