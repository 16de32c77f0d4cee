import type { AdaptiveCard } from '../cards/template.js';
import type { Destination, OutboundMessage, Outbox } from '../outbound/message.js';
import { isPseudonym } from '../privacy/pseudonym.js';
import { allows } from '../roles/permissions.js';
import type { Role } from '../roles/roles.js';
import { StorageUnavailableError } from '../storage/call-policy.js';
import {
  issueConfirmationData,
  issueTriageData,
  issueUpdateData,
  renderIssueCard,
  slaText,
} from './cards.js';
import type { IssueExport } from './export.js';
import { parseTriageFilters } from './filters.js';
import { type Issue, type IssueSummary, isOpen, type Person, type Priority, type Reporter } from './model.js';
import type { OfferStore } from './offers.js';
import type { Page } from './paging.js';
import type { ArchiveNarrowing, IssueQueries, QueueFilters } from './queries.js';
import { isReferenceOnly } from './refs.js';
import type { ActResult, IssueRepository } from './repository.js';
import { issueAsOf, type Notification, noticeOf } from './rules.js';
import type { SlaEvent } from './sla.js';
import { type FieldErrors, validateNewIssue } from './validation.js';
import { type FormData, type Parsed, type TriageData, type TriageVerb, triageActionOf } from './verbs.js';

/**
 * The issue log as the Teams layer calls it: each operation takes who is asking and what they sent, applies
 * the rules, and enqueues what other people must hear (the triage channel's card, followers' notices) on
 * the outbound path, so no one's turn waits on other people's messages. Results are plain values; the
 * caller renders them with cards.ts.
 */

/** Who is asking: their stored identity and their role (answered by src/roles). */
export interface Caller {
  person: Person;
  reporter: Reporter;
  role: Role;
}

/** Told of each change the service makes to an issue (the adoption figures record it); must not throw. */
export interface IssueObserver {
  issueChanged(issue: Issue): Promise<void>;
}

/** A report kept on disk while storage does not answer, filed when it is back. */
export interface HeldReport {
  caller: Caller;
  values: FormData;
  opts: ReportOptions;
}

/** Where reports wait while storage is down (a disk outbox: nothing it confirmed is lost). */
export interface HeldReports {
  keep(key: string, report: HeldReport): Promise<boolean>;
}

export interface IssueServiceDeps {
  repository: IssueRepository;
  queries: IssueQueries;
  exporter: IssueExport;
  offers: OfferStore;
  outbox: Outbox;
  /** Everyone who may be assigned, with display names. */
  champions: () => Promise<Person[]>;
  /** Whether a person has a 1:1 chat with the bot, so a message to them can be read. */
  reachable: (userKey: string) => Promise<boolean>;
  rolloutTeamIds: readonly string[];
  categories: readonly string[];
  observer?: IssueObserver;
  /** Without it, a storage fault fails the report (the user is told to try again). */
  held?: HeldReports;
}

export type ReportOutcome =
  | { kind: 'invalid'; values: FormData; errors: FieldErrors }
  /** Open issues that look the same, offered before logging a duplicate. */
  | { kind: 'similar'; values: FormData; similar: IssueSummary[] }
  /** `fresh` is false for a retried request: the issue its first attempt logged. */
  | { kind: 'logged'; issue: Issue; fresh: boolean }
  /** Storage did not answer: the report is kept on disk and filed when it is back; the reporter hears then. */
  | { kind: 'held' }
  /**
   * The form was logged before, and the issue is no longer the caller's (`forget` put a pseudonym in their place):
   * an old card pressed again. Nothing of that issue is shown to them. `logged` is for whoever files a report on
   * the person's behalf (an office-hours host): the issue as it stands now, anonymised.
   */
  | { kind: 'outdated'; logged: { ref: string; reporter: { id: string; name: string } } };

export type TriageOutcome =
  /**
   * `notice`: nothing was applied, and why. `unfinished`: the change is saved, but storage failed while finishing it
   * (`message` for the champion, `failed` for the log). `invalidField`: the notice is about this input (nothing
   * was tried), not about the issue as it is now.
   */
  | { kind: 'card'; issue: Issue; notice?: string; invalidField?: string; unfinished?: { message: string; failed: unknown } }
  | { kind: 'message'; text: string };

/** What a champion reads when their change is saved but its follow-ups could not all be done. */
const UNFINISHED_NOTICE =
  'Saved as shown, but storage did not answer while updating the lists and telling the reporter and followers. Press the button again in a moment to finish it: nobody is told twice.';

