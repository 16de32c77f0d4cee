import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { Rollout } from '../../src/rollout/model.js';
import { fixture, installed, LEAD, rolloutTeam } from './support.js';

/*
 * What the announce form checks before anything is sent:
 * - sent now to a user group or cohort nobody is in (yet): said on the form, as `send <id>` says it for a plan
 *   message, and nothing is sent — not a "Sending…" answer, a progress card and a report of 0 of 0;
 * - a time the clocks skip that day: said on the form, not moved on an hour unsaid.
 */

const rollout: Rollout = {
  cohorts: [{ id: 'wave-b', name: 'Wave B', goLive: '2027-02-01', zone: 'Africa/Lusaka' }],
  groups: [{ id: 'field-officers', name: 'Field officers' }],
  members: [],
  problems: [],
};

const form = (audience: string, timing = 'now', date = '', time = '') => ({ title: 'Training moved', body: 'See you Tuesday.', audience, timing, date, time });

describe('announce to an audience with nobody in it', () => {
  it('sent now to an empty user group: the form comes back saying so, and nothing is sent', async () => {
    const f = await fixture({ rollout });
    const res = await f.b.service.announce(LEAD, form('group:field-officers'), 'card-1', rolloutTeam.id);
    expect(res).toMatchObject({ kind: 'invalid', errors: { audience: expect.stringContaining('Field officers has nobody in it') } });
    await f.b.runner.idle();
    expect(await f.b.sends.announcements()).toEqual([]);
    expect(f.outbox.enqueued).toEqual([]);
  });

  it('once someone is in it, the same form sends (once, however often it is pressed)', async () => {
    const f = await fixture({ rollout, members: { 'group:field-officers': ['aad-fo'] }, chats: installed(['aad-fo']) });
    const first = await f.b.service.announce(LEAD, form('group:field-officers'), 'card-1', rolloutTeam.id);
    expect(first).toMatchObject({ kind: 'started', fresh: true });
    expect(await f.b.service.announce(LEAD, form('group:field-officers'), 'card-1', rolloutTeam.id)).toMatchObject({ kind: 'started', fresh: false });
  });

  it('scheduled for later, an empty cohort is taken: people may be added before its time', async () => {
    const f = await fixture({ rollout });
    const res = await f.b.service.announce(LEAD, form('cohort:wave-b', 'at', '2027-01-12', '09:00'), 'card-1', rolloutTeam.id);
    expect(res).toMatchObject({ kind: 'started', send: { status: 'scheduled' } });
  });
});

describe('announce at a time the clocks skip', () => {
  it('02:30 on the day New York springs forward is refused on the form, naming the first time that exists (03:00, not 03:30); 03:30 is taken', async () => {
    const f = await fixture({ rollout, clock: new ManualClock('2027-03-01T12:00:00Z') });
    f.plan.current = { ...f.plan.current, timeZone: 'America/New_York' };
    const skipped = await f.b.service.announce(LEAD, form('channel:announcements', 'at', '2027-03-14', '02:30'), 'card-1', rolloutTeam.id);
    expect(skipped).toMatchObject({ kind: 'invalid', errors: { when: expect.stringContaining('02:30 does not exist on 2027-03-14 in America/New_York') } });
    expect('errors' in skipped && skipped.errors.when).toContain('Pick 03:00 or later');
    expect(await f.b.sends.announcements()).toEqual([]);

    const later = await f.b.service.announce(LEAD, form('channel:announcements', 'at', '2027-03-14', '03:30'), 'card-2', rolloutTeam.id);
    expect(later).toMatchObject({ kind: 'started', send: { status: 'scheduled', dueAt: '2027-03-14T07:30:00.000Z' } });
  });

  it('01:30 on the day London springs forward names 02:00, the first time that exists', async () => {
    const f = await fixture({ rollout, clock: new ManualClock('2027-03-01T12:00:00Z') });
    f.plan.current = { ...f.plan.current, timeZone: 'Europe/London' };
    const skipped = await f.b.service.announce(LEAD, form('channel:announcements', 'at', '2027-03-28', '01:30'), 'card-1', rolloutTeam.id);
    expect('errors' in skipped && skipped.errors.when).toContain('Pick 02:00 or later');
  });
});
