import { type Clock, systemClock } from '../clock.js';
import { mapLimit } from '../map-limit.js';
import { conflictPauseMs, fromJsonColumn, readEntity } from '../storage/entities.js';
import { odata } from '@azure/data-tables';
import { deleteIfThere, isConflict, isNotFound, isPreconditionFailed, type Tables } from '../storage/tables.js';
import { META_PARTITION, RefCounter } from './counter.js';
import { entityToIssue, type IssueEntity, IssueTooLargeError, issueToEntity } from './entity.js';
import { indexRowsFor } from './indexes.js';
import { IndexWriter, type PendingChange } from './index-writer.js';
import {
  DEFAULT_ISSUES_CONFIG,
  type HistoryEntry,
  type Issue,
  type IssuesConfig,
  isOpen,
  loggedByClause,
  OFFICE_HOURS_LOCATION,
  type Person,
  type Priority,
  type Reporter,
} from './model.js';
import { assertRefPrefix, formatRef, parseRef, refBucket } from './refs.js';
import {
  type ActionOutcome,
  addAffectedUser,
  applyTriageAction,
  concurrentChange,
  createIssue,
  describeChange,
  type Notification,
  originalRefusal,
  replaceLegacyLoggedByIn,
  replacePersonIn,
  sameCommentSince,
  type TriageAction,
} from './rules.js';
import { type IssueTables, openIssueTables } from './tables.js';
import { type FieldErrors, validateNewIssue, validateReporter } from './validation.js';

/**
 * The issue log's writes and point reads on Azure Tables: logging with idempotency and never-reused
 * references, and ETag-guarded changes that run the rules (rules.ts) against the state actually written.
 * Lists are in queries.ts, the CSV export in export.ts. Table and key design: docs/storage-issues.md.
 */

export type LogResult =
  | { kind: 'created'; issue: Issue }
  /** The same idempotency key was logged before (a Teams retry): the issue it made, nothing new saved. */
  | { kind: 'existing'; issue: Issue }
  | { kind: 'invalid'; errors: FieldErrors };

/**
 * Changes saved whose follow-ups (index rows, the triage card, notices, a duplicate's followers moved) are not known
 * to be done: the versions, listed on the main row in the same write as the change (see `settleFollowUps`).
 */
interface Unfinished {
  unfinished?: number[];
}

/** Where a change's repair marker is (the issue's partition). */
export interface MarkerKey {
  partitionKey: string;
  rowKey: string;
}

export type ActResult =
  | ({
      kind: 'updated';
      issue: Issue;
      entry: HistoryEntry;
      notifyReporter?: Notification;
      indexed?: boolean;
      /** The ETag of the change's own write: clearing its follow-ups tries it before reading the row again. */
      etag?: string;
      /** Its repair marker, left (index rows written) for clearing its follow-ups to drop in the same transaction. */
      marker?: MarkerKey;
    } & Unfinished)
  /** Someone changed the same thing first; `issue` is fresh, `message` says who did what. */
  | ({ kind: 'conflict'; issue: Issue; message: string } & Unfinished)
  /** The action does not apply to the issue as it is (or changes nothing); `issue` is fresh. */
  | ({ kind: 'refused'; issue: Issue; code: 'invalid' | 'no-change'; message: string } & Unfinished)
  /** This request id was applied already (a retried invoke): nothing changed again. */
  | ({ kind: 'repeated'; issue: Issue } & Unfinished)
  | { kind: 'not-found'; message: string };

export interface ActOptions {
  /** The version the champion's card showed; a change to the same field since then is a conflict. */
  version?: number;
  /** Teams' invoke activity id: a retried invoke with the same id is applied once. */
  requestId?: string;
}

export interface RepositoryOptions {
  config?: Partial<IssuesConfig>;
  clock?: Clock;
  /** Index rows could not be written after the main row; the repair path will fix them. For logging. */
  onIndexError?: (err: unknown, ref: string) => void;
  /**
   * More changes are unfinished than the main row lists (storage failing for a long while): the oldest `versions`
   * are finished by this change's caller but, if that fails too, never again. For logging.
   */
  onFollowUpsDropped?: (ref: string, versions: number[]) => void;
}

/** What another issue a change depends on says: refuse the change, or hold it still for the write (false: it moved). */
type TargetResult = { refuse: string } | { hold: () => Promise<boolean> };
type TargetCheck = (self: Loaded) => Promise<TargetResult>;