export type ListName = 'mine' | 'triage' | 'assigned';

/** What a "+1" came to. */
export type FollowOutcome =
  | TriageOutcome
  | { kind: 'followed'; issue: Issue; message?: string }
  /**
   * The issue (or, for a duplicate, its original: `sameAs` names the one pressed) is finished since it was offered:
   * nobody works on it, so the person is not put on it; they see what was done and may log theirs.
   */
  | { kind: 'finished'; issue: Issue; sameAs?: string };

/** Resolved, closed or won't fix: a "+1" there would wait on nothing (a duplicate is followed on its original). */
const isFinished = (issue: Issue) => !isOpen(issue.status) && issue.status !== 'duplicate';

export interface ReportOptions {
  /** The report's key (its form's id, else Teams' activity id): a repeated submit logs nothing new. */
  requestKey: string;
  /** Offer similar open issues first (false for "No, log mine"). */
  checkSimilar: boolean;
  /** A lost or stolen device: logged as P1 and the rollout team told at once. */
  lostDevice?: boolean;
  /** The form's id (see newFormId): offers of similar issues keep the form under it (see `offeredForm`). */
  formId?: string;
  /**
   * Someone logging it on the reporter's behalf (an office-hours host): its "created" line names them, so their
   * `my data` and `forget` find the issue (and the description's "logged by", loggedByClause).
   */
  loggedBy?: Person;
}

const TRIAGE_POST = 'issue-triage';
const PAGE_SIZE = 10;

/** Where the reporter's 1:1 messages go. */
const reporterKeyOf = (issue: Issue): string => issue.reporter.conversationKey ?? issue.reporter.aadObjectId ?? issue.reporter.id;

/** The reporter and everyone who said "me too", minus the person who made the change and anyone forgotten. */
export function followersToTell(issue: Issue, actorId: string): string[] {
  const keys = new Set([reporterKeyOf(issue), ...issue.affected.map((a) => a.id)]);
  keys.delete(actorId);
  return [...keys].filter((k) => !isPseudonym(k));
}

/**
 * Where an escalation goes: 1:1 to each rollout team member who has a chat with the bot; when none has,
 * to the triage channel, so it is never lost.
 */
export function escalationDestinations(rolloutTeamIds: readonly string[], reachable: ReadonlySet<string>): Destination[] {
  const people = rolloutTeamIds.filter((id) => reachable.has(id));
  return people.length
    ? people.map((userKey) => ({ kind: 'user', userKey }) as const)
    : [{ kind: 'channel', role: 'triage' }];
}

export class IssueService {
  constructor(private readonly d: IssueServiceDeps) {}

  get categories(): readonly string[] {
    return this.d.categories;
  }

  /** Whether a message is only an issue reference ("R-0042?"): asking after that issue, not the guidance. */
  isReferenceOnly(text: string): boolean {
    return isReferenceOnly(text, this.d.repository.prefix);
  }

  // ---- staff ----------------------------------------------------------------------------------------

  async report(caller: Caller, values: FormData, opts: ReportOptions): Promise<ReportOutcome> {
    try {
      return await this.reportNow(caller, values, opts);
    } catch (err) {
      if (!(err instanceof StorageUnavailableError) || !this.d.held) throw err;
      // Nothing is lost: the form is on disk before the reporter is told, and filed (once) when storage is back.
      await this.d.held.keep(opts.requestKey, { caller, values, opts: { ...opts, checkSimilar: false } });
      return { kind: 'held' };
    }
  }

  /**
   * Files a report that was held while storage was down, and tells its reporter the reference. Safe to
   * run twice for one report: the request key makes the second a repeat of the first.
   */
  async fileHeld(report: HeldReport): Promise<Issue | undefined> {
    const outcome = await this.reportNow(report.caller, report.values, report.opts);
    if (outcome.kind !== 'logged') return undefined; // invalid forms were refused before they were held
    // Its reporter was forgotten while it waited (the report is theirs no more): nobody to tell.
    if (isPseudonym(report.caller.reporter.id)) return outcome.issue;
    await this.d.outbox.enqueue([
      {
        op: 'send',
        key: `issue-held|${report.opts.requestKey}`,
        to: { kind: 'user', userKey: report.caller.reporter.conversationKey ?? report.caller.person.id },
        content: renderIssueCard('issue-confirmation', {
          ...issueConfirmationData(outcome.issue),
          headline: 'Your report is filed now',
        }),
      },
    ]);
    return outcome.issue;
  }

