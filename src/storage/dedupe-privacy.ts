import { holdings, type PersonalData, type Subject, type Tally } from '../privacy/personal-data.js';
import type { DedupeStore } from './dedupe.js';

/**
 * The answers kept for Teams' retries of a person's card actions (`Dedupe`, a day at most): they may repeat
 * what the person wrote or their name. `my data` counts them (an answer may name others too, so it is not
 * handed over); `forget` replaces each with a plain "already handled", so a late retry is still not handled
 * twice — and so any other person's kept answer that names them (a champion's card about their question).
 * They expire by themselves, so retention has nothing to add.
 */
export class DedupePersonalData implements PersonalData {
  readonly feature = 'retries';

  constructor(private readonly store: Pick<DedupeStore, 'ownedBy' | 'forgetOwner'>) {}

  async describe(subject: Subject): Promise<Tally> {
    const kept = await this.store.ownedBy(subject.ids);
    return { holdings: holdings({ kind: 'retries.answers', label: "answers kept for Teams' retries", count: kept.length, action: 'delete' }) };
  }

  async export(subject: Subject): Promise<Record<string, unknown>> {
    const kept = await this.store.ownedBy(subject.ids);
    return {
      answersKeptForRetries: kept.length,
      deletedBy: kept.reduce<string | undefined>((last, k) => (!last || k.expiresAt > last ? k.expiresAt : last), undefined),
    };
  }

  async forget(subject: Subject): Promise<Tally> {
    // Others' answers naming them are not theirs to count (nor handed over): scrubbed, not tallied, so a
    // second run, which scrubs the first run's own "stopped part-way" answer, still reports nothing left.
    const count = await this.store.forgetOwner(subject.ids, { naming: [...subject.ids, ...(subject.name ? [subject.name] : [])] });
    return { holdings: holdings({ kind: 'retries.answers', label: "answers kept for Teams' retries", count, action: 'delete' }) };
  }
}