interface Loaded {
  issue: Issue;
  etag: string;
  requests: string[];
  /** Issues linked (or being linked) as duplicates of this one; some may point elsewhere since (see `holdOriginal`). */
  duplicatesIn: string[];
  /** Versions whose follow-ups are not known to be done (see `Unfinished`). */
  unfinished: number[];
}

const MAX_UPDATE_ATTEMPTS = 12;
/** How many issues one original remembers as linked to it: far beyond any real count, it bounds the row. */
const MAX_DUPLICATES_IN = 1000;
/** A JSON list column; anything else (absent, malformed, not a list of strings) reads as empty, never as a crash of every load. */
function jsonList(v: unknown): string[] {
  const list = fromJsonColumn<unknown>(v, []);
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
}
/** The meta row that says every link older than `duplicatesIn` is listed on its original (see backfillDuplicatesIn). */
const DUPLICATES_IN_BACKFILL = 'backfill~duplicatesIn';
/** How many recent request ids the main row remembers for invoke retries. */
const RECENT_REQUESTS = 20;
/** How many unfinished changes the main row lists: each is finished by the next action (or +1) on the issue. */
const MAX_UNFINISHED = 20;
const numberList = (v: unknown): number[] => {
  const list = fromJsonColumn<unknown>(v, []);
  return Array.isArray(list) ? list.filter((x): x is number => Number.isInteger(x)) : [];
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class IssueRepository {
  readonly config: IssuesConfig;
  readonly counter: RefCounter;
  private readonly clock: Clock;
  private readonly index: IndexWriter;
  private readonly onIndexError: (err: unknown, ref: string) => void;
  private readonly onFollowUpsDropped: (ref: string, versions: number[]) => void;

  constructor(
    private readonly t: IssueTables,
    options: RepositoryOptions = {},
  ) {
    this.config = { ...DEFAULT_ISSUES_CONFIG, ...options.config };
    assertRefPrefix(this.config.refPrefix);
    this.clock = options.clock ?? systemClock;
    this.onIndexError = options.onIndexError ?? (() => {});
    this.onFollowUpsDropped = options.onFollowUpsDropped ?? (() => {});
    this.counter = new RefCounter(t.main, this.config.refPrefix);
    this.index = new IndexWriter(t.idx, t.main, (ref) => this.get(ref), async () => {
      const issued = await this.counter.issued();
      return Array.from({ length: Math.floor(issued / 100) + 1 }, (_, i) => refBucket(this.prefix, i * 100));
    });
  }

  static async open(tables: Tables, options: RepositoryOptions = {}): Promise<IssueRepository> {
    return new IssueRepository(await openIssueTables(tables), options);
  }

  /** The reference prefix (`R-`): what a reference typed on a card is read with. */
  get prefix(): string {
    return this.config.refPrefix;
  }

  // ---- reads of one issue -------------------------------------------------------------------------

  private async load(ref: string): Promise<Loaded | null> {
    const parsed = parseRef(ref, this.prefix);
    if (!parsed) return null;
    const e = await readEntity<Record<string, unknown>>(this.t.main, refBucket(this.prefix, parsed.number), parsed.ref);
    if (!e) return null;
    return {
      issue: entityToIssue(e),
      etag: e.etag,
      requests: jsonList(e.recentRequests),
      duplicatesIn: jsonList(e.duplicatesIn),
      unfinished: numberList(e.unfinished),
    };
  }

  /** One issue with its full history and comments (a champion's view; see `reporterView` for the reporter's). */
  async get(ref: string): Promise<Issue | null> {
    return (await this.load(ref))?.issue ?? null;
  }

  /** What a user typed (`R-42`, `r-0042`) → the issue, or the message to show. */
  async lookup(text: string): Promise<{ ok: true; issue: Issue } | { ok: false; message: string }> {
    const parsed = parseRef(text, this.prefix);
    const example = formatRef(this.prefix, 42);
    if (!parsed) {
      return {
        ok: false,
        message: `"${text.trim().slice(0, 40)}" is not an issue reference (like ${example}). Type "my issues" to see yours.`,
      };
    }
    const issue = await this.get(parsed.ref);
    if (issue) return { ok: true, issue };
    // References are never reused: one given out and not found was removed by retention, not mistyped.
    return {
      ok: false,
      message:
        parsed.number <= (await this.counter.issued())
          ? `There is no issue ${parsed.ref} any more: closed issues are removed after a while. Type "my issues" to see yours.`
          : `There is no issue ${parsed.ref}. Check the reference, or type "my issues" to see yours.`,
    };
  }

  // ---- logging ------------------------------------------------------------------------------------

  /** The issue a request (its idempotency key) already logged, if it did and the issue is saved. */
  async loggedFor(idempotencyKey: string): Promise<Issue | undefined> {
    const n = await this.counter.claimed(idempotencyKey);
    return n === null ? undefined : ((await this.get(formatRef(this.prefix, n))) ?? undefined);
  }

  /**
   * Validates and saves a report. With an idempotency key (Teams' activity id), a retried request
   * returns the issue the first one made, and never makes a second.
   */
  async logIssue(
    form: unknown,
    reporter: Reporter,
    /** `loggedBy`: someone logging it on the reporter's behalf (see createIssue). */
    opts: { idempotencyKey?: string; priority?: Priority | null; loggedBy?: Person } = {},
  ): Promise<LogResult> {
    const fields = validateNewIssue(form, this.config.categories);
    if (!fields.ok) return { kind: 'invalid', errors: fields.errors };
    const who = validateReporter(reporter);
    if (!who.ok)
      return { kind: 'invalid', errors: { form: 'Who is reporting could not be read; try again.' } };

    const now = this.clock.now();
    const build = (n: number) =>
      createIssue(fields.value, who.value, formatRef(this.prefix, n), n, now, opts.priority ?? null, opts.loggedBy);
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
      await this.t.main.createEntity(issueToEntity(issue, this.prefix));
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

  /** False when the index rows could not be written (the marker stays for the repair). */
  private async finishIndex(change: PendingChange, version: number, fresh = false, keepMarker = false): Promise<boolean> {
    try {
      await this.index.complete(change, version, fresh, keepMarker);
      return true;
    } catch (err) {
      // The main row is saved and is the truth; the marker stays, and repairIndexes() rebuilds the rows.
      this.onIndexError(err, change.ref);
      return false;
    }
  }

  // ---- changes ------------------------------------------------------------------------------------

  /**
   * "Me too" (+1) from the similar-issues card: idempotent per user. `may` (when given) is asked about the
   * issue as loaded for the change, before anything is done or shown: false answers `not-found`, so the
   * caller cannot tell an issue it may not join from one that does not exist.
   */
  addAffected(
    ref: string,
    user: Person,
    opts: { requestId?: string; may?: (issue: Issue) => Promise<boolean>; followUps?: boolean } = {},
  ): Promise<ActResult> {
    return this.update(ref, (issue, now) => addAffectedUser(issue, user, now), opts);
  }

  /**
   * Several people join the issue as affected in one write (a duplicate's reporter and +1s moving to its original):
   * each as `addAffected` would, those already on it skipped. Refused as a whole when the issue takes no +1 (done).
   */
  addAffectedMany(ref: string, users: readonly Person[]): Promise<ActResult> {
    return this.update(ref, (issue, now) => {
      let next: Extract<ActionOutcome, { ok: true }> | undefined;
      let skipped: Extract<ActionOutcome, { ok: false }> | undefined;
      for (const user of users) {
        const r = addAffectedUser(next?.issue ?? issue, user, now);
        if (r.ok) next = r;
        else if (r.code === 'invalid') return r;
        else skipped ??= r;
      }
      return next ?? skipped ?? { ok: false, code: 'no-change', message: 'Nobody to add.' };
    }, {});
  }

  /**
   * A champion's triage action, as an ETag-guarded read-modify-write. On 412 it reloads and re-applies
   * the action if nobody changed the same field, else returns a conflict with the fresh issue.
   * The caller has checked the actor's role (ACTION_ROLE) and, for `assign`, that the assignee is a champion.
   */
  async act(ref: string, action: TriageAction, actor: Person, opts: ActOptions = {}): Promise<ActResult> {
    let target: TargetCheck | undefined;
    if (action.kind === 'duplicate') {
      const parsed = parseRef(action.of, this.prefix);
      if (!parsed) return this.refusedOrMissing(ref, `"${action.of}" is not an issue reference.`);
      action = { kind: 'duplicate', of: parsed.ref };
      const self = parseRef(ref, this.prefix)?.ref;
      // Linking to itself is the rule's to refuse; there is no other issue to hold still.
      if (parsed.ref !== self) target = (loaded) => this.holdLink(loaded, parsed.ref);
    }
    const a = action;
    return this.update(ref, (issue, now) => applyTriageAction(issue, a, actor, now), {
      ...opts,
      target,
      followUps: true,
      conflict: (issue, base) => {
        // The same comment from the same card, already posted since (a double click): posting it again would show
        // it twice and tell the reporter twice.
        if (a.kind === 'comment' && sameCommentSince(issue, base, a, actor)) return 'Your comment is already on it.';
        const change = concurrentChange(issue, base, a);
        // The actor's own earlier change (a second click, another card of theirs) is not a race to
        // report: the rule then says "already ..." or applies the new value.
        return change && change.by.id !== actor.id ? describeChange(change) : null;
      },
    });
  }

  /**
   * Both ends of a duplicate link, checked and held together: the original must be one a duplicate may point at
   * (`holdOriginal`), and the issue being linked must have no duplicates of its own (`holdUnlinked`).
   */
  private async holdLink(self: Loaded, originalRef: string): Promise<TargetResult> {
    const original = await this.holdOriginal(originalRef, self.issue.ref);
    if ('refuse' in original) return original;
    const unlinked = await this.holdUnlinked(self, originalRef);
    if ('refuse' in unlinked) return unlinked;
    return { hold: async () => (await unlinked.hold()) && (await original.hold()) };
  }

  /**
   * An issue that has duplicates of its own is not linked to another: its duplicates would then point at a
   * duplicate (a chain), their followers one step from the issue worked on. Refused rather than re-pointing them:
   * the issues live in different partitions, so moving them all with the link cannot be one atomic write, and a
   * link cut short would leave some pointing each way; the champion can link the other way round instead.
   *
   * Who points here is the original's own list (`duplicatesIn`), added by `holdOriginal`'s stamp before a
   * duplicate's write, so a link in flight is seen too. Each one listed is read: one that still points here
   * refuses; one that does not (reopened, linked elsewhere, or its link not written yet) is held under the ETag
   * read, so a link to this issue written after this check makes one of the two writes fail with 412 and both are
   * judged again, as for the original.
   */
  private async holdUnlinked(self: Loaded, originalRef: string): Promise<TargetResult> {
    const ref = self.issue.ref;
    // The original itself is checked (one that points here is refused) and held by holdOriginal.
    const listed = await mapLimit(self.duplicatesIn.filter((r) => r !== ref && r !== originalRef), 8, (r) => this.load(r));
    const live = listed.filter((l) => l?.issue.status === 'duplicate' && l.issue.duplicateOf === ref).map((l) => l!.issue.ref);
    if (live.length) {
      const named = live.length > 3 ? `${live.slice(0, 3).join(', ')} and ${live.length - 3} more` : live.join(', ');
      const them = live.length === 1 ? live[0] : 'them';
      return {
        refuse:
          `${ref} has ${live.length === 1 ? 'a duplicate' : 'duplicates'} of its own (${named}), which would then point at a duplicate. ` +
          `Link ${originalRef} to ${ref} instead, or reopen ${them} first.`,
      };
    }
    const others = listed.filter((l): l is Loaded => l !== null);
    // Up to MAX_DUPLICATES_IN of them: stamped a few at a time, not all at once.
    return { hold: async () => (await mapLimit(others, 8, (l) => this.stamp(l.issue, l.etag))).every(Boolean) };
  }

  /** Writes a stamp (no change to the issue) under `etag`, plus `extra`; false when the row changed or went since. */
  private async stamp(issue: Pick<Issue, 'ref' | 'number'>, etag: string, extra: Record<string, string> = {}): Promise<boolean> {
    try {
      await this.t.main.updateEntity(
        { partitionKey: refBucket(this.prefix, issue.number), rowKey: issue.ref, linkCheckedAt: this.clock.now().toISOString(), ...extra },
        'Merge',
        { etag },
      );
      return true;
    } catch (err) {
      if (isPreconditionFailed(err) || isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * The original a duplicate is linked to, checked as it is now (`originalRefusal`: it must be open, so the
   * duplicate's followers wait on an issue someone works on). `hold` then writes the original under the ETag
   * it was checked at (a stamp, no change to the issue), just before the duplicate's own ETag-guarded write:
   * if the original changed since the check, or a link the other way round (B→A while we write A→B) is written
   * between the two, one of the two writes fails with 412 and the link is judged again, so two links at the
   * same instant cannot both pass.
   */
  private async holdOriginal(ref: string, self: string | undefined): Promise<TargetResult> {
    const original = await this.load(ref);
    if (!original) return { refuse: `no issue ${ref}` };
    const { issue } = original;
    const refusal = originalRefusal(issue, self);
    if (refusal) return { refuse: refusal };
    // The stamp also lists the duplicate on the original, before the duplicate's own write (see holdUnlinked).
    const listed = self === undefined || original.duplicatesIn.includes(self) ? original.duplicatesIn : [...original.duplicatesIn, self];
    if (listed.length > MAX_DUPLICATES_IN) return { refuse: `${issue.ref} already has ${MAX_DUPLICATES_IN} duplicates linked to it.` };
    return { hold: () => this.stamp(issue, original.etag, { duplicatesIn: JSON.stringify(listed) }) };
  }

  /**
   * Takes `dupRef` off `originalRef`'s list once it no longer points there (reopened, linked elsewhere, deleted), so
   * later links neither read it again nor count it towards MAX_DUPLICATES_IN. The list must never miss a live or
   * in-flight link (holdUnlinked relies on it), so this runs after the duplicate's own write, reads the original
   * before the duplicate, and holds the duplicate under its ETag (a stamp) before the original's stamp: a link of
   * it back to the original, in flight meanwhile, stamps the original first and writes the duplicate under an ETag
   * read before that, so one of the four writes fails with 412 and it is judged again. An entry left behind (a
   * crash, a busy row) is harmless: it is read and found not to point here.
   */
  private async unlist(originalRef: string, dupRef: string): Promise<void> {
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const started = Date.now();
      const original = await this.load(originalRef);
      if (!original?.duplicatesIn.includes(dupRef)) return;
      const dup = await this.load(dupRef);
      if (dup?.issue.status === 'duplicate' && dup.issue.duplicateOf === original.issue.ref) return;
      const left = original.duplicatesIn.filter((r) => r !== dupRef);
      if ((!dup || (await this.stamp(dup.issue, dup.etag))) && (await this.stamp(original.issue, original.etag, { duplicatesIn: JSON.stringify(left) }))) return;
      await sleep(conflictPauseMs(attempt, Date.now() - started));
    }
  }

  /** `unlist` after a change already saved: its failure must not turn the saved change into an error. */
  private async unlistQuietly(originalRef: string, dupRef: string): Promise<void> {
    await this.unlist(originalRef, dupRef).catch(() => {});
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
    opts: ActOptions & {
      conflict?: (issue: Issue, baseVersion: number) => string | null;
      may?: (issue: Issue) => Promise<boolean>;
      /** Another issue the change depends on (a duplicate's original), checked and held on every attempt. */
      target?: TargetCheck;
      /** List the change as unfinished in its own write, for the caller to settle (`settleFollowUps`). */
      followUps?: boolean;
    },
  ): Promise<ActResult> {
    let base = opts.version;
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const started = Date.now();
      const loaded = await this.load(ref);
      const notFound = { kind: 'not-found', message: `no issue ${parseRef(ref, this.prefix)?.ref ?? ref}` } as const;
      if (!loaded) return notFound;
      const { issue } = loaded;
      if (opts.may && !(await opts.may(issue))) return notFound;
      // Earlier changes whose follow-ups did not finish: whoever acts next on the issue finishes them.
      const unfinished = opts.followUps && loaded.unfinished.length ? { unfinished: loaded.unfinished } : {};
      if (opts.requestId && loaded.requests.includes(opts.requestId)) return { kind: 'repeated', issue, ...unfinished };
      if (base !== undefined && base < issue.version && opts.conflict) {
        const message = opts.conflict(issue, base);
        if (message) return { kind: 'conflict', issue, message, ...unfinished };
      }
      const checked = opts.target ? await opts.target(loaded) : undefined;
      if (checked && 'refuse' in checked) return { kind: 'refused', issue, code: 'invalid', message: checked.refuse, ...unfinished };
      const now = this.clock.now();
      const outcome = mutate(issue, now);
      if (!outcome.ok) return { kind: 'refused', issue, code: outcome.code, message: outcome.message, ...unfinished };

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
      const all = opts.followUps ? [...loaded.unfinished, outcome.issue.version] : [];
      const listed = all.slice(-MAX_UNFINISHED);
      // In the change's own write: saved together, so a fault after it leaves the change listed, never untold.
      if (opts.followUps) entity.unfinished = JSON.stringify(listed);
      const written = !checked || (await checked.hold()) ? await this.write(loaded, outcome.issue, entity, now, opts.followUps) : false;
      if (!written) {
        // Someone wrote first: judge the action against what they changed since the version we acted on.
        base ??= issue.version;
        await sleep(conflictPauseMs(attempt, Date.now() - started));
        continue;
      }
      const was = issue.status === 'duplicate' ? issue.duplicateOf : null;
      if (was && (outcome.issue.status !== 'duplicate' || outcome.issue.duplicateOf !== was)) await this.unlistQuietly(was, issue.ref);
      const result: ActResult = { kind: 'updated', issue: outcome.issue, entry: outcome.entry, indexed: written.indexed };
      if (written.etag) result.etag = written.etag;
      if (written.marker) result.marker = written.marker;
      if (outcome.notifyReporter) result.notifyReporter = outcome.notifyReporter;
      if (opts.followUps) {
        // The caller finishes all of them now, the oldest too; one pushed off the list is not tried again if that fails.
        result.unfinished = all;
        if (all.length > listed.length) this.onFollowUpsDropped(outcome.issue.ref, all.slice(0, all.length - listed.length));
      }
      return result;
    }
    const fresh = await this.get(ref);
    if (!fresh) return { kind: 'not-found', message: `no issue ${ref}` };
    return { kind: 'conflict', issue: fresh, message: 'The issue is changing a lot right now; try again.' };
  }

  /**
   * Writes `next` over the issue as loaded, under its ETag, with its index rows; false when someone wrote first,
   * else the row's new ETag and whether its index rows were written (if not, the repair path will).
   */
  private async write(
    loaded: Loaded,
    next: Issue,
    entity: IssueEntity,
    now: Date,
    /** Follow-ups will be settled: their write drops the marker (after the index rows are written). */
    keepMarker = false,
  ): Promise<false | { indexed: boolean; etag?: string; marker?: MarkerKey }> {
    // The marker rides in the write's own transaction (the issue's partition): one call, and nothing to drop
    // when the write is refused. Before, it was a write of its own in `~meta` (and a delete on a 412).
    const change = this.index.prepare(loaded.issue, next, now, entity.partitionKey);
    let etag: string | undefined;
    try {
      const update = ['update', entity, 'Merge', { etag: loaded.etag }] as const;
      etag = change.marker
        ? (await this.t.main.submitTransaction([[...update], ['create', change.marker]])).subResponses[0]?.etag
        : (await this.t.main.updateEntity(entity, 'Merge', { etag: loaded.etag })).etag;
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
      return false;
    }
    // Left for the follow-ups' settling write only when it can be made under this write's ETag (its settle check).
    const keep = keepMarker && etag !== undefined;
    const indexed = await this.finishIndex(change, next.version, false, keep);
    const marker = keep && indexed && change.marker ? { partitionKey: change.marker.partitionKey, rowKey: change.marker.rowKey } : undefined;
    return { indexed, ...(etag ? { etag } : {}), ...(marker ? { marker } : {}) };
  }

  /**
   * After a change's follow-ups are done (its triage card, notices and a duplicate's followers queued or moved):
   * rebuilds the issue's index rows from its main row when they may be behind, then takes those versions off the
   * main row's list, dropping the change's repair marker in the same transaction (its partition). Retried on a
   * concurrent write; a version left listed is only done again, harmlessly (each message is sent once per key),
   * and a marker left is the repair job's (it rewrites rows already right).
   */
  async settleFollowUps(
    ref: string,
    versions: readonly number[],
    opts: { reindex: boolean; written?: { etag: string; unfinished: readonly number[]; marker?: MarkerKey } },
  ): Promise<void> {
    const parsed = parseRef(ref, this.prefix);
    if (!parsed) return;
    const key = { partitionKey: refBucket(this.prefix, parsed.number), rowKey: parsed.ref };
    if (opts.reindex) await this.index.repairRef(ref, key.partitionKey);
    // First under the ETag of the change's own write (its list as written): no read of the row on the usual path,
    // where nobody wrote since; a 412 means someone did, and the row is read again.
    let known: { etag: string; unfinished: readonly number[] } | undefined = opts.written;
    let marker = opts.written?.marker;
    // The change's index rows were written unchecked (`IndexWriter.complete` with `keep`): this write under its ETag
    // is the check. Refused, someone wrote the issue since, and their index writes and ours may have crossed.
    let unchecked = marker !== undefined;
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const started = Date.now();
      if (!known) {
        const loaded = await this.load(ref);
        if (!loaded) return;
        known = { etag: loaded.etag, unfinished: loaded.unfinished };
      }
      const left = known.unfinished.filter((v) => !versions.includes(v));
      if (left.length === known.unfinished.length) {
        if (marker) await deleteIfThere(this.t.main, marker.partitionKey, marker.rowKey);
        return;
      }
      const update = ['update', { ...key, unfinished: JSON.stringify(left) }, 'Merge', { etag: known.etag }] as const;
      try {
        if (marker) await this.t.main.submitTransaction([[...update], ['delete', { partitionKey: marker.partitionKey, rowKey: marker.rowKey }]]);
        else await this.t.main.updateEntity(update[1], 'Merge', { etag: known.etag });
        return;
      } catch (err) {
        if (isNotFound(err)) {
          if (!marker) return; // the issue is gone
          marker = undefined; // the marker was (the repair job dropped it) or the issue is: once more without it
          continue;
        }
        if (!isPreconditionFailed(err)) throw err;
      }
      if (unchecked) {
        // The rows rebuilt from the issue as it is now (from every marker of it, ours included) before ours is dropped.
        unchecked = false;
        await this.index.repairRef(ref, key.partitionKey);
      }
      known = undefined;
      await sleep(conflictPauseMs(attempt, Date.now() - started));
    }
  }

  /**
   * A change's follow-ups failed after it kept its marker (`write` with `keepMarker`): its settle check, left to
   * their settling write, will not happen. Done here instead, as it was before that: one read of the issue; if
   * someone wrote it since `version`, their index writes and ours may have crossed (even after they settled ours),
   * so the rows are rebuilt from the issue as it is now. Otherwise the rows are ours, and the marker and the list
   * entry stay for the next action.
   */
  async recheckKept(ref: string, version: number): Promise<void> {
    const parsed = parseRef(ref, this.prefix);
    const now = parsed ? await this.get(parsed.ref) : null;
    if (parsed && now && now.version > version) await this.index.repairRef(parsed.ref, refBucket(this.prefix, parsed.number));
  }

  // ---- privacy (src/issues/privacy.ts) --------------------------------------------------------------------

  /**
   * Puts `stand` in a person's place wherever the issue names them (see `replacePersonIn`), ETag-guarded like
   * every change, its index rows moved with it. The changed issue, or null when it names them nowhere (a re-run).
   */
  replacePerson(ref: string, isPerson: (id: string) => boolean, stand: Person): Promise<Issue | null> {
    return this.rewriteFor(ref, (issue) => replacePersonIn(issue, isPerson, stand));
  }

  /**
   * The office-hours issues whose description closes with "; logged by <name>." (`replaceLegacyLoggedByIn`: the host
   * of an issue logged before its "created" line named them). A scan of the main rows, off the user's path (the
   * forget job; no index finds them): Azure filters on location and returns two columns a row, a page at a time.
   */
  async officeHoursLoggedByName(name: string): Promise<string[]> {
    const refs: string[] = [];
    const rows = this.t.main.listEntities<{ rowKey?: string; description?: string }>({
      queryOptions: { filter: odata`location eq ${OFFICE_HOURS_LOCATION}`, select: ['RowKey', 'description'] },
    });
    const clause = `; ${loggedByClause(name)}`;
    for await (const page of rows.byPage({ maxPageSize: 500 })) {
      for (const row of page) if (row.rowKey && String(row.description ?? '').endsWith(clause)) refs.push(row.rowKey);
    }
    return refs;
  }

  /** Puts `stand`'s name in an old-shape office-hours issue's "logged by <name>." (see `replaceLegacyLoggedByIn`). */
  replaceLegacyLoggedBy(ref: string, name: string, stand: Person): Promise<Issue | null> {
    return this.rewriteFor(ref, (issue) => replaceLegacyLoggedByIn(issue, name, stand));
  }

  /** A privacy rewrite of one issue, ETag-guarded like every change, its index rows moved with it. */
  private async rewriteFor(ref: string, change: (issue: Issue) => Issue | null): Promise<Issue | null> {
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const started = Date.now();
      const loaded = await this.load(ref);
      const next = loaded && change(loaded.issue);
      if (!loaded || !next) return null;
      if (await this.write(loaded, next, issueToEntity(next, this.prefix), this.clock.now())) return next;
      await sleep(conflictPauseMs(attempt, Date.now() - started));
    }
    throw new Error(`${ref} is changing a lot right now; run it again.`);
  }

  /**
   * Retention: deletes a done issue that was closed before `before`: its index rows, its main row (under its
   * ETag), then `archiveRow` (the row it was found by) last, so a run cut short is finished by the next one.
   * Nothing is deleted when it was reopened or changed meanwhile (its index is rebuilt then). True when gone.
   */
  async expire(ref: string, before: Date, archiveRow: { partitionKey: string; rowKey: string }): Promise<boolean> {
    const loaded = await this.load(ref);
    if (loaded) {
      const { issue, etag } = loaded;
      if (isOpen(issue.status) || (issue.closedAt ?? issue.updatedAt) >= before.toISOString()) return false;
      const rows = indexRowsFor(issue).filter((r) => r.table !== 'archive');
      for (let i = 0; i < rows.length; i += 32) {
        await Promise.all(rows.slice(i, i + 32).map((r) => deleteIfThere(this.t.idx[r.table], r.partitionKey, r.rowKey)));
      }
      const parsed = parseRef(ref, this.prefix);
      try {
        await this.t.main.deleteEntity(refBucket(this.prefix, parsed?.number ?? 0), ref, { etag });
      } catch (err) {
        if (!isPreconditionFailed(err)) throw err;
        // Changed while its rows were going: put them back as it now stands.
        const fresh = await this.get(ref);
        await this.index.rewrite(fresh, []);
        return false;
      }
      if (issue.status === 'duplicate' && issue.duplicateOf) await this.unlistQuietly(issue.duplicateOf, issue.ref);
    }
    await deleteIfThere(this.t.idx.archive, archiveRow.partitionKey, archiveRow.rowKey);
    return true;
  }

  /**
   * One-off, for links made before originals listed their duplicates (`duplicatesIn`): finds every issue marked a
   * duplicate and lists it on its original, so `holdUnlinked` sees old links too (else an old C→A link does not
   * stop A→B, and C ends up pointing at a duplicate). Run on the scheduler (lease-guarded); a meta row marks it done,
   * so later runs read one row.
   *
   * Why a backfill and not a fallback on the user's turn: no index finds an original's duplicates (a duplicate is
   * done, so it is only in the month partitions of the archive, which do not carry `duplicateOf`), so a fallback
   * would scan the whole issue log inside a Teams turn; and keying it on "the row has no `duplicatesIn`" would miss
   * an original that had an old duplicate and then got a new one (its list then exists, without the old one).
   * Correct under concurrency: each list is merged (never replaced) under the original's ETag, so it composes with
   * `holdOriginal`'s stamps, and a re-run (two instances after a lease lapse, or a run cut short) adds nothing twice.
   * An original that is itself a duplicate by the time its list is written already forms a chain (linked on before
   * this ran); those are returned for the log, as nothing here can undo a link people were told about.
   */
  async backfillDuplicatesIn(): Promise<{ done: false } | { done: true; originals: number; chains: string[] }> {
    if (await readEntity(this.t.main, META_PARTITION, DUPLICATES_IN_BACKFILL)) return { done: false };
    const byOriginal = new Map<string, string[]>();
    // A scan of the main rows, off the user's path: Azure filters on the server and returns two columns a row.
    const rows = this.t.main.listEntities<{ rowKey?: string; duplicateOf?: string }>({
      queryOptions: { filter: odata`status eq ${'duplicate'}`, select: ['RowKey', 'duplicateOf'] },
    });
    for await (const row of rows) {
      const ref = row.rowKey && parseRef(row.rowKey, this.prefix)?.ref;
      const of = row.duplicateOf && parseRef(row.duplicateOf, this.prefix)?.ref;
      if (!ref || !of || ref !== row.rowKey) continue;
      byOriginal.set(of, [...(byOriginal.get(of) ?? []), ref]);
    }
    const chains: string[] = [];
    await mapLimit([...byOriginal], 8, async ([of, refs]) => {
      for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
        const started = Date.now();
        const original = await this.load(of);
        if (!original) return;
        const missing = refs.filter((r) => !original.duplicatesIn.includes(r));
        if (!missing.length) return;
        // Bounded like holdOriginal's list; one live duplicate listed is enough for the refusal.
        const listed = [...original.duplicatesIn, ...missing].slice(0, Math.max(MAX_DUPLICATES_IN, original.duplicatesIn.length));
        if (await this.stamp(original.issue, original.etag, { duplicatesIn: JSON.stringify(listed) })) {
          // Told once, as the original stood when its list was written (not on every attempt before that).
          if (original.issue.status === 'duplicate') chains.push(`${refs.join(', ')} → ${of} → ${original.issue.duplicateOf ?? '?'}`);
          return;
        }
        await sleep(conflictPauseMs(attempt, Date.now() - started));
      }
      throw new Error(`${of} is changing a lot right now; the duplicate backfill runs again next time.`);
    });
    await this.t.main.upsertEntity({ partitionKey: META_PARTITION, rowKey: DUPLICATES_IN_BACKFILL, at: this.clock.now().toISOString() }, 'Replace');
    return { done: true, originals: byOriginal.size, chains };
  }

  /**
   * Rebuilds index rows of changes that did not finish (markers older than `olderThanMs`): new issues' at every run,
   * updates' (in the issues' partitions) at the hourly partition sweep. Run on the scheduler.
   */
  repairIndexes(olderThanMs = 60_000): Promise<number> {
    const now = this.clock.now();
    return this.index.repairPending(new Date(now.getTime() - olderThanMs), now);
  }

}
