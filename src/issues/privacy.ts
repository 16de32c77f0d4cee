import { holdings, isSubject, type PersonalData, type Pseudonym, type Subject, type Tally } from '../privacy/personal-data.js';
import type { Issue } from './model.js';
import type { OfferRow, OfferStore } from './offers.js';
import type { IssueQueries } from './queries.js';
import type { IssueRepository } from './repository.js';
import { reporterView } from './rules.js';
import type { IssueService } from './service.js';
import type { SlaMarks } from './sla.js';

/** Issues read at once. */
const PARALLEL = 16;

/**
 * What the issue log holds about a person. An issue is the organisation's record: it stays, and `forget`
 * puts the person's pseudonym wherever it names them — as its reporter (no notice reaches them any more),
 * among those affected (+1s keep counting), as assignee, and as author of comments and history lines — and
 * redraws its triage card. The issues they were offered as similar go. The reference counter's retry rows hold
 * only a hash of the request's key (chat id and activity id); one written in the clear by an earlier version is
 * hashed here. Retention deletes issues closed before the period: main row, index rows and SLA marks.
 */
export class IssuePersonalData implements PersonalData {
  readonly feature = 'issues';

  constructor(
    private readonly d: {
      repository: IssueRepository;
      queries: IssueQueries;
      offers: OfferStore;
      marks: SlaMarks;
      service: Pick<IssueService, 'redrawTriageCard'>;
    },
  ) {}

  /** The issues that name the person (found by their `who~` and `rep~` index rows, then read one by one). */
  private async issuesOf(subject: Subject): Promise<Issue[]> {
    const refs = [...new Set((await Promise.all(subject.ids.map((id) => this.d.queries.refsOf(id)))).flat())];
    const out: Issue[] = [];
    for (let i = 0; i < refs.length; i += PARALLEL) {
      const read = await Promise.all(refs.slice(i, i + PARALLEL).map((ref) => this.d.repository.get(ref)));
      out.push(...read.filter((x): x is Issue => x !== null && roles(x, subject).any));
    }
    return out.sort((a, b) => a.number - b.number);
  }

  private async offersOf(subject: Subject): Promise<(OfferRow & { id: string })[]> {
    return (await Promise.all(subject.ids.map(async (id) => (await this.d.offers.ofPerson(id)).map((o) => ({ ...o, id }))))).flat();
  }

  /** `loggedByName`: issues found by the person's name alone (old office-hours issues), counted with those they worked on. */
  private tally(issues: Issue[], offers: unknown[], subject: Subject, loggedByName = 0): Tally {
    const count = (key: 'reported' | 'affected' | 'worked') => issues.filter((i) => roles(i, subject)[key]).length + (key === 'worked' ? loggedByName : 0);
    return {
      holdings: holdings(
        { kind: 'issues.reported', label: 'issues they logged (kept, reporter anonymised; no more notices)', count: count('reported'), action: 'anonymise' },
        { kind: 'issues.affected', label: 'issues they said "+1" to and follow (still counted, no more notices)', count: count('affected'), action: 'anonymise' },
        { kind: 'issues.triage', label: 'issues they logged for someone, were assigned, commented on or changed (kept, anonymised)', count: count('worked'), action: 'anonymise' },
        { kind: 'issues.offers', label: 'issues shown to them as similar to theirs (and the report they typed)', count: offers.length, action: 'delete' },
      ),
    };
  }

  async describe(subject: Subject): Promise<Tally> {
    const [issues, offers] = await Promise.all([this.issuesOf(subject), this.offersOf(subject)]);
    return this.tally(issues, offers, subject);
  }

