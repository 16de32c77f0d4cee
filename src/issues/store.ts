import { odata, type TableClient, TableTransaction } from '@azure/data-tables';
import { type Clock, systemClock } from '../clock.js';
import { isConflict, isNotFound, isPreconditionFailed, type Tables } from '../storage/tables.js';
import { RefCounter } from './counter.js';
import { csvHeader, issueCsvLine } from './csv.js';
import { entityToIssue, IssueTooLargeError, issueToEntity } from './entity.js';
import { IndexWriter, type PendingChange } from './index-writer.js';
import {
  type IndexRow,
  type IndexTable,
  indexRowsFor,
  monthOf,
  nameKey,
  PART,
  summaryFromProps,
} from './indexes.js';
import {
  DEFAULT_ISSUES_CONFIG,
  type HistoryEntry,
  type Issue,
  type IssueSummary,
  type IssuesConfig,
  isOpen,
  type NewIssue,
  type Person,
  type Reporter,
  type Status,
} from './model.js';
import {
  decodeToken,
  encodeToken,
  type Page,
  type PageRequest,
  type PageToken,
  pageLimit,
} from './paging.js';
import { assertRefPrefix, formatRef, parseRef, refBucket } from './refs.js';
import {
  type ActionOutcome,
  addAffectedUser,
  applyTriageAction,
  concurrentChange,
  createIssue,
  describeChange,
  type Notification,
  type TriageAction,
} from './rules.js';
import { issueKeywords, likeness, looksAlike } from './similarity.js';
import { type FieldErrors, validateNewIssue, validateReporter } from './validation.js';

/**
 * The issue log on Azure Tables. Every query here reads one partition (or a few month partitions of the
 * archive); only `allIssues` (export) reads the whole table. Table and key design: docs/storage-issues.md.
 */

export const ISSUE_TABLES = {
  issues: 'Issues',
  queue: 'IssueQueue',
  archive: 'IssueArchive',
  reporter: 'IssueByReporter',
} as const;

export type LogResult =
  | { kind: 'created'; issue: Issue }
  /** The same idempotency key was logged before (a Teams retry): the issue it made, nothing new saved. */
  | { kind: 'existing'; issue: Issue }
  | { kind: 'invalid'; errors: FieldErrors };

export type ActResult =
  | { kind: 'updated'; issue: Issue; entry: HistoryEntry; notifyReporter?: Notification }
  /** Someone changed the same thing first; `issue` is fresh, `message` says who did what. */
  | { kind: 'conflict'; issue: Issue; message: string }
  /** The action does not apply to the issue as it is (or changes nothing); `issue` is fresh. */
  | { kind: 'refused'; issue: Issue; code: 'invalid' | 'no-change'; message: string }
  /** This request id was applied already (a retried invoke): nothing changed again. */
  | { kind: 'repeated'; issue: Issue }
  | { kind: 'not-found'; message: string };

export interface QueueFilters {
  status?: Status;
  category?: string;
  site?: string;
  assigneeId?: string;
}

/** Issues created in [from, to); no `from` means since the beginning. */
export interface CreatedWindow {
  from?: Date;
  to: Date;
}

export interface ActOptions {
  /** The version the champion's card showed; a change to the same field since then is a conflict. */
  version?: number;
  /** Teams' invoke activity id: a retried invoke with the same id is applied once. */
  requestId?: string;
}

export interface IssueStoreOptions {
  config?: Partial<IssuesConfig>;
  clock?: Clock;
  /** Index rows could not be written after the main row; the repair path will fix them. For logging. */
  onIndexError?: (err: unknown, ref: string) => void;
}

interface Loaded {
  issue: Issue;
  etag: string;
  requests: string[];
}

