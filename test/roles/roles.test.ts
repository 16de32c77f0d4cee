import { describe, expect, it } from 'vitest';
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
    expect(await roles.may({ aadObjectId: 'bbb-2' }, 'issue.triage')).toBe(true);
    expect(await roles.may({ aadObjectId: 'aaa-1' }, 'issue.triage')).toBe(true);
    expect(await roles.may({ aadObjectId: 'aaa-1' }, 'issues.export')).toBe(false);
    expect(await roles.may({ aadObjectId: 'zzz' }, 'issue.triage')).toBe(false);
  });

  it('reads champions from the champions team roster and caches it', async () => {
    let calls = 0;
    let members = ['ddd-4'];
    const reader: RosterReader = {
      teamMemberIds: async () => {
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
      teamMemberIds: async () => {
        if (fail) throw new Error('429');
        return ['eee-5'];
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
