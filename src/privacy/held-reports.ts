import type { Clock } from '../clock.js';
import type { HeldReport } from '../issues/service.js';
import type { DiskOutbox, OutboxEntry } from '../storage/disk-outbox.js';
import type { ForgottenKeys } from './forgotten-keys.js';
import { holdings, isSubject, type PersonalData, type Pseudonym, type Subject, type Tally } from './personal-data.js';

/** Every key a held report knows its reporter by. */
const idsOf = (report: HeldReport): string[] => {
  const { person, reporter } = report.caller;
  return [person.id, reporter.id, reporter.aadObjectId ?? ''].filter(Boolean);
};

/** The report with its reporter replaced by the pseudonym: their keys go (Entra id, the chat to tell them in); the form as written stays, as on a filed issue. */
function anonymised(report: HeldReport, pseudonym: Pseudonym): HeldReport {
  const stand = { id: pseudonym.id, name: pseudonym.name };
  return { ...report, caller: { person: stand, reporter: { ...stand }, role: report.caller.role } };
}

/**
 * Reports kept on this instance's disk while storage did not answer (src/storage/disk-outbox.ts), filed once it
 * is back: until then they hold the form and who sent it, and are the person's data like a filed issue. `my data`
 * lists them; `forget` anonymises them as the issues part does a filed issue — the organisation keeps the report,
 * filed later under the person's pseudonym (with the same request key, so one filed already is not filed twice),
 * and nobody is told. One being filed at that moment is waited for: the issues part, which runs after this one,
 * then finds it filed and anonymises it there.
 *
 * Other instances' disks are out of this part's reach: it records the forget (ForgottenKeys, by keyed hashes of the
 * person's keys) before anything else, and every instance's filer (`fileHeldReport`) looks there first.
 */
export class HeldReportsPersonalData implements PersonalData {
  readonly feature = 'heldReports';

  constructor(
    private readonly held: Pick<DiskOutbox<HeldReport>, 'list' | 'replace' | 'handled'>,
    private readonly forgotten: Pick<ForgottenKeys, 'record' | 'expire'>,
    private readonly clock: Clock,
  ) {}

  private theirs(subject: Subject) {
    return this.held.list().filter((e) => idsOf(e.item).some((id) => isSubject(subject, id)));
  }

  private tally(count: number): Tally {
    return {
      holdings: holdings({ kind: 'issues.held', label: 'reports kept while storage was down, not yet filed (kept, reporter anonymised)', count, action: 'anonymise' }),
    };
  }

  async describe(subject: Subject): Promise<Tally> {
    return this.tally(this.theirs(subject).length);
  }

  /** The form as they sent it, and when: it is theirs alone (no one else is on it yet). */
  async export(subject: Subject): Promise<Record<string, unknown>> {
    return { heldWhileStorageWasDown: this.theirs(subject).map((e) => ({ sentAt: e.at, form: e.item.values })) };
  }

  async forget(subject: Subject, pseudonym: Pseudonym): Promise<Tally> {
    // First, for the other instances: a report of theirs held since now is filed under the pseudonym.
    await this.forgotten.record(subject, pseudonym, this.clock.now());
    let count = 0;
    for (const e of this.theirs(subject)) {
      if (await this.held.replace(e.key, anonymised(e.item, pseudonym))) count++;
      await this.held.handled(e.key);
    }
    return this.tally(count);
  }

  /** The records of forgets older than the retention period: a report is not held that long. */
  expire(before: Date, limit: number): Promise<number> {
    return this.forgotten.expire(before, limit);
  }
}

export interface HeldFiling {
  forgotten: Pick<ForgottenKeys, 'since'>;
  /** Files the report (IssueService.fileHeld: once per request key, its reporter told unless a pseudonym). */
  file(report: HeldReport): Promise<unknown>;
  /** Anonymises what names the person in filed issues (the issues part of `forget`). */
  anonymiseFiled(subject: Subject, pseudonym: Pseudonym): Promise<unknown>;
}


/**
 * Files one held report. Its reporter forgotten since it was kept — on any instance — it is filed under the
 * pseudonym that forget gave them, and nobody is told. A forget recorded while it was being filed (its issues part
 * may have looked before this issue existed) is caught by a second look, and the filed issue anonymised here.
 */
export async function fileHeldReport(entry: OutboxEntry<HeldReport>, d: HeldFiling): Promise<void> {
  const ids = idsOf(entry.item);
  const kept = new Date(entry.at);
  const before = await d.forgotten.since(ids, kept);
  if (before) {
    await d.file(anonymised(entry.item, before.pseudonym));
    return;
  }
  await d.file(entry.item);
  const during = await d.forgotten.since(ids, kept);
  if (during) await d.anonymiseFiled({ ids }, during.pseudonym);
}