  private async reportNow(caller: Caller, values: FormData, opts: ReportOptions): Promise<ReportOutcome> {
    const checked = validateNewIssue(values, this.d.categories);
    if (!checked.ok) return { kind: 'invalid', values, errors: checked.errors };
    // Send pressed again on a form already logged goes on to that issue (logged below as a repeat, its follow-ups
    // mended), not to an offer of it as one "others reported".
    const repeat = opts.checkSimilar && opts.formId ? await this.d.repository.loggedFor(opts.requestKey) : undefined;
    if (opts.checkSimilar && !opts.lostDevice && !repeat) {
      const similar = await this.d.queries.findSimilarOpen(checked.value, 3);
      if (similar.length) {
        // As validated (trimmed, within the limits): the card carries it once, for "No, log mine".
        const trimmed: FormData = { ...checked.value };
        await this.d.offers.record(caller.person.id, similar.map((s) => s.ref), { formId: opts.formId ?? '', values: trimmed });
        return { kind: 'similar', values: trimmed, similar };
      }
    }
    const priority: Priority | null = opts.lostDevice ? 'P1' : null;
    const result = await this.d.repository.logIssue(values, caller.reporter, {
      idempotencyKey: opts.requestKey,
      priority,
      loggedBy: opts.loggedBy,
    });
    if (result.kind === 'invalid') return { kind: 'invalid', values, errors: result.errors };
    // The request key is the person's own (it hashes their id), so an earlier issue not reported by them any more
    // was theirs until `forget` anonymised it: the organisation's record now, not to be shown back to them.
    if (result.kind === 'existing' && result.issue.reporter.id !== caller.reporter.id) {
      return { kind: 'outdated', logged: { ref: result.issue.ref, reporter: { id: result.issue.reporter.id, name: result.issue.reporter.name } } };
    }
    await this.d.observer?.issueChanged(result.issue);
    // Enqueued for a retry too: the outbound path sends each key once, so a crash between logging and
    // enqueueing is mended by Teams' retry of the same submit.
    await this.d.outbox.enqueue(await this.announce(result.issue, opts.lostDevice === true));
    return { kind: 'logged', issue: result.issue, fresh: result.kind === 'created' };
  }

  /** The new issue's card in the triage channel, and for a lost device an immediate escalation. */
  private async announce(issue: Issue, urgent: boolean): Promise<OutboundMessage[]> {
    const out: OutboundMessage[] = [
      {
        op: 'send',
        key: `${TRIAGE_POST}|${issue.ref}`,
        to: { kind: 'channel', role: 'triage' },
        content: await this.triageCard(issue),
        post: { kind: TRIAGE_POST, id: issue.ref, version: issue.version },
      },
    ];
    if (urgent) out.push(...(await this.escalate(issue, `${issue.ref}|lost-device`, slaText(issue, 'lostDevice', 0))));
    return out;
  }

  /**
   * "+1 / this is mine too". Accepted only for an issue the person may see: one offered to them as
   * similar, their own, or any for a champion. Anything else is refused without saying whether it exists.
   */
  async follow(caller: Caller, ref: string, requestId: string): Promise<FollowOutcome> {
    const notYours = { kind: 'message', text: `You can only join an issue you were shown as similar to yours. Type "my issues" to see yours.` } as const;
    const champion = allows(caller.role, 'issues.readAll');
    // Checked on the issue as the change loads it (no read of its own): staff join only their own or an offered one.
    const may = champion
      ? undefined
      : async (issue: Issue) => involved(issue, caller.person.id) || (await this.d.offers.wasOffered(caller.person.id, issue.ref));
    const res = await this.d.repository.addAffected(ref, caller.person, { requestId, may, followUps: true });
    if (res.kind !== 'not-found') {
      if (res.kind === 'updated') await this.d.observer?.issueChanged(res.issue);
      await this.finishQuietly(res);
    }
    switch (res.kind) {
      case 'not-found': {
        // Offered to them, removed by retention since: they know the reference, so saying it is gone tells nothing new.
        if (!champion && (await this.d.offers.wasOffered(caller.person.id, ref))) {
          return {
            kind: 'message',
            text: `${ref.trim()} is no longer in the log: closed issues are removed after a while. If you still have this problem, press "No, log mine" on the card, or type "report".`,
          };
        }
        if (!champion) return notYours;
        // What is wrong with the reference as sent (not a reference, or no such issue).
        const found = await this.d.repository.lookup(ref);
        return { kind: 'message', text: found.ok ? res.message : found.message };
      }
      case 'updated':
        return { kind: 'followed', issue: res.issue };
      case 'refused':
        // Offered while open, linked as a duplicate since: the person joins the original, as its own followers did.
        if (res.issue.status === 'duplicate' && res.issue.duplicateOf) return this.followOriginalOf(caller, res.issue, requestId);
        if (isFinished(res.issue) && res.code === 'invalid') return { kind: 'finished', issue: res.issue };
        return { kind: 'followed', issue: res.issue, message: res.message };
      case 'conflict':
        return { kind: 'followed', issue: res.issue, message: res.message };
      case 'repeated':
        return { kind: 'followed', issue: res.issue };
    }
  }

