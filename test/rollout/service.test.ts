import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { MembershipStore } from '../../src/rollout/members.js';
import { parseRollout } from '../../src/rollout/model.js';
import { RolloutDirectory } from '../../src/rollout/service.js';
import { testTables } from '../support/storage.js';

const FILE = parseRollout(`
cohorts:
  - { id: wave-a, name: Wave A, goLive: 2026-11-02, zone: Africa/Lusaka }
  - { id: wave-b, name: Wave B, goLive: 2027-02-01, zone: Africa/Lusaka }
groups:
  - { id: field-officers, name: Field officers }
  - { id: supervisors, name: Supervisors }
members:
  - { id: aad-mercy, name: Mercy Phiri, groups: [field-officers], cohort: wave-b }
`);

const lead = { person: { id: 'aad-lead', name: 'Lee Lead' }, role: 'rolloutTeam' as const };
const staff = { person: { id: 'aad-sam', name: 'Sam Staff' }, role: 'staff' as const };
const alex = { id: 'aad-alex', name: 'Alex Wilber' };

async function directory() {
  const clock = new ManualClock('2026-11-30T08:00:00Z');
  const store = await MembershipStore.open(testTables(), clock);
  return { dir: new RolloutDirectory(() => FILE, store), clock };
}

describe('the rollout directory', () => {
  it('places a person listed in the file by any of their keys', async () => {
    const { dir } = await directory();
    const m = await dir.membership(['29:mercy-teams-id', 'aad-mercy']);
    expect(m.groups.map((g) => g.id)).toEqual(['field-officers']);
    expect(m.cohort?.id).toBe('wave-b');
    expect(await dir.membership(['aad-nobody'])).toEqual({ groups: [] });
  });

  it('the rollout team adds a person to a group and a cohort from Teams; they are then found there', async () => {
    const { dir } = await directory();
    expect(await dir.add(lead, 'field-officers', alex)).toEqual({ ok: true, message: 'Alex Wilber is now in the user group Field officers.' });
    const res = await dir.add(lead, 'Wave B', alex);
    expect(res).toEqual({ ok: true, message: 'Alex Wilber is now in the cohort Wave B (go-live Mon 1 Feb 2027, Africa/Lusaka).' });
    const m = await dir.membership([alex.id]);
    expect(m.groups.map((g) => g.id)).toEqual(['field-officers']);
    expect(m.cohort?.id).toBe('wave-b');
    expect((await dir.members('group', 'field-officers')).map((p) => p.name).sort()).toEqual(['Alex Wilber', 'Mercy Phiri']);
    expect((await dir.members('cohort', 'wave-b')).map((p) => p.name).sort()).toEqual(['Alex Wilber', 'Mercy Phiri']);
  });

  it('a person is in one cohort: moving them takes them out of the other, also out of the file\'s', async () => {
    const { dir, clock } = await directory();
    await dir.add(lead, 'wave-b', alex);
    clock.advance(1000);
    await dir.add(lead, 'wave-a', alex);
    expect((await dir.membership([alex.id])).cohort?.id).toBe('wave-a');
    expect((await dir.members('cohort', 'wave-b')).map((p) => p.id)).toEqual(['aad-mercy']);
    await dir.add(lead, 'wave-a', { id: 'aad-mercy', name: 'Mercy Phiri' });
    expect((await dir.members('cohort', 'wave-b')).map((p) => p.id)).toEqual([]);
    expect((await dir.membership(['aad-mercy'])).cohort?.id).toBe('wave-a');
  });

  it('people added by @mention under their Teams id move to their Entra id once it is known, keeping the newest cohort', async () => {
    const { dir, clock } = await directory();
    const teamsAlex = { id: '29:alex', name: alex.name };
    // Before memberships were keyed by Entra id: a group and a cohort under the Teams id, then a newer cohort under the Entra id.
    await dir.add(lead, 'supervisors', teamsAlex);
    await dir.add(lead, 'wave-b', teamsAlex);
    clock.advance(1000);
    await dir.add(lead, 'wave-a', alex);
    await dir.add(lead, 'field-officers', { id: '29:unknown', name: 'Not Yet Known' });
    const entraIdOf = async (teamsId: string) => (teamsId === '29:alex' ? alex.id : undefined);
    expect(await dir.rekeyTeamsIds(entraIdOf)).toBe(1);
    expect((await dir.members('group', 'supervisors')).map((p) => p.id)).toEqual([alex.id]);
    expect((await dir.membership([alex.id])).cohort?.id).toBe('wave-a');
    expect((await dir.members('cohort', 'wave-b')).map((p) => p.id)).toEqual(['aad-mercy']);
    expect(await dir.membership(['29:alex'])).toEqual({ groups: [] });
    // Someone whose Entra id is not known yet stays as they are, and is moved by a later run; nothing else moves twice.
    expect((await dir.members('group', 'field-officers')).map((p) => p.id)).toContain('29:unknown');
    expect(await dir.rekeyTeamsIds(async (id) => (id === '29:unknown' ? 'aad-unknown' : undefined))).toBe(1);
    expect((await dir.members('group', 'field-officers')).map((p) => p.id).sort()).toEqual(['aad-mercy', 'aad-unknown']);
  });

  it('refuses staff, and names the groups and cohorts when the target is unknown; nothing changes', async () => {
    const { dir } = await directory();
    expect(await dir.add(staff, 'field-officers', alex)).toEqual({ ok: false, message: 'That is for the rollout team only.' });
    expect((await dir.membership([alex.id])).groups).toEqual([]);
    const res = await dir.add(lead, 'enumerators', alex);
    expect(res.ok).toBe(false);
    expect(res.message).toBe('There is no user group or cohort "enumerators". User groups: field-officers, supervisors. Cohorts: wave-a, wave-b.');
    expect((await dir.membership([alex.id])).groups).toEqual([]);
  });

  it('removes a person added from Teams; one listed in the file is pointed to the file', async () => {
    const { dir } = await directory();
    await dir.add(lead, 'supervisors', alex);
    expect(await dir.remove(lead, 'supervisors', alex)).toEqual({ ok: true, message: 'Alex Wilber is no longer in Supervisors.' });
    expect((await dir.membership([alex.id])).groups).toEqual([]);
    const res = await dir.remove(lead, 'field-officers', { id: 'aad-mercy', name: 'Mercy Phiri' });
    expect(res).toEqual({ ok: false, message: 'Mercy Phiri is listed in Field officers in the rollout file; remove them there.' });
  });
});
