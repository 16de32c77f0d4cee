import type { HeldReport } from '../issues/service.js';
import type { DiskOutbox } from '../storage/disk-outbox.js';
import { holdings, isSubject, type PersonalData, type Subject, type Tally } from './personal-data.js';

/**
 * Reports kept on this instance's disk while storage did not answer (src/storage/disk-outbox.ts), filed once it
 * is back: until then they hold the form and who sent it, and are the person's data like a filed issue. `my data`
 * lists them; `forget` takes them out unfiled (a filed one would be anonymised by the issues part, which runs
 * after this one: a report filed meanwhile is found there).
 */
export class HeldReportsPersonalData implements PersonalData {
  readonly feature = 'heldReports';

  constructor(private readonly held: Pick<DiskOutbox<HeldReport>, 'list' | 'remove'>) {}

  private theirs(subject: Subject) {
    return this.held.list().filter((e) => {
      const { person, reporter } = e.item.caller;
      return isSubject(subject, person.id) || isSubject(subject, reporter.id) || isSubject(subject, reporter.aadObjectId);
    });
  }

  private tally(count: number): Tally {
    return {
      holdings: holdings({ kind: 'issues.held', label: 'reports kept while storage was down, not yet filed (deleted unfiled)', count, action: 'delete' }),
    };
  }

  async describe(subject: Subject): Promise<Tally> {
    return this.tally(this.theirs(subject).length);
  }

  /** The form as they sent it, and when: it is theirs alone (no one else is on it yet). */
  async export(subject: Subject): Promise<Record<string, unknown>> {
    return { heldWhileStorageWasDown: this.theirs(subject).map((e) => ({ sentAt: e.at, form: e.item.values })) };
  }

  async forget(subject: Subject): Promise<Tally> {
    let removed = 0;
    for (const e of this.theirs(subject)) if (await this.held.remove(e.key)) removed++;
    return this.tally(removed);
  }
}
