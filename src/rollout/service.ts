import { DateTime } from 'luxon';
import { allows } from '../roles/permissions.js';
import type { Person, Role } from '../roles/roles.js';
import type { MembershipKind, MembershipStore } from './members.js';
import type { Cohort, Rollout, UserGroup } from './model.js';

/** Who is asking: their identity and role (answered by src/roles). */
export interface RolloutCaller {
  person: Person;
  role: Role;
}

/** A person's place in the rollout: their user groups and their cohort. */
export interface Membership {
  groups: UserGroup[];
  cohort?: Cohort;
}

export type Target = { kind: 'group'; group: UserGroup } | { kind: 'cohort'; cohort: Cohort };

export type ChangeResult = { ok: true; message: string } | { ok: false; message: string };

/**
 * The rollout's people: the rollout file's cohorts, user groups and members, plus the memberships the
 * rollout team added from Teams. Other features ask it who is in a group or cohort and where a person
 * belongs; a person may be known by several keys (Entra object id, Teams id), any of which matches.
 */
export class RolloutDirectory {
  constructor(
    private readonly file: () => Rollout,
    private readonly store: MembershipStore,
  ) {}

  get rollout(): Rollout {
    return this.file();
  }

  cohort(id: string): Cohort | undefined {
    return this.file().cohorts.find((c) => c.id === id);
  }

  group(id: string): UserGroup | undefined {
    return this.file().groups.find((g) => g.id === id);
  }

  /** A group or cohort by id or name, as the rollout team types it. */
  target(text: string): Target | undefined {
    const t = text.trim().toLowerCase();
    const group = this.file().groups.find((g) => g.id === t || g.name.toLowerCase() === t);
    if (group) return { kind: 'group', group };
    const cohort = this.file().cohorts.find((c) => c.id === t || c.name.toLowerCase() === t);
    return cohort ? { kind: 'cohort', cohort } : undefined;
  }

  /** Where a person belongs. A cohort the rollout team set from Teams wins over the file's. */
  async membership(personIds: readonly string[]): Promise<Membership> {
    const ids = new Set(personIds.filter(Boolean));
    const r = this.file();
    const listed = r.members.filter((m) => ids.has(m.id));
    const added = await this.store.of([...ids]);
    const groupIds = new Set([...listed.flatMap((m) => m.groups), ...added.filter((a) => a.kind === 'group').map((a) => a.of)]);
    const addedCohort = added
      .filter((a) => a.kind === 'cohort' && this.cohort(a.of))
      .sort((a, b) => b.addedAt.localeCompare(a.addedAt))[0]?.of;
    const cohortId = addedCohort ?? listed.find((m) => m.cohort)?.cohort;
    const out: Membership = { groups: r.groups.filter((g) => groupIds.has(g.id)) };
    const cohort = cohortId ? this.cohort(cohortId) : undefined;
    if (cohort) out.cohort = cohort;
    return out;
  }

  /** Everyone in a user group or cohort, from the file and from Teams, once each. */
  async members(kind: MembershipKind, of: string): Promise<Person[]> {
    const people = new Map<string, Person>();
    for (const m of this.file().members) {
      if (kind === 'group' ? m.groups.includes(of) : m.cohort === of) people.set(m.id, { id: m.id, name: m.name });
    }
    for (const a of await this.store.members(kind, of)) people.set(a.personId, { id: a.personId, name: a.name });
    if (kind === 'group') return [...people.values()];
    // A file member the rollout team moved to another cohort from Teams is no longer in this one.
    const out: Person[] = [];
    for (const p of people.values()) if ((await this.membership([p.id])).cohort?.id === of) out.push(p);
    return out;
  }

