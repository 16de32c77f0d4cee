import { describe, expect, it } from 'vitest';
import { type AudienceDirectory, audienceFromChoice, audienceLabel, resolveAudience } from '../../src/broadcast/audience.js';
import type { Rollout } from '../../src/rollout/model.js';
import { RosterUnanswered } from '../../src/roles/roles.js';

const rollout: Rollout = {
  cohorts: [
    { id: 'wave-a', name: 'Wave A', goLive: '2026-11-02', zone: 'Africa/Lusaka' },
    { id: 'wave-b', name: 'Wave B', goLive: '2027-02-01', zone: 'Africa/Lusaka' },
  ],
  groups: [{ id: 'field-officers', name: 'Field officers' }],
  members: [],
  problems: [],
};

const members: Record<string, string[]> = {
  'group:field-officers': ['Amina', 'bo', 'cy'],
  'cohort:wave-a': ['amina', 'dee'],
  'cohort:wave-b': ['bo', 'eve'],
};

const dir: AudienceDirectory = {
  personalChatUsers: async () => ['a', 'b', 'A'],
  teamMembers: async () => {
    throw new Error('the app is not installed in this team');
  },
  championIds: async () => ['champ'],
  rolloutTeamIds: ['lead'],
  rollout: () => rollout,
  members: async (kind, id) => (members[`${kind}:${id}`] ?? []).map((m) => ({ id: m, name: m })),
  reachedUsers: async () => ['a', 'b', 'c'],
  acknowledged: async () => new Set(['b']),
};

const keys = async (a: Parameters<typeof resolveAudience>[0]) => (await resolveAudience(a, dir)).recipients.map((r) => r.key);

describe('who an audience is', () => {
  it('a group within a cohort, each cohort, once each person (ids compared without case)', async () => {
    expect(await keys({ kind: 'cohort', cohortId: 'wave-a', groupId: 'field-officers' })).toEqual(['amina']);
    expect(await keys({ kind: 'cohort', cohortId: 'all' })).toEqual(['amina', 'dee', 'bo', 'eve']);
    expect(await keys({ kind: 'everyone' })).toEqual(['a', 'b']);
    expect(await keys({ kind: 'unacknowledged', sendId: 's' })).toEqual(['a', 'c']);
    expect(await resolveAudience({ kind: 'channel', role: 'support' }, dir)).toEqual({
      recipients: [{ key: 'channel:support', kind: 'channel' }],
      notes: [],
      unanswered: [],
    });
  });

  it('says what could not be read instead of failing the send', async () => {
    const res = await resolveAudience({ kind: 'team', teamId: '19:abc' }, dir);
    // A team the app is not in is no matter of waiting; a roster Teams did not answer is (see unanswered).
    expect(res).toEqual({ recipients: [], notes: ['team 19:abc: the app is not installed in this team'], unanswered: [] });
    const down = await resolveAudience(
      { kind: 'team', teamId: '19:abc' },
      {
        ...dir,
        teamMembers: async () => {
          throw new RosterUnanswered("could not read the team's members from Teams (HTTP 503)");
        },
      },
    );
    expect(down.unanswered).toEqual(["team 19:abc: could not read the team's members from Teams (HTTP 503)"]);
    expect(down.notes).toEqual(down.unanswered);
    expect((await resolveAudience({ kind: 'group', groupId: 'gone' }, dir)).notes).toEqual([
      'user group "gone" is no longer in the rollout file',
    ]);
  });

  it('reads the announce form\'s choice back, refusing anything not offered', () => {
    expect(audienceFromChoice('cohort:wave-b', rollout)).toEqual({ kind: 'cohort', cohortId: 'wave-b' });
    expect(audienceFromChoice('channel:triage', rollout)).toBeUndefined();
    expect(audienceFromChoice('group:admins', rollout)).toBeUndefined();
    expect(audienceLabel({ kind: 'cohort', cohortId: 'wave-b', groupId: 'field-officers' }, rollout)).toBe('Field officers in Wave B');
  });
});