  private async followOriginalOf(caller: Caller, dup: Issue, requestId: string): Promise<FollowOutcome> {
    const originalRef = dup.duplicateOf!;
    const res = await this.d.repository.addAffected(originalRef, caller.person, { requestId, followUps: true });
    const same = `${dup.ref} is the same problem as ${originalRef}`;
    if (res.kind !== 'not-found') {
      if (res.kind === 'updated') await this.d.observer?.issueChanged(res.issue);
      await this.finishQuietly(res);
    }
    switch (res.kind) {
      case 'not-found':
        return { kind: 'message', text: `${same}, which is no longer in the log. If it still affects you, log it again.` };
      case 'updated':
        return { kind: 'followed', issue: res.issue, message: `${same}: you're on ${originalRef} as affected — you'll hear when it changes` };
      case 'refused':
        if (isFinished(res.issue) && res.code === 'invalid') return { kind: 'finished', issue: res.issue, sameAs: dup.ref };
        return { kind: 'followed', issue: res.issue, message: `${same}. ${res.message}` };
      case 'conflict':
        return { kind: 'followed', issue: res.issue, message: `${same}. ${res.message}` };
      case 'repeated':
        return { kind: 'followed', issue: res.issue, message: `${same}: you're on ${originalRef} as affected — you'll hear when it changes` };
    }
  }

  /**
   * The form a person was offered `ref` for (the similar card's +1 carries only the form's id), so "Log it anyway"
   * can file it when the issue is finished; undefined when there is none (an old card, an expired offer).
   */
  async offeredForm(caller: Caller, ref: string, formId: string): Promise<FormData | undefined> {
    return this.d.offers.offeredForm(caller.person.id, ref, formId);
  }

  /** One issue: its reporter and followers see their view of it, champions the full one. */
  async view(
    caller: Caller,
    text: string,
  ): Promise<{ kind: 'issue'; issue: Issue; audience: 'reporter' | 'champion' } | { kind: 'message'; text: string }> {
    const found = await this.d.repository.lookup(text);
    if (!found.ok) return { kind: 'message', text: found.message };
    const champion = allows(caller.role, 'issues.readAll');
    if (!champion && !involved(found.issue, caller.person.id)) {
      // Staff see the issues they logged or joined; others' issues may hold personal details.
      return { kind: 'message', text: `${found.issue.ref} is not one of your issues. Type "my issues" to see yours.` };
    }
    return { kind: 'issue', issue: found.issue, audience: champion ? 'champion' : 'reporter' };
  }

  /** A page of a list. "mine" is the caller's own; the others need issues.readAll (checked here too). */
  async list(
    caller: Caller,
    list: ListName,
    opts: { token?: string | null; filters?: QueueFilters; narrow?: ArchiveNarrowing } = {},
  ): Promise<Page<IssueSummary> | null> {
    const page = { limit: PAGE_SIZE, token: opts.token ?? null };
    if (list === 'mine') return this.d.queries.listByReporter(caller.person.id, page);
    if (!allows(caller.role, 'issues.readAll')) return null;
    return list === 'assigned'
      ? this.d.queries.listAssigned(caller.person.id, page)
      : this.d.queries.triageQueue(opts.filters ?? {}, page, opts.narrow);
  }

  parseFilters(caller: Caller, text: string): Parsed<QueueFilters> {
    return parseTriageFilters(text, caller.person.id);
  }

  // ---- champions ------------------------------------------------------------------------------------

