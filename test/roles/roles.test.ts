import { describe, expect, it } from 'vitest';
import { allows, type Permission } from '../../src/roles/permissions.js';
import { Roles, type RosterReader } from '../../src/roles/roles.js';

const base = { championIds: ['AAA-1'], rolloutTeamIds: ['bbb-2'], cacheMs: 60_000 };

describe('Roles', () => {
  it('gives roles from the configured id lists, case-insensitively', async () => {
    const roles = new Roles(base);
    expect(await roles.roleOf({ aadObjectId: 'aaa-1' })).toBe('champion');
    expect(await roles.roleOf({ aadObjectId: 'BBB-2' })).toBe('rolloutTeam');
    expect(await roles.roleOf({ aadObjectId: 'ccc-3' })).toBe('staff');
    expect(await roles.roleOf({})).toBe('staff');
  });

  it('lets the rollout team do champion actions but not staff do either', async () => {
    const roles = new Roles(base);
    const may = async (id: string, p: Permission) => allows(await roles.roleOf({ aadObjectId: id }), p);
    expect(await may('bbb-2', 'issues.triage')).toBe(true);
    expect(await may('aaa-1', 'issues.triage')).toBe(true);
    expect(await may('aaa-1', 'issues.export')).toBe(false);
    expect(await may('zzz', 'issues.triage')).toBe(false);
  });

  it('names champions from the roster, then from who spoke to the bot, else by their whole id', async () => {
    const reader: RosterReader = { teamMembers: async () => [{ id: 'DDD-4', name: 'Dina Roster' }] };
    const roles = new Roles({ ...base, championIds: ['aaa-1', 'fff-6'], championsTeamId: 'team-1' }, reader);
    const spoke: Record<string, string> = { 'aaa-1': 'Amina Spoke' };
    const list = await roles.championList(async (id) => spoke[id]);
    expect(list.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 'aaa-1', name: 'Amina Spoke' },
      { id: 'ddd-4', name: 'Dina Roster' },
      { id: 'fff-6', name: 'fff-6' },
    ]);
  });

  it('reads champions from the champions team roster and caches it', async () => {
    let calls = 0;
    let members = [{ id: 'ddd-4', name: 'Dina' }];
    const reader: RosterReader = {
      teamMembers: async () => {
        calls++;
        return members;
      },
    };
    let now = 0;
    const roles = new Roles({ ...base, championsTeamId: 'team-1' }, reader, () => now);
    expect(await roles.roleOf({ aadObjectId: 'ddd-4' })).toBe('champion');
    members = [];
    expect(await roles.roleOf({ aadObjectId: 'ddd-4' })).toBe('champion');
    expect(calls).toBe(1);
    now = 61_000;
    expect(await roles.roleOf({ aadObjectId: 'ddd-4' })).toBe('staff');
    expect(calls).toBe(2);
  });

  it('keeps the last good roster when a roster read fails', async () => {
    let fail = false;
    const reader: RosterReader = {
      teamMembers: async () => {
        if (fail) throw new Error('429');
        return [{ id: 'eee-5', name: 'Eve' }];
      },
    };
    let now = 0;
    const errors: unknown[] = [];
    const roles = new Roles(
      { ...base, championsTeamId: 't' },
      reader,
      () => now,
      (e) => errors.push(e),
    );
    expect(await roles.roleOf({ aadObjectId: 'eee-5' })).toBe('champion');
    fail = true;
    now = 120_000;
    expect(await roles.roleOf({ aadObjectId: 'eee-5' })).toBe('champion');
    expect(errors).toHaveLength(1);
  });
});