  /**
   * Moves the memberships kept under a Teams id (added by @mention before they were keyed by Entra id) to the
   * person's Entra id, once `entraIdOf` knows it (their 1:1 chat with the bot): deliveries, bookings and
   * acknowledgements key people by Entra id, so a group's announcement would otherwise not be "theirs". A cohort
   * moves only if it is newer than one they have under their Entra id (one cohort per person). Returns how many moved.
   */
  async rekeyTeamsIds(entraIdOf: (teamsId: string) => Promise<string | undefined>): Promise<number> {
    let moved = 0;
    const known = new Map<string, string | undefined>();
    for (const m of await this.store.teamsKeyed()) {
      if (!known.has(m.personId)) known.set(m.personId, await entraIdOf(m.personId));
      const entraId = known.get(m.personId);
      if (!entraId || entraId === m.personId) continue;
      if (m.kind === 'cohort') {
        const theirs = (await this.store.of([entraId])).filter((a) => a.kind === 'cohort');
        if (theirs.some((a) => a.addedAt >= m.addedAt)) {
          await this.store.remove('cohort', m.of, m.personId);
          continue;
        }
        for (const a of theirs) if (a.of !== m.of) await this.store.remove('cohort', a.of, entraId);
      }
      await this.store.move(m, entraId);
      moved++;
    }
    return moved;
  }

  /** `group add <group or cohort> <person>` (rollout team). */
  async add(caller: RolloutCaller, targetText: string, person: Person): Promise<ChangeResult> {
    if (!allows(caller.role, 'rollout.manage')) return { ok: false, message: 'That is for the rollout team only.' };
    const target = this.target(targetText);
    if (!target) return { ok: false, message: this.unknownTarget(targetText) };
    if (target.kind === 'group') {
      await this.store.add({ kind: 'group', of: target.group.id, personId: person.id, name: person.name, addedBy: caller.person.id });
      return { ok: true, message: `${person.name} is now in the user group ${target.group.name}.` };
    }
    // One cohort per person: joining one leaves any other they were added to.
    for (const a of await this.store.of([person.id])) {
      if (a.kind === 'cohort' && a.of !== target.cohort.id) await this.store.remove('cohort', a.of, person.id);
    }
    await this.store.add({ kind: 'cohort', of: target.cohort.id, personId: person.id, name: person.name, addedBy: caller.person.id });
    return { ok: true, message: `${person.name} is now in the cohort ${target.cohort.name} (${goLiveText(target.cohort)}).` };
  }

  /** `group remove <group or cohort> <person>` (rollout team); people listed in the file stay there. */
  async remove(caller: RolloutCaller, targetText: string, person: Person): Promise<ChangeResult> {
    if (!allows(caller.role, 'rollout.manage')) return { ok: false, message: 'That is for the rollout team only.' };
    const target = this.target(targetText);
    if (!target) return { ok: false, message: this.unknownTarget(targetText) };
    const of = target.kind === 'group' ? target.group.id : target.cohort.id;
    const label = target.kind === 'group' ? target.group.name : target.cohort.name;
    const removed = await this.store.remove(target.kind, of, person.id);
    const listed = this.file().members.find((m) => m.id === person.id);
    const inFile = listed && (target.kind === 'group' ? listed.groups.includes(of) : listed.cohort === of);
    if (inFile) {
      return { ok: false, message: `${person.name} is listed in ${label} in the rollout file; remove them there.` };
    }
    return removed
      ? { ok: true, message: `${person.name} is no longer in ${label}.` }
      : { ok: false, message: `${person.name} was not added to ${label}.` };
  }

  private unknownTarget(text: string): string {
    const r = this.file();
    const groups = r.groups.map((g) => g.id).join(', ') || 'none yet';
    const cohorts = r.cohorts.map((c) => c.id).join(', ') || 'none yet';
    return `There is no user group or cohort "${text.trim()}". User groups: ${groups}. Cohorts: ${cohorts}.`;
  }
}

/** "go-live Mon 1 Feb 2027, Africa/Lusaka" */
export function goLiveText(cohort: Cohort): string {
  const day = DateTime.fromISO(cohort.goLive, { zone: cohort.zone }).setLocale('en-US').toFormat('ccc d LLL yyyy');
  return `go-live ${day}, ${cohort.zone}`;
}