  /** A triage card's action. The role was checked by the registry; it is checked again here. */
  async triage(caller: Caller, kind: TriageVerb, data: Partial<TriageData> & { ref: string; version: number }, requestId: string): Promise<TriageOutcome> {
    if (!allows(caller.role, 'issues.triage')) {
      return { kind: 'message', text: 'That is for champions and the rollout team.' };
    }
    const champions = await this.d.champions();
    const parsed = triageActionOf(kind, data, champions, this.d.repository.prefix);
    if (!parsed.ok) {
      const current = await this.d.repository.get(data.ref);
      return current
        ? { kind: 'card', issue: current, notice: parsed.message, ...(parsed.field ? { invalidField: parsed.field } : {}) }
        : { kind: 'message', text: parsed.message };
    }
    const action = parsed.value;
    const res = await this.d.repository.act(data.ref, action, caller.person, { version: data.version, requestId });
    if (res.kind === 'not-found') {
      // The card named it, so it existed: retention (or a forget) has removed it since.
      return {
        kind: 'message',
        text: `There is no issue ${data.ref.trim()} any more: closed issues are removed after a while. Type "triage" for the open ones.`,
      };
    }
    if (res.kind === 'updated') await this.d.observer?.issueChanged(res.issue);
    const notice = res.kind === 'conflict' || res.kind === 'refused' ? res.message : undefined;
    try {
      // This change's follow-ups, and those of earlier ones a fault left undone (a retry, or the next action).
      await this.finish(res);
    } catch (failed) {
      // The change itself is saved and listed as unfinished: the next press on this issue finishes it.
      return { kind: 'card', issue: res.issue, ...(notice ? { notice } : {}), unfinished: { message: UNFINISHED_NOTICE, failed } };
    }
    return { kind: 'card', issue: res.issue, ...(notice ? { notice } : {}) };
  }

  /**
   * A "+1"'s follow-ups (the triage card shows the count). The +1 itself is saved, so a fault here is not the
   * person's to retry: the change stays listed and the next action on the issue (or a retry) finishes it.
   */
  private async finishQuietly(res: Extract<ActResult, { issue: Issue }>): Promise<void> {
    await this.finish(res).catch(() => {});
  }

  /**
   * What must follow saved changes (listed by version on the issue): the triage card redrawn, a duplicate's reporter
   * and +1s put on its original, the reporter's and followers' notices; then the versions are settled (and the index
   * rows rebuilt when they may be behind). Each message has a key the outbound path sends once, and joining the
   * original is once per person, so doing it again after a fault tells nobody twice.
   */
  private async finish(res: Extract<ActResult, { issue: Issue }>): Promise<void> {
    try {
      await this.followUps(res);
    } catch (err) {
      // This change kept its marker for the settling write, whose ETag was its settle check: that write was not
      // made, so the check is (one read), lest rows crossed with a later change's stay wrong until the hourly sweep.
      if (res.kind === 'updated' && res.marker) await this.d.repository.recheckKept(res.issue.ref, res.issue.version).catch(() => {});
      throw err;
    }
  }

  private async followUps(res: Extract<ActResult, { issue: Issue }>): Promise<void> {
    const { issue } = res;
    const versions = res.unfinished ?? [];
    if (!versions.length) return;
    // The index is rebuilt when it may be behind: this write's rows failed, or an earlier change is unfinished.
    const reindex = res.kind !== 'updated' || res.indexed === false || versions.length > 1;
    const out: OutboundMessage[] = [await this.cardUpdate(issue)];
    for (const version of versions) {
      const entry = issue.history.find((h) => h.version === version);
      if (!entry) continue;
      // A link undone since (reopened, linked elsewhere): its followers stay where they are now.
      if (entry.what === 'duplicate' && entry.to && issue.status === 'duplicate' && issue.duplicateOf === entry.to) {
        out.push(...(await this.followOriginal(issue, entry.to)));
      }
      // Told as the change was made, to those on the issue then, however late (an earlier one left unfinished).
      const then = issueAsOf(issue, version);
      const note = noticeOf(then, entry);
      if (note) out.push(...this.notices(then, note, version, entry.by.id, entry));
    }
    await this.d.outbox.enqueue(out);
    const written =
      res.kind === 'updated' && res.etag ? { written: { etag: res.etag, unfinished: versions, ...(res.marker ? { marker: res.marker } : {}) } } : {};
    await this.d.repository.settleFollowUps(issue.ref, versions, { reindex, ...written });
  }

