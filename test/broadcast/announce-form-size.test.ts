import { describe, expect, it } from 'vitest';
import { announceForm } from '../../src/broadcast/cards.js';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import type { Rollout } from '../../src/rollout/model.js';
import { fixture, LEAD, rolloutTeam } from './support.js';

/*
 * `announce` on the largest rollout file allowed: 200 user groups and 200 cohorts, ids of 100 characters and
 * names of 120. The form lists who may hear it; it must stay one card Teams accepts, and every group and
 * cohort must stay reachable.
 */

const name = (kind: string, i: number) => `${kind} ${i} ${'n'.repeat(120)}`.slice(0, 120);
const id = (kind: string, i: number) => `${kind}-${i}-${'x'.repeat(100)}`.slice(0, 100);
const ROLLOUT: Rollout = {
  cohorts: Array.from({ length: 200 }, (_, i) => ({ id: id('c', i), name: name('Cohort', i), goLive: '2027-03-01', zone: 'UTC' })),
  groups: Array.from({ length: 200 }, (_, i) => ({ id: id('g', i), name: name('Group', i) })),
  members: [],
  problems: [],
};

describe('the announce form on the largest rollout file', () => {
  it('is one card under 40 KB, and a user group it could not list is chosen by typing its id', async () => {
    const f = await fixture({ rollout: ROLLOUT });
    const { choices } = f.b.service.announceAudiences();
    const card = announceForm({ audience: 'channel:announcements' }, {}, f.b.service.announceAudiences(), f.b.service.timeZone);
    expect(utf16Bytes(card)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    const text = JSON.stringify(card);
    expect(text).toContain('Everyone who has the app');
    expect(choices.some((c) => c.value === `group:${id('g', 199)}`)).toBe(false);
    expect(text).toMatch(/\d+ more user groups and cohorts/);

    const values = { title: 'Hello', body: 'A note.', audience: 'typed', audienceTyped: ` ${id('g', 199).toUpperCase()} `, timing: 'now', date: '', time: '' };
    const res = await f.b.service.announce(LEAD, values, 'card-1', rolloutTeam.id);
    expect(res).toMatchObject({ kind: 'started', send: { audience: { kind: 'group', groupId: id('g', 199) } } });
    // Nothing typed, or a name that is none of them: said on the form, nothing sent.
    expect(await f.b.service.announce(LEAD, { ...values, audienceTyped: '' }, 'card-2', rolloutTeam.id)).toMatchObject({ kind: 'invalid', errors: { audience: expect.stringContaining('Type the id') } });
    expect(await f.b.service.announce(LEAD, { ...values, audienceTyped: 'no-such-group' }, 'card-3', rolloutTeam.id)).toMatchObject({ kind: 'invalid', errors: { audience: expect.stringContaining('no-such-group') } });
  });
});
