import type { HeldReport } from '../issues/service.js';
import type { DiskOutbox } from '../storage/disk-outbox.js';
import { holdings, isSubject, type PersonalData, type Pseudonym, type Subject, type Tally } from './personal-data.js';

/**
 * Reports kept on this instance's disk while storage did not answer (src/storage/disk-outbox.ts), filed once it
 * is back: until then they hold the form and who sent it, and are the person's data like a filed issue. `my data`
 * lists them; `forget` anonymises them as the issues part does a filed issue — the organisation keeps the report,
 * filed later under the person's pseudonym (with the same request key, so one filed already is not filed twice),
 * and nobody is told. One being filed at that moment is waited for: the issues part, which runs after this one,
 * then finds it filed and anonymises it there.
 */
export class HeldReportsPersonalData implements PersonalData {
  readonly feature = 'heldReports';

  constructor(private readonly held: Pick<DiskOutbox<HeldReport>, 'list' | 'replace' | 'handled'>) {}

  private theirs(subject: Subject) {
    return this.held.list().filter((e) => {
      const { person, reporter } = e.item.caller;
      return isSubject(subject, person.id) || isSubject(subject, reporter.id) || isSubject(subject, reporter.aadObjectId);
    });
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
    let anonymised = 0;
    for (const e of this.theirs(subject)) {
      const stand = { id: pseudonym.id, name: pseudonym.name };
      // Their keys go (Entra id, the chat to tell them in); the form as written stays, as on a filed issue.
      const item: HeldReport = { ...e.item, caller: { person: stand, reporter: { ...stand }, role: e.item.caller.role } };
      if (await this.held.replace(e.key, item)) anonymised++;
      await this.held.handled(e.key);
    }
    return this.tally(anonymised);
  }
}