  /** The triage card as champions see it now. */
  async triageCard(issue: Issue, notice?: string): Promise<AdaptiveCard> {
    return renderIssueCard('issue-triage', issueTriageData(issue, { champions: await this.d.champions(), notice }));
  }

  /** After a change made elsewhere (a person forgotten): the triage channel's card shows the issue as it is now. */
  async redrawTriageCard(issue: Issue): Promise<void> {
    await this.d.outbox.enqueue([await this.cardUpdate(issue)]);
  }

  /** Redraws the issue's card in the triage channel; the outbound path never lets an older one win. */
  private async cardUpdate(issue: Issue): Promise<OutboundMessage> {
    return {
      op: 'update',
      key: `${TRIAGE_POST}|${issue.ref}|v${issue.version}`,
      post: { kind: TRIAGE_POST, id: issue.ref },
      version: issue.version,
      content: await this.triageCard(issue),
    };
  }

  /**
   * The 1:1 notice of a status change or a public comment, once per person and version: the reporter reads
   * "Your issue", a +1 "An issue you follow".
   */
  private notices(issue: Issue, note: Notification, version: number, actorId: string, entry: Parameters<typeof issueUpdateData>[2]): OutboundMessage[] {
    const card = (audience: 'reporter' | 'follower') => renderIssueCard('issue-update', issueUpdateData(issue, note, entry, audience));
    const reporterKey = reporterKeyOf(issue);
    const cards = { reporter: card('reporter'), follower: card('follower') };
    return followersToTell(issue, actorId).map((userKey) => ({
      op: 'send',
      key: `issue-notice|${issue.ref}|v${version}|${userKey}`,
      to: { kind: 'user', userKey },
      content: userKey === reporterKey ? cards.reporter : cards.follower,
    }));
  }

  /** A duplicate's reporter and its +1s join the original as affected, so they hear when it is fixed. */
  private async followOriginal(dup: Issue, originalRef: string): Promise<OutboundMessage[]> {
    // Up to MAX_AFFECTED people inside someone's turn: one write of the original for all of them, not one each
    // (nor several at once, which would only retry on each other's ETags of the same row).
    const res = await this.d.repository.addAffectedMany(
      originalRef,
      [dup.reporter, ...dup.affected].map((p) => ({ id: p.id, name: p.name })),
    );
    return res.kind === 'updated' ? [await this.cardUpdate(res.issue)] : [];
  }

  // ---- rollout team ---------------------------------------------------------------------------------

  async exportCsv(caller: Caller): Promise<{ csv: string; count: number } | null> {
    if (!allows(caller.role, 'issues.export')) return null;
    return this.d.exporter.csv();
  }

  // ---- SLA ------------------------------------------------------------------------------------------

  /** What one SLA event sends: a reminder in the triage channel, or an escalation to the rollout team. */
  async slaMessages(event: SlaEvent): Promise<OutboundMessage[]> {
    const issue = event.issue;
    if (event.kind === 'reminder') {
      return [
        {
          op: 'send',
          key: `sla|${issue.ref}|${event.threshold}`,
          to: { kind: 'channel', role: 'triage' },
          content: slaText(issue, 'reminder', event.ageMinutes),
        },
      ];
    }
    return this.escalate(issue, `${issue.ref}|${event.threshold}`, slaText(issue, 'escalation', event.ageMinutes));
  }

  private async escalate(issue: Pick<Issue, 'ref'>, key: string, text: string): Promise<OutboundMessage[]> {
    const reachable = new Set<string>();
    for (const id of this.d.rolloutTeamIds) if (await this.d.reachable(id)) reachable.add(id);
    const destinations = escalationDestinations(this.d.rolloutTeamIds, reachable);
    const channelOnly = destinations.length === 1 && destinations[0]?.kind === 'channel';
    return destinations.map((to) => ({
      op: 'send',
      key: `sla|${key}|${to.kind === 'user' ? to.userKey : 'channel'}`,
      to,
      content: channelOnly ? `${text} (No rollout team member could be reached directly.)` : text,
    }));
  }

  async enqueue(messages: readonly OutboundMessage[]): Promise<void> {
    await this.d.outbox.enqueue(messages);
  }
}

function involved(issue: Issue, personId: string): boolean {
  return issue.reporter.id === personId || issue.affected.some((a) => a.id === personId);
}
