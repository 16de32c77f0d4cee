import { holdings, isSubject, type PersonalData, type Subject, type Tally } from '../privacy/personal-data.js';
import type { MembershipStore } from './members.js';
import type { Rollout } from './model.js';

/**
 * What the rollout's people model holds about a person: the user groups and cohort the rollout team added
 * them to from Teams (`RolloutMembers`, deleted by `forget`), and their entry in the rollout file, which
 * the app only reads: the rollout team is told to remove it there.
 */
export class RolloutPersonalData implements PersonalData {
  readonly feature = 'rollout';

  constructor(
    private readonly store: MembershipStore,
    private readonly file: () => Rollout,
  ) {}

  private listed(subject: Subject) {
    return this.file().members.filter((m) => isSubject(subject, m.id));
  }

  async describe(subject: Subject): Promise<Tally> {
    const added = await this.store.of(subject.ids);
    return {
      holdings: holdings({ kind: 'rollout.memberships', label: 'user group and cohort memberships added from Teams', count: added.length, action: 'delete' }),
      notes: this.listed(subject).length
        ? ['They are listed in the rollout file (ROLLOUT_FILE, under members): remove them there; the app only reads that file.']
        : [],
    };
  }

  async export(subject: Subject): Promise<Record<string, unknown>> {
    const added = await this.store.of(subject.ids);
    return {
      addedFromTeams: added.map((m) => ({ kind: m.kind, of: m.of, addedAt: m.addedAt })),
      inTheRolloutFile: this.listed(subject).map((m) => ({ groups: m.groups, cohort: m.cohort ?? null })),
    };
  }

  async forget(subject: Subject): Promise<Tally> {
    const tally = await this.describe(subject);
    for (const m of await this.store.of(subject.ids)) await this.store.remove(m.kind, m.of, m.personId);
    return tally;
  }
}
