import { describe, expect, it } from 'vitest';
import { BroadcastCommunications, OfficeHoursFigures } from '../../src/adoption/providers.js';
import { parsePlan } from '../../src/broadcast/plan.js';
import { bookingsAndAttendance, trainedBeforeGoLive } from '../../src/officehours/measures.js';
import type { Rollout } from '../../src/rollout/model.js';
import { finished, fixture, installed, LEAD, rolloutTeam, users } from '../broadcast/support.js';
import { officeHoursInstance, viewer } from '../officehours/support.js';

/*
 * The dashboard's Communications and Office hours panels over the real stores of the communication plan
 * and of office hours (the test Azurite): what the rollout team reads on the tab after sending, "Got it",
 * booking and attendance.
 */

const rollout: Rollout = {
  cohorts: [{ id: 'wave-b', name: 'Wave B', goLive: '2027-02-01', zone: 'Africa/Lusaka' }],
  groups: [{ id: 'field-officers', name: 'Field officers' }],
  members: [],
  problems: [],
};

describe('the Communications panel', () => {
  it('shows each message sent with its delivered and acknowledged counts, and the shares over the period', async () => {
    const people = users(5);
    // Four of the five have the app: one is "not installed", so 4 of 5 are delivered.
    const f = await fixture({ chats: installed(people.slice(0, 4)) });
    f.rollout.current = rollout;
    f.plan.current = parsePlan(
      `timeZone: Africa/Lusaka
messages:
  - id: welcome
    stage: launch
    title: Welcome to FieldLedger
    body: Read this before Monday.
    audience: { users: [${people.join(', ')}] }
    when: manual
`,
      rollout,
    );
    const started = await f.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id);
    if (started.kind !== 'started') throw new Error(started.text);
    await finished(f, started.send.id);
    for (const who of [people[0]!, people[1]!, people[1]!]) {
      await f.b.service.acknowledge({ person: { id: who, name: who }, role: 'staff' }, started.send.id);
    }
    // A reminder to those who did not acknowledge counts toward the original, not as a message of its own.
    const reminded = await f.b.service.remind(LEAD, started.send.id, 'card-2', rolloutTeam.id);
    if (reminded.kind !== 'started') throw new Error(JSON.stringify(reminded));
    await finished(f, reminded.send.id);

    const panel = new BroadcastCommunications({
      sends: () => f.b.sends.all(),
      tally: (id) => f.b.deliveries.tally(id),
      reachedUsers: (id) => f.b.deliveries.reachedUsers(id),
      acknowledged: (id) => f.b.acks.who(id),
    });
    const week = await panel.communications({ from: '2027-01-05', to: '2027-01-18' });
    expect(week.messages).toEqual([
      expect.objectContaining({ title: 'Welcome to FieldLedger', recipients: 5, delivered: 4, acknowledged: 2, failed: 1 }),
    ]);
    expect(week.deliveredShare).toBe(80);
    expect(week.acknowledgedShare).toBe(50);

    // A period before the send: nothing, and no share to show.
    expect(await panel.communications({ from: '2026-12-01', to: '2026-12-31' })).toEqual({
      messages: [],
      deliveredShare: null,
      acknowledgedShare: null,
    });
  });
});

/** Wave B's FL-202 series: 09:00–11:00 in Lusaka (07:00–09:00 UTC) on the 18th, the 20th and the 29th. */
const parts = ['fl202-visits-wave-b|2027-01-18T09:00', 'fl202-offline-wave-b|2027-01-20T09:00', 'fl202-outreach-wave-b|2027-01-29T09:00'];

/** Office hours on 10 January, with Ann and Ben added to Wave B's field officers (so they may book its training). */
async function waveBFieldOfficers() {
  const x = await officeHoursInstance();
  x.clock.set('2027-01-10T08:00:00Z');
  const lead = { person: { id: 'aad-lead', name: 'Lee Lead' }, role: 'rolloutTeam' as const };
  for (const p of [{ id: 'aad-ann', name: 'Ann' }, { id: 'aad-ben', name: 'Ben' }]) {
    await x.directory.add(lead, 'field-officers', p);
    await x.directory.add(lead, 'wave-b', p);
  }
  return x;
}

/** Each of Ann and Ben booked on every part of the series. */
async function bothBookedOnEveryPart(x: Awaited<ReturnType<typeof waveBFieldOfficers>>) {
  for (const who of ['aad-ann', 'aad-ben']) for (const occ of parts) expect((await x.service.book(viewer(who), occ, '')).kind).toBe('booked');
}