const MAX_UPDATE_ATTEMPTS = 12;
/** How many recent request ids the main row remembers for invoke retries. */
const RECENT_REQUESTS = 20;
/** "Is it one of these?" reads at most this many open issues of the category (queue order). */
const SIMILAR_SCAN = 300;
/** The columns a list line needs (index rows of the category partition also hold keywords). */
const SUMMARY_COLUMNS = [
  'RowKey',
  'ref',
  'title',
  'status',
  'priority',
  'severity',
  'category',
  'site',
  'assigneeId',
  'assigneeName',
  'reporterId',
  'reporterName',
  'affectedCount',
  'createdAt',
];
/** An archive page reads at most this many month partitions before returning what it has. */
const ARCHIVE_MONTHS_PER_PAGE = 6;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class IssueStore {
  readonly config: IssuesConfig;
  private readonly clock: Clock;
  private readonly counter: RefCounter;
  private readonly index: IndexWriter;
  private sinceCache: string | null = null;

  private constructor(
    private readonly main: TableClient,
    private readonly idx: Record<IndexTable, TableClient>,
    options: IssueStoreOptions,
    private readonly onIndexError: (err: unknown, ref: string) => void,
  ) {
    this.config = { ...DEFAULT_ISSUES_CONFIG, ...options.config };
    assertRefPrefix(this.config.refPrefix);
    this.clock = options.clock ?? systemClock;
    this.counter = new RefCounter(main, this.config.refPrefix);
    this.index = new IndexWriter(idx, main, (ref) => this.get(ref));
  }

  static async open(tables: Tables, options: IssueStoreOptions = {}): Promise<IssueStore> {
    const [main, queue, archive, reporter] = await Promise.all([
      tables.table(ISSUE_TABLES.issues),
      tables.table(ISSUE_TABLES.queue),
      tables.table(ISSUE_TABLES.archive),
      tables.table(ISSUE_TABLES.reporter),
    ]);
    return new IssueStore(main, { queue, archive, reporter }, options, options.onIndexError ?? (() => {}));
  }

  private get prefix() {
    return this.config.refPrefix;
  }

  // ---- reads of one issue -------------------------------------------------------------------------

  private async load(ref: string): Promise<Loaded | null> {
    const parsed = parseRef(ref, this.prefix);
    if (!parsed) return null;
    try {
      const e = await this.main.getEntity<Record<string, unknown>>(
        refBucket(this.prefix, parsed.number),
        parsed.ref,
      );
      const requests = typeof e.recentRequests === 'string' ? (JSON.parse(e.recentRequests) as string[]) : [];
      return { issue: entityToIssue(e), etag: e.etag, requests };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** One issue with its full history and comments (a champion's view; see `reporterView` for the reporter's). */
  async get(ref: string): Promise<Issue | null> {
    return (await this.load(ref))?.issue ?? null;
  }

  /** Same as `get`: history lives in the main row, so this is one point read. */
  getWithHistory(ref: string): Promise<Issue | null> {
    return this.get(ref);
  }

  /** What a user typed (`R-42`, `r-0042`) → the issue, or the message to show. */
  async lookup(text: string): Promise<{ ok: true; issue: Issue } | { ok: false; message: string }> {
    const parsed = parseRef(text, this.prefix);
    if (!parsed) {
      return {
        ok: false,
        message: `"${text.trim().slice(0, 40)}" is not an issue reference (like ${formatRef(this.prefix, 42)}).`,
      };
    }
    const issue = await this.get(parsed.ref);
    return issue ? { ok: true, issue } : { ok: false, message: `no issue ${parsed.ref}` };
  }

  // ---- logging ------------------------------------------------------------------------------------

  /**
   * Validates and saves a report. With an idempotency key (Teams' activity id), a retried request
   * returns the issue the first one made, and never makes a second.
   */
  async logIssue(
    form: unknown,
    reporter: Reporter,
    opts: { idempotencyKey?: string } = {},
  ): Promise<LogResult> {
    const fields = validateNewIssue(form, this.config.categories);
    if (!fields.ok) return { kind: 'invalid', errors: fields.errors };
    const who = validateReporter(reporter);
    if (!who.ok)
      return { kind: 'invalid', errors: { form: 'Who is reporting could not be read; try again.' } };

    const now = this.clock.now();
    const build = (n: number) => createIssue(fields.value, who.value, formatRef(this.prefix, n), n, now);
    // The repair marker rides in the counter transaction: from the moment the number exists, a crash
    // at any later step leaves a marker for repairIndexes().
    const prepared: { change?: PendingChange } = {};
    const alloc = await this.counter.allocate(now, opts.idempotencyKey, (n) => {
      prepared.change = this.index.prepare(null, build(n), now);
      return prepared.change.marker ? [prepared.change.marker] : [];
    });
    const issue = build(alloc.number);
    const change =
      alloc.fresh && prepared.change?.ref === issue.ref
        ? prepared.change
        : this.index.prepare(null, issue, now);
    if (!alloc.fresh) {
      const earlier = await this.get(issue.ref);
      if (earlier) return { kind: 'existing', issue: earlier };
      // The first request got its number but has not saved the issue (still running, or it died): finish it.
      await this.index.record(change);
    }
    try {
      await this.main.createEntity(issueToEntity(issue, this.prefix));
    } catch (err) {
      if (!isConflict(err)) throw err;
      await this.index.abandon(change);
      const earlier = await this.get(issue.ref);
      if (!earlier) throw err;
      return { kind: 'existing', issue: earlier };
    }
    await this.finishIndex(change, issue.version, true);
    return { kind: 'created', issue };
  }

  private async finishIndex(change: PendingChange, version: number, fresh = false): Promise<void> {
    try {
      await this.index.complete(change, version, fresh);
    } catch (err) {
      // The main row is saved and is the truth; the marker stays, and repairIndexes() rebuilds the rows.
      this.onIndexError(err, change.ref);
    }
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
      [...SUMMARY_COLUMNS, 'kw'],
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

  // ---- changes ------------------------------------------------------------------------------------

  /** "Me too" (+1) from the similar-issues card: idempotent per user. */
  addAffected(ref: string, user: Person, opts: { requestId?: string } = {}): Promise<ActResult> {
    return this.update(ref, (issue, now) => addAffectedUser(issue, user, now), opts);
  }

  /**
   * A champion's triage action, as an ETag-guarded read-modify-write. On 412 it reloads and re-applies
   * the action if nobody changed the same field, else returns a conflict with the fresh issue.
   * The caller has checked the actor's role (ACTION_ROLE) and, for `assign`, that the assignee is a champion.
   */
  async act(ref: string, action: TriageAction, actor: Person, opts: ActOptions = {}): Promise<ActResult> {
    if (action.kind === 'duplicate') {
      const target = parseRef(action.of, this.prefix);
      if (!target) return this.refusedOrMissing(ref, `"${action.of}" is not an issue reference.`);
      if (!(await this.get(target.ref))) return this.refusedOrMissing(ref, `no issue ${target.ref}`);
      action = { kind: 'duplicate', of: target.ref };
    }
    const a = action;
    return this.update(ref, (issue, now) => applyTriageAction(issue, a, actor, now), {
      ...opts,
      conflict: (issue, base) => {
        const change = concurrentChange(issue, base, a);
        // The actor's own earlier change (a second click, another card of theirs) is not a race to
        // report: the rule then says "already ..." or applies the new value.
        return change && change.by.id !== actor.id ? describeChange(change) : null;
      },
    });
  }

  private async refusedOrMissing(ref: string, message: string): Promise<ActResult> {
    const issue = await this.get(ref);
    return issue
      ? { kind: 'refused', issue, code: 'invalid', message }
      : { kind: 'not-found', message: `no issue ${ref}` };
  }

  private async update(
    ref: string,
    mutate: (issue: Issue, now: Date) => ActionOutcome,
    opts: ActOptions & { conflict?: (issue: Issue, baseVersion: number) => string | null },
  ): Promise<ActResult> {
    let base = opts.version;
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const loaded = await this.load(ref);
      if (!loaded)
        return { kind: 'not-found', message: `no issue ${parseRef(ref, this.prefix)?.ref ?? ref}` };
      const { issue, etag } = loaded;
      if (opts.requestId && loaded.requests.includes(opts.requestId)) return { kind: 'repeated', issue };
      if (base !== undefined && base < issue.version && opts.conflict) {
        const message = opts.conflict(issue, base);
        if (message) return { kind: 'conflict', issue, message };
      }
      const now = this.clock.now();
      const outcome = mutate(issue, now);
      if (!outcome.ok) return { kind: 'refused', issue, code: outcome.code, message: outcome.message };

      let entity: ReturnType<typeof issueToEntity>;
      try {
        entity = issueToEntity(outcome.issue, this.prefix);
      } catch (err) {
        if (err instanceof IssueTooLargeError)
          return { kind: 'refused', issue, code: 'invalid', message: err.message };
        throw err;
      }
      if (opts.requestId) {
        entity.recentRequests = JSON.stringify([...loaded.requests, opts.requestId].slice(-RECENT_REQUESTS));
      }
      const change = this.index.prepare(issue, outcome.issue, now);
      await this.index.record(change);
      try {
        await this.main.updateEntity(entity, 'Merge', { etag });
      } catch (err) {
        await this.index.abandon(change);
        if (!isPreconditionFailed(err)) throw err;
        // Someone wrote first: judge the action against what they changed since the version we acted on.
        base ??= issue.version;
        await sleep(Math.random() * 5 * (attempt + 1));
        continue;
      }
      await this.finishIndex(change, outcome.issue.version);
      const result: ActResult = { kind: 'updated', issue: outcome.issue, entry: outcome.entry };
      if (outcome.notifyReporter) result.notifyReporter = outcome.notifyReporter;
      return result;
    }
    const fresh = await this.get(ref);
    if (!fresh) return { kind: 'not-found', message: `no issue ${ref}` };
    return { kind: 'conflict', issue: fresh, message: 'The issue is changing a lot right now; try again.' };
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
    if (token.rk) conds.push(odata`RowKey ge ${token.rk}`);
    const rows = await this.take(client, [...conds, ...extra], limit + 1, SUMMARY_COLUMNS);
    const after = rows[limit];
    return {
      items: rows.slice(0, limit).map(summaryFromProps),
      next: after ? encodeToken({ rk: String(after.rowKey) }) : null,
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
  async triageQueue(filters: QueueFilters = {}, page?: PageRequest): Promise<Page<IssueSummary>> {
    const limit = pageLimit(page);
    const token = decodeToken(page?.token);
    if (filters.status && !isOpen(filters.status)) return this.archivePage(filters, limit, token);
    const { status, category, site, assigneeId } = filters;
    let pk: string;
    const extra: string[] = [];
    if (assigneeId) pk = PART.queueAssignee(assigneeId);
    else if (site) pk = PART.queueSite(site);
    else if (category) pk = PART.queueCategory(category);
    else if (status) pk = PART.queueStatus(status);
    else pk = PART.queue;
    if (status && pk !== PART.queueStatus(status)) extra.push(odata`status eq ${status}`);
    if (category && pk !== PART.queueCategory(category))
      extra.push(odata`categoryKey eq ${nameKey(category)}`);
    if (site && pk !== PART.queueSite(site)) extra.push(odata`siteKey eq ${nameKey(site)}`);
    return this.partitionPage(this.idx.queue, pk, extra, limit, token);
  }

  private async since(): Promise<string | null> {
    this.sinceCache ??= await this.counter.since();
    return this.sinceCache;
  }

  private async archivePage(
    filters: QueueFilters,
    limit: number,
    token: PageToken,
  ): Promise<Page<IssueSummary>> {
    const since = await this.since();
    if (!since) return { items: [], next: null };
    const extra: string[] = [];
    if (filters.status) extra.push(odata`status eq ${filters.status}`);
    if (filters.category) extra.push(odata`categoryKey eq ${nameKey(filters.category)}`);
    if (filters.site) extra.push(odata`siteKey eq ${nameKey(filters.site)}`);
    if (filters.assigneeId) extra.push(odata`assigneeId eq ${filters.assigneeId}`);
    const floor = monthOf(since);
    let month = token.m ?? monthOf(this.clock.now().toISOString());
    let rk = token.rk;
    const found: { row: Record<string, unknown>; month: string }[] = [];
    for (let i = 0; i < ARCHIVE_MONTHS_PER_PAGE && month >= floor; i++) {
      const conds = [odata`PartitionKey eq ${PART.archiveMonth(month)}`];
      if (rk) conds.push(odata`RowKey ge ${rk}`);
      const rows = await this.take(
        this.idx.archive,
        [...conds, ...extra],
        limit + 1 - found.length,
        SUMMARY_COLUMNS,
      );
      for (const row of rows) found.push({ row, month });
      if (found.length > limit) break;
      month = previousMonth(month);
      rk = undefined;
    }
    const after = found[limit];
    const next = after
      ? encodeToken({ m: after.month, rk: String(after.row.rowKey) })
      : month >= floor
        ? encodeToken({ m: month })
        : null;
    return { items: found.slice(0, limit).map((f) => summaryFromProps(f.row)), next };
  }

  /**
   * Untriaged (New) issues, for the SLA check: one partition, as small as triage keeps it. `windows`
   * narrows it to issues created inside any of the given time ranges (filtered by the service);
   * none means all of them.
   */
  async untriaged(windows: readonly CreatedWindow[] = []): Promise<IssueSummary[]> {
    const conds = [odata`PartitionKey eq ${PART.queueStatus('new')}`];
    const ranges = windows.map((w) =>
      w.from
        ? odata`(createdAt ge ${w.from.toISOString()} and createdAt lt ${w.to.toISOString()})`
        : odata`(createdAt lt ${w.to.toISOString()})`,
    );
    if (ranges.length) conds.push(`(${ranges.join(' or ')})`);
    const rows = await this.take(this.idx.queue, conds, Number.POSITIVE_INFINITY, SUMMARY_COLUMNS);
    return rows.map(summaryFromProps);
  }

  // ---- export, repair, bulk load ------------------------------------------------------------------

  /** Every issue, a page at a time. The export is the only reader of the whole table. */
  async *allIssues(pageSize = 500): AsyncGenerator<Issue[]> {
    const iter = this.main
      .listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`kind eq ${'issue'}` } })
      .byPage({ maxPageSize: pageSize });
    for await (const page of iter) yield page.map((e) => entityToIssue(e));
  }

  /** The CSV export of all issues, with history counts, a page of lines at a time (for streaming a file). */
  async *exportCsvChunks(pageSize = 500): AsyncGenerator<string> {
    yield csvHeader();
    for await (const page of this.allIssues(pageSize)) yield page.map(issueCsvLine).join('');
  }

  /** The whole CSV export as one string. */
  async exportCsv(): Promise<string> {
    const parts: string[] = [];
    for await (const chunk of this.exportCsvChunks()) parts.push(chunk);
    return parts.join('');
  }

  /** Rebuilds index rows of changes that did not finish (markers older than `olderThanMs`). Run on the scheduler. */
  repairIndexes(olderThanMs = 60_000): Promise<number> {
    return this.index.repairPending(new Date(this.clock.now().getTime() - olderThanMs));
  }

  /** Rewrites one issue's index rows from its main row (support tool). */
  async reindex(ref: string): Promise<void> {
    const issue = await this.get(ref);
    if (issue)
      await this.index.rewrite(
        issue,
        indexRowsFor(issue).map((r) => `${r.table}|${r.partitionKey}|${r.rowKey}`),
      );
  }

  /**
   * Loads many issues at once (bench, migration) with transactions of up to 100 rows per partition,
   * `parallel` in flight. The issues must be new; the counter is raised past the highest number.
   */
  async bulkLoad(issues: readonly Issue[], opts: { parallel?: number } = {}): Promise<void> {
    type Batch = { client: TableClient; tx: TableTransaction };
    const batches: Batch[] = [];
    const open = new Map<string, Batch>();
    const add = (client: TableClient, key: string, entity: { partitionKey: string; rowKey: string }) => {
      let b = open.get(key);
      if (!b) {
        b = { client, tx: new TableTransaction() };
        open.set(key, b);
        batches.push(b);
      }
      b.tx.createEntity(entity);
      if (b.tx.actions.length === 100) open.delete(key);
    };
    for (const issue of issues) {
      const e = issueToEntity(issue, this.prefix);
      add(this.main, `main|${e.partitionKey}`, e);
      for (const r of indexRowsFor(issue))
        add(this.idx[r.table], `${r.table}|${r.partitionKey}`, rowEntity(r));
    }
    let next = 0;
    const workers = Array.from({ length: Math.max(1, opts.parallel ?? 4) }, async () => {
      while (next < batches.length) {
        const b = batches[next++]!;
        await b.client.submitTransaction(b.tx.actions);
      }
    });
    await Promise.all(workers);
    if (issues.length) {
      let max = 0;
      let since = issues[0]!.createdAt;
      for (const i of issues) {
        if (i.number > max) max = i.number;
        if (i.createdAt < since) since = i.createdAt;
      }
      await this.counter.raiseTo(max, since);
      this.sinceCache = null;
    }
  }
}

function rowEntity(r: IndexRow) {
  return { partitionKey: r.partitionKey, rowKey: r.rowKey, ...r.props };
}

function previousMonth(yyyymm: string): string {
  const y = Number(yyyymm.slice(0, 4));
  const m = Number(yyyymm.slice(4, 6));
  return m === 1 ? `${y - 1}12` : `${y}${String(m - 1).padStart(2, '0')}`;
}
