import { describe, expect, it } from 'vitest';
import type { Rollout } from '../../src/rollout/model.js';
import { fixture, installed, LEAD, rolloutTeam } from './support.js';

/*
 * An announcement sent now to a user group or cohort nobody is in (yet): said on the form, as `send <id>` says it
 * for a plan message, and nothing is sent — not a "Sending…" answer, a progress card and a report of 0 of 0.
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
