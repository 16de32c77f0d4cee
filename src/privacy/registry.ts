import type { ExpiringStore } from '../storage/expiry.js';
import type { PersonalData, Pseudonym, Subject, Tally } from './personal-data.js';

/** One feature's part of a privacy duty's result. */
export interface FeatureTally {
  feature: string;
  tally: Tally;
}

const DAY_MS = 86_400_000;

/** `forget` stopped at `feature` by a fault (the job keeps what the features before it finished). */
export class ForgetStopped extends Error {
  constructor(
    readonly feature: string,
    cause: unknown,
  ) {
    super(`forget stopped at ${feature}`, { cause });
  }
}

/**
 * Every feature's `PersonalData`, in the order a forget job (jobs.ts) runs them: the composition root registers each
 * feature's implementation, conversations last (the others may still look up the person's chat).
 */
export class PersonalDataRegistry {
  private readonly parts: PersonalData[] = [];

  register(part: PersonalData): this {
    if (this.parts.some((p) => p.feature === part.feature)) throw new Error(`personal data of "${part.feature}" registered twice`);
    this.parts.push(part);
    return this;
  }

  async describe(subject: Subject): Promise<FeatureTally[]> {
    return Promise.all(this.parts.map(async (p) => ({ feature: p.feature, tally: await p.describe(subject) })));
  }

  /** Everything every feature holds about the person, by feature; `progress` hears each part finish (n of all). */
  async export(subject: Subject, progress?: (done: number, total: number) => void): Promise<Record<string, Record<string, unknown>>> {
    let done = 0;
    const parts = await Promise.all(
      this.parts.map(async (p) => {
        const part = [p.feature, await p.export(subject)] as const;
        progress?.(++done, this.parts.length);
        return part;
      }),
    );
    return Object.fromEntries(parts);
  }

  /** How many parts `forget` runs and `my data` reads (the progress cards' "n of m"). */
  get partCount(): number {
    return this.parts.length;
  }

  /**
   * Runs the `index`th feature's `forget` (the background job runs them one at a time, recording each). A
   * fault is a `ForgetStopped` at that feature, with nothing of its own counted as done.
   */
  async forgetPart(index: number, subject: Subject, pseudonym: Pseudonym): Promise<FeatureTally> {
    const p = this.parts[index];
    if (!p) throw new RangeError(`no personal data part ${index}`);
    try {
      return { feature: p.feature, tally: await p.forget(subject, pseudonym) };
    } catch (err) {
      throw new ForgetStopped(p.feature, err);
    }
  }

  /**
   * Retention as stores for the expiry job (src/storage/expiry.ts: lease-guarded, bounded per run): each
   * feature deletes what is older than `days` days, `limit` records a run.
   */
  retentionStores(days: number): ExpiringStore[] {
    return this.parts.flatMap((p) => {
      const expire = p.expire?.bind(p);
      if (!expire) return [];
      return [{ name: `retention.${p.feature}`, sweepExpired: (now: Date, limit: number) => expire(new Date(now.getTime() - days * DAY_MS), limit) }];
    });
  }
}