/** The panel over the sessions only (no user groups). */
const sessionsPanel = (x: Awaited<ReturnType<typeof waveBFieldOfficers>>) =>
  new OfficeHoursFigures({ occurrences: (from, to) => bookingsAndAttendance(x, from, to), trainedBeforeGoLive: async () => [] }, x.clock);

describe('the Office hours panel', () => {
  it('shows bookings and attendance of the sessions held, and the share of each user group trained before its go-live', async () => {
    const x = await waveBFieldOfficers();
    for (const occ of parts) expect((await x.service.book(viewer('aad-ann'), occ, '')).kind).toBe('booked');
    expect((await x.service.book(viewer('aad-ben'), parts[0]!, '')).kind).toBe('booked');
    x.clock.set('2027-01-30T08:00:00Z');
    const host = viewer('aad-host', { role: 'champion' });
    await x.service.markAttendance(host, parts[0]!, ['aad-ann']);
    await x.service.markAttendance(host, parts[1]!, ['aad-ann']);
    await x.service.markAttendance(host, parts[2]!, ['aad-ann']);

    const panel = new OfficeHoursFigures(
      {
        occurrences: (from, to) => bookingsAndAttendance(x, from, to),
        trainedBeforeGoLive: () => trainedBeforeGoLive(x),
      },
      x.clock,
    );
    const days = await panel.officeHours({ from: '2027-01-18', to: '2027-01-18' });
    // The range's last day is included: the session at 09:00 on the 18th is in it.
    expect(days.sessions.find((s) => s.id === parts[0])).toMatchObject({ capacity: 20, booked: 2, attended: 1 });
    expect(days.bookings).toBe(days.sessions.reduce((n, s) => n + s.booked, 0));
    expect(days.attended).toBe(1);
    // The sample's Wave B field officers are two; with Ann and Ben four, of whom Ann finished the series.
    expect(days.groups.find((g) => g.group === 'Field officers in Wave B: Sefara, Lumbe, Dhoro')).toEqual({
      group: 'Field officers in Wave B: Sefara, Lumbe, Dhoro',
      goLive: '2027-02-01',
      people: 4,
      trainedBeforeGoLive: 1,
      share: 25,
    });
  });

  it('shows a session not yet held as upcoming, with its bookings and no attended figure, and the attended share over held sessions only', async () => {
    const x = await waveBFieldOfficers();
    await bothBookedOnEveryPart(x);
    x.clock.set('2027-01-18T10:00:00Z'); // the first has ended
    await x.service.markAttendance(viewer('aad-host', { role: 'champion' }), parts[0]!, ['aad-ann']);
    x.clock.set('2027-01-20T08:00:00Z'); // the second is under way, the third to come

    const o = await sessionsPanel(x).officeHours({ from: '2027-01-18', to: '2027-01-29' });
    const session = (id: string) => o.sessions.find((s) => s.id === id);
    expect(session(parts[0]!)).toMatchObject({ state: 'held', booked: 2, attended: 1 });
    // Nobody could have attended yet: no "Attended 0", and their bookings stay out of the share.
    expect(session(parts[1]!)).toMatchObject({ state: 'underway', booked: 2, attended: null });
    expect(session(parts[2]!)).toMatchObject({ state: 'upcoming', booked: 2, attended: null });
    expect(o).toMatchObject({ bookings: 6, upcomingBookings: 4, heldBookings: 2, attended: 1, attendedShare: 50 });
  });

  it('shows a session held whose attendance the host has not marked yet as not marked, not as "0 attended", and leaves it out of the share', async () => {
    const x = await waveBFieldOfficers();
    await bothBookedOnEveryPart(x);
    x.clock.set('2027-01-30T08:00:00Z'); // all three held
    const host = viewer('aad-host', { role: 'champion' });
    await x.service.markAttendance(host, parts[0]!, ['aad-ann']);
    await x.service.markAttendance(host, parts[1]!, []); // marked: nobody came

    const o = await sessionsPanel(x).officeHours({ from: '2027-01-18', to: '2027-01-29' });
    const session = (id: string) => o.sessions.find((s) => s.id === id);
    expect(session(parts[0]!)).toMatchObject({ state: 'held', booked: 2, attended: 1 });
    expect(session(parts[1]!)).toMatchObject({ state: 'held', booked: 2, attended: 0 });
    expect(session(parts[2]!)).toMatchObject({ state: 'held', booked: 2, attended: null });
    // 1 of the 4 booked on the two sessions marked; the third's 2 wait for their host.
    expect(o).toMatchObject({ bookings: 6, heldBookings: 4, attended: 1, attendedShare: 25, unmarkedSessions: 1 });
  });
});
