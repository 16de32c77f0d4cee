import { describe, expect, it } from 'vitest';
import { bookingsAndAttendance, trainedBeforeGoLive } from '../../src/officehours/measures.js';
import { officeHoursInstance, viewer } from './support.js';

const lead = { person: { id: 'aad-lead', name: 'Lee Lead' }, role: 'rolloutTeam' as const };
const host = viewer('aad-host', { role: 'champion' });

describe('what the adoption dashboard reads', () => {
  it('bookings and attendance per occurrence, and the share of each group trained before its go-live', async () => {
    const x = await officeHoursInstance();
    x.clock.set('2027-01-10T08:00:00Z');
    // Two Wave B field officers besides the file's (Mercy Phiri, Isaac Lungu): Ann attends all three parts
    // before go-live, Ben only part 1; the file's two attend nothing.
    for (const p of [{ id: 'aad-ann', name: 'Ann' }, { id: 'aad-ben', name: 'Ben' }]) {
      await x.directory.add(lead, 'field-officers', p);
      await x.directory.add(lead, 'wave-b', p);
    }
    const ann = viewer('aad-ann');
    const ben = viewer('aad-ben');
    for (const occ of ['fl202-visits-wave-b|2027-01-18T09:00', 'fl202-offline-wave-b|2027-01-20T09:00', 'fl202-outreach-wave-b|2027-01-29T09:00']) {
      expect((await x.service.book(ann, occ, '')).kind).toBe('booked');
    }
    expect((await x.service.book(ben, 'fl202-visits-wave-b|2027-01-18T09:00', '')).kind).toBe('booked');
    x.clock.set('2027-01-30T08:00:00Z');
    await x.service.markAttendance(host, 'fl202-visits-wave-b|2027-01-18T09:00', ['aad-ann', 'aad-ben']);
    await x.service.markAttendance(host, 'fl202-offline-wave-b|2027-01-20T09:00', ['aad-ann']);
    await x.service.markAttendance(host, 'fl202-outreach-wave-b|2027-01-29T09:00', ['aad-ann']);

    const counts = await bookingsAndAttendance(x, new Date('2027-01-18T00:00:00Z'), new Date('2027-01-19T00:00:00Z'));
    expect(counts.find((c) => c.occurrenceId === 'fl202-visits-wave-b|2027-01-18T09:00')).toMatchObject({
      kind: 'training',
      start: '2027-01-18T07:00:00.000Z',
      capacity: 20,
      booked: 2,
      attended: 2,
    });

    const trained = await trainedBeforeGoLive(x);
    expect(trained.find((t) => t.groupId === 'field-officers' && t.cohortId === 'wave-b')).toEqual({
      groupId: 'field-officers',
      groupName: 'Field officers',
      cohortId: 'wave-b',
      cohortName: 'Wave B: Sefara, Lumbe, Dhoro',
      goLive: '2027-02-01',
      members: 4,
      trainedBeforeGoLive: 1,
      share: 0.25,
    });
    expect(trained.find((t) => t.groupId === 'supervisors' && t.cohortId === 'wave-b')).toMatchObject({ members: 2, trainedBeforeGoLive: 0, share: 0 });
  });

  it('attendance is for hosts, after the session has started', async () => {
    const x = await officeHoursInstance();
    await x.service.book(viewer('aad-1'), 'office-hours|2026-12-01T14:00', '');
    expect(await x.service.markAttendance(viewer('aad-1'), 'office-hours|2026-12-01T14:00', ['aad-1'])).toEqual({
      kind: 'message',
      text: 'That is for the hosts: champions and the rollout team.',
    });
    expect(await x.service.markAttendance(host, 'office-hours|2026-12-01T14:00', ['aad-1'])).toEqual({
      kind: 'message',
      text: 'Attendance can be marked once the session has started.',
    });
    expect((await x.bookings.seatsOf('office-hours|2026-12-01T14:00')).attended).toBe(0);
  });

  it('a cancelled session takes no attendance, so no one is counted as trained by it', async () => {
    const x = await officeHoursInstance();
    const lead = viewer('aad-lead', { role: 'rolloutTeam' });
    await x.service.book(viewer('aad-1'), 'office-hours|2026-12-01T14:00', '');
    expect(await x.service.cancelOccurrence(lead, '2026-12-01')).toMatch(/^Cancelled: /);
    x.clock.set('2026-12-01T13:00:00Z'); // after its start
    expect(await x.service.markAttendance(host, 'office-hours|2026-12-01T14:00', ['aad-1'])).toEqual({
      kind: 'message',
      text: 'FieldLedger office hours on Tue 1 Dec 2026, 14:00 was cancelled; there is no attendance to mark.',
    });
    expect((await x.bookings.seatsOf('office-hours|2026-12-01T14:00')).attended).toBe(0);
  });
});