  async export(subject: Subject): Promise<Record<string, unknown>> {
    const [issues, offers] = await Promise.all([this.issuesOf(subject), this.offersOf(subject)]);
    const mine = (id: string) => isSubject(subject, id);
    return {
      // Their own issues as they see them: no internal notes, and no one else named.
      reported: issues.filter((i) => roles(i, subject).reported).map((i) => {
        const seen = reporterView(i);
        return {
          ref: i.ref,
          title: i.title,
          description: i.description,
          where: i.location,
          category: i.category,
          severity: i.severity,
          site: i.site,
          faqQuestion: i.faqQuestion ?? null,
          status: i.status,
          priority: i.priority,
          createdAt: i.createdAt,
          closedAt: i.closedAt,
          publicComments: seen.comments.filter((c) => !mine(c.by.id)).map((c) => ({ at: c.at, text: c.text })),
          statusChanges: seen.history.filter((h) => h.what === 'status' || h.what === 'duplicate').map((h) => ({ at: h.at, to: h.to })),
          othersAffected: i.affected.filter((a) => !mine(a.id)).length,
        };
      }),
      affected: issues.filter((i) => roles(i, subject).affected).map((i) => ({
        ref: i.ref,
        title: i.title,
        status: i.status,
        joinedAt: i.history.find((h) => h.what === 'affected' && mine(h.by.id))?.at ?? null,
      })),
      asChampion: {
        assignedToYou: issues.filter((i) => i.assignee && mine(i.assignee.id)).map((i) => i.ref),
        comments: issues.flatMap((i) =>
          i.comments.filter((c) => mine(c.by.id)).map((c) => ({ ref: i.ref, at: c.at, text: c.text, visibility: c.visibility })),
        ),
        loggedForSomeone: issues.filter((i) => i.history.some((h) => h.what === 'created' && mine(h.by.id) && h.by.id !== i.reporter.id)).map((i) => i.ref),
        changes: issues.flatMap((i) =>
          i.history
            .filter((h) => mine(h.by.id) && ['status', 'priority', 'duplicate', 'assigned'].includes(h.what))
            // An assignment names the assignee: only when that was them.
            .map((h) => ({ ref: i.ref, at: h.at, what: h.what, to: h.what === 'assigned' ? (h.toId && mine(h.toId) ? 'you' : 'a colleague') : (h.to ?? null) })),
        ),
      },
      shownAsSimilar: offers.map((o) => o.ref),
      // The reports they typed that were met with similar issues, kept (once per form) for "Log it anyway".
      reportsKeptWhenShownSimilar: keptForms(offers),
    };
  }

  async forget(subject: Subject, pseudonym: Pseudonym): Promise<Tally> {
    const [issues, offers] = await Promise.all([this.issuesOf(subject), this.offersOf(subject)]);
    // First, while the issues still name them: the counter's retry rows of their reports, if written with the
    // chat's id in the clear, take its hash instead (they would tie the pseudonymised issue back to the chat).
    await this.d.repository.counter.hashLegacyKeys(issues.filter((i) => roles(i, subject).reported).map((i) => i.number));
    for (const issue of issues) {
      const changed = await this.d.repository.replacePerson(issue.ref, (id) => isSubject(subject, id), pseudonym);
      if (changed) await this.d.service.redrawTriageCard(changed);
    }
    for (const o of offers) await this.d.offers.drop(o.id, o.ref);
    // Issues a host logged from office hours before the "created" line named them: only the description's closing
    // "logged by <name>." names them, so no id finds those; found by their name (see replaceLegacyLoggedByIn).
    let loggedByName = 0;
    if (subject.name?.trim()) {
      for (const ref of await this.d.repository.officeHoursLoggedByName(subject.name.trim())) {
        const changed = await this.d.repository.replaceLegacyLoggedBy(ref, subject.name.trim(), pseudonym);
        if (!changed) continue;
        loggedByName++;
        await this.d.service.redrawTriageCard(changed);
      }
    }
    return this.tally(issues, offers, subject, loggedByName);
  }

  async expire(before: Date, limit: number): Promise<number> {
    let deleted = 0;
    for (const found of await this.d.queries.closedBefore(before, limit)) {
      if (!(await this.d.repository.expire(found.ref, before, found))) continue;
      await this.d.marks.dropAll(found.ref);
      deleted++;
    }
    return deleted;
  }
}

/** How an issue names a person. */
function roles(issue: Issue, subject: Subject) {
  const is = (id: string | undefined) => isSubject(subject, id);
  const r = issue.reporter;
  const reported = is(r.id) || is(r.aadObjectId) || is(r.conversationKey);
  const affected = issue.affected.some((a) => is(a.id));
  // Logged by them on the reporter's behalf (an office-hours host): the "created" line is theirs, not the reporter's.
  const loggedFor = issue.history.some((h) => h.what === 'created' && is(h.by.id) && h.by.id !== r.id);
  const worked =
    loggedFor ||
    is(issue.assignee?.id) ||
    issue.comments.some((c) => is(c.by.id)) ||
    issue.history.some((h) => (is(h.by.id) && h.what !== 'created' && h.what !== 'affected') || is(h.toId));
  return { reported, affected, worked, any: reported || affected || worked };
}

/** The forms kept on a person's offer rows, one entry per form (every issue it was shown with shares it). */
function keptForms(offers: readonly OfferRow[]): { form: Record<string, string>; shownWith: string[] }[] {
  const byForm = new Map<string, { form: Record<string, string>; shownWith: string[] }>();
  for (const o of offers) {
    if (!o.form) continue;
    const key = JSON.stringify([o.formId ?? '', o.form]);
    const seen = byForm.get(key);
    if (!seen) byForm.set(key, { form: o.form, shownWith: [o.ref] });
    else if (!seen.shownWith.includes(o.ref)) seen.shownWith.push(o.ref);
  }
  return [...byForm.values()];
}
