import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { scheduleCard } from '../../src/officehours/cards.js';
import { occurrenceIcs } from '../../src/officehours/ics.js';
import type { Occurrence } from '../../src/officehours/model.js';
import { parseIcsEvent } from '../support/ics.js';
import { officeHoursInstance, sampleSchedule, viewer } from './support.js';

/** The calendar file behind an offer's "Add to calendar" link, as the person's calendar app reads it. */
async function download(service: Awaited<ReturnType<typeof officeHoursInstance>>['service'], url: string | undefined) {
  const token = decodeURIComponent(url?.split('/calendar/')[1] ?? '');
  const file = await service.calendar(token);
  if (!file) throw new Error('the calendar link opened nothing');
  if ('unavailable' in file) throw new Error(file.unavailable);
  const cal = new ICAL.Component(ICAL.parse(file.content));
  return { method: String(cal.getFirstPropertyValue('method')), event: parseIcsEvent(file.content), text: file.content };
}

describe('the calendar file of a booked seat', () => {
  it('cancelling one’s own seat serves a cancel with a higher SEQUENCE than the invite, and booking again a newer invite still', async () => {
    const { service } = await officeHoursInstance();
    const me = viewer('aad-ics-1');
    const first = (await service.upcoming(me)).offers[0];
    if (!first) throw new Error('the sample schedule offers no session');
    const booked = await service.book(me, first.occurrence.id, 'How do I sync?');
    if (booked.kind !== 'booked') throw new Error(`not booked: ${JSON.stringify(booked)}`);
    const link = booked.offer.calendarUrl;
    const invite = await download(service, link);
    expect(invite.method).toBe('PUBLISH');
    expect(invite.event.component.getFirstPropertyValue('status')).toBe('CONFIRMED');

    await service.cancelBooking(me, first.occurrence.id);
    const cancel = await download(service, link);
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.event.uid).toBe(invite.event.uid);
    expect(cancel.event.component.getFirstPropertyValue('status')).toBe('CANCELLED');
    // Same SEQUENCE: calendar apps (Outlook, Google) ignore the cancel as no newer than the entry they hold.
    expect(cancel.event.sequence).toBeGreaterThan(invite.event.sequence);

    const again = await service.book(me, first.occurrence.id, '');
    if (again.kind !== 'booked') throw new Error('not booked again');
    const reinvite = await download(service, again.offer.calendarUrl);
    expect(reinvite.method).toBe('PUBLISH');
    expect(reinvite.event.uid).toBe(invite.event.uid);
    expect(reinvite.event.sequence).toBeGreaterThan(cancel.event.sequence);
  });

  it('the answer to "Cancel my seat" offers the cancel .ics, so the calendar entry can be removed once the booking card is gone', async () => {
    const { service, clock } = await officeHoursInstance();
    const me = viewer('aad-ics-3');
    const first = (await service.upcoming(me)).offers[0];
    if (!first) throw new Error('the sample schedule offers no session');
    const booked = await service.book(me, first.occurrence.id, '');
    if (booked.kind !== 'booked') throw new Error('not booked');
    const invite = await download(service, booked.offer.calendarUrl);

    const res = await service.cancelBooking(me, first.occurrence.id);
    expect(res.calendarUrl).toMatch(/\/calendar\//);
    // The schedule card that replaces the one clicked: the seat's "Add to calendar" is gone from it.
    const card = JSON.stringify(scheduleCard(await service.upcoming(me), me, clock.now(), { notice: res.text, removeUrl: res.calendarUrl }));
    const action = /"title":"Remove it from your calendar \(\.ics\)","url":"([^"]+)"/.exec(card);
    expect(action?.[1]).toBe(res.calendarUrl);
    const cancel = await download(service, res.calendarUrl);
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.event.uid).toBe(invite.event.uid);
    expect(cancel.event.sequence).toBeGreaterThan(invite.event.sequence);

    // Nothing to remove when they held no seat.
    expect((await service.cancelBooking(me, first.occurrence.id)).calendarUrl).toBeUndefined();
  });

  it('a session taken out of the schedule file: those booked are told once, and their link serves a cancel newer than all they had', async () => {
    // The schedule file as the app reads it, edited while it runs (OFFICE_HOURS_FILE is reloaded on change).
    let file = sampleSchedule;
    const a = await officeHoursInstance({ schedule: () => file });
    const b = await officeHoursInstance({ tables: a.tables, clock: a.clock, schedule: () => file });
    const me = viewer('aad-ics-gone', { zone: 'Asia/Kolkata' });
    const lead = viewer('aad-ics-lead', { role: 'rolloutTeam' });
    const booked = await a.service.book(me, 'office-hours|2026-12-03T14:00', 'Where are my drafts?');
    if (booked.kind !== 'booked') throw new Error(`not booked: ${JSON.stringify(booked)}`);
    // Moved from Teams first: the entry their calendar holds is the move's, a SEQUENCE above the first invite.
    await a.service.moveOccurrence(lead, '2026-12-03 2026-12-04 10:00');
    a.outbox.clear();
    const moved = await download(a.service, booked.offer.calendarUrl);
    expect(moved.event.startDate.toJSDate().toISOString()).toBe('2026-12-04T08:00:00.000Z');

    file = { ...sampleSchedule, sessions: sampleSchedule.sessions.filter((s) => s.id !== 'office-hours') };
    expect(await a.service.find('office-hours|2026-12-03T14:00')).toBeUndefined();

    const cancel = await download(b.service, booked.offer.calendarUrl);
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.event.component.getFirstPropertyValue('status')).toBe('CANCELLED');
    expect(cancel.event.uid).toBe(moved.event.uid);
    expect(cancel.event.sequence).toBeGreaterThan(moved.event.sequence);
    expect(cancel.event.startDate.toJSDate().toISOString()).toBe('2026-12-04T08:00:00.000Z');
    expect(cancel.event.summary).toBe(moved.event.summary);

    await Promise.all([a.reminders.run(a.clock.now()), b.reminders.run(a.clock.now()), a.reminders.run(a.clock.now())]);
    const notices = [...a.outbox.messages, ...b.outbox.messages].filter((m) => m.key.startsWith('officehours|notice'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ to: { kind: 'user', userKey: 'aad-ics-gone' } });
    const said = JSON.stringify(notices[0]);
    expect(said).toContain('is cancelled');
    expect(said).toContain('Fri 4 Dec 2026, 13:30'); // the moved time, in the zone they booked from
    // The notice carries a link to the cancel, for someone whose booking card is long gone.
    const link = /\((https:\/\/rollout-desk\.example\/calendar\/[^)]+)\)/.exec(said)?.[1];
    const fromNotice = await download(a.service, link);
    expect(fromNotice.method).toBe('CANCEL');
    expect(fromNotice.event.uid).toBe(moved.event.uid);
  });

  // Moved from Teams first or not: a moved one is also looked at by the pass's notices of changes.
  for (const movedFirst of [false, true]) it(`a session put back in the schedule file after its removal${movedFirst ? ' (moved from Teams before)' : ''}: those booked are told once it is back on, and their link serves an invite newer than the cancel`, async () => {
    let file = sampleSchedule;
    const a = await officeHoursInstance({ schedule: () => file });
    const me = viewer('aad-ics-back', { zone: 'Asia/Kolkata' });
    const lead = viewer('aad-ics-back-lead', { role: 'rolloutTeam' });
    const booked = await a.service.book(me, 'office-hours|2026-12-03T14:00', 'Where are my drafts?');
    if (booked.kind !== 'booked') throw new Error(`not booked: ${JSON.stringify(booked)}`);
    if (movedFirst) await a.service.moveOccurrence(lead, '2026-12-03 2026-12-04 10:00');

    file = { ...sampleSchedule, sessions: sampleSchedule.sessions.filter((s) => s.id !== 'office-hours') };
    await a.reminders.run(a.clock.now());
    // Fetched after they were told: the cancel their calendar applied.
    const cancel = await download(a.service, booked.offer.calendarUrl);
    expect(cancel.method).toBe('CANCEL');
    a.outbox.clear();

    file = sampleSchedule;
    const restored = await download(a.service, booked.offer.calendarUrl);
    expect(restored.method).toBe('PUBLISH');
    expect(restored.event.uid).toBe(cancel.event.uid);
    expect(restored.event.sequence).toBeGreaterThan(cancel.event.sequence);
    expect(restored.event.startDate.toJSDate().toISOString()).toBe(movedFirst ? '2026-12-04T08:00:00.000Z' : '2026-12-03T12:00:00.000Z');

    await a.reminders.run(a.clock.now());
    await a.reminders.run(a.clock.now());
    const notices = a.outbox.messages.filter((m) => m.key.startsWith('officehours|notice'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ to: { kind: 'user', userKey: 'aad-ics-back' } });
    const said = JSON.stringify(notices[0]);
    expect(said).toContain('is back on');
    expect(said).toContain('stands again');
    // Their seat is still theirs, and the link in the notice (and the old one) serves the restored invite.
    expect((await a.service.upcoming(me)).offers.find((o) => o.occurrence.id === 'office-hours|2026-12-03T14:00')?.mine?.id).toBe(booked.offer.mine?.id);
    const link = /\((https:\/\/rollout-desk\.example\/calendar\/[^)]+)\)/.exec(said)?.[1];
    for (const served of [await download(a.service, link), await download(a.service, booked.offer.calendarUrl)]) {
      expect(served.method).toBe('PUBLISH');
      expect(served.event.sequence).toBeGreaterThan(cancel.event.sequence);
    }
  });

  it('the calendar file is still served when recording what was served fails (storage busy), where a later change is newer anyway', async () => {
    let file = sampleSchedule;
    const a = await officeHoursInstance({ schedule: () => file });
    const me = viewer('aad-ics-busy');
    const lead = viewer('aad-ics-busy-lead', { role: 'rolloutTeam' });
    const booked = await a.service.book(me, 'office-hours|2026-12-03T14:00', '');
    if (booked.kind !== 'booked') throw new Error(`not booked: ${JSON.stringify(booked)}`);
    let failed = 0;
    a.bookings.recordIssued = async () => {
      failed++;
      throw Object.assign(new Error('the server is busy'), { statusCode: 503 });
    };

    // As booked, and as those booked were told of a move: every later change is measured above what is served.
    const invite = await download(a.service, booked.offer.calendarUrl);
    expect(invite.method).toBe('PUBLISH');
    await a.service.moveOccurrence(lead, '2026-12-03 2026-12-04 10:00');
    const moved = await download(a.service, booked.offer.calendarUrl);
    expect(moved.event.startDate.toJSDate().toISOString()).toBe('2026-12-04T08:00:00.000Z');
    expect(moved.event.sequence).toBeGreaterThan(invite.event.sequence);
    expect(failed).toBeGreaterThan(0);

    // A file edit nobody was told of yet: served unrecorded, a second edit could come out no newer, so the
    // download asks to be tried again rather than hand out an entry a later change might not replace.
    const session = sampleSchedule.sessions.find((s) => s.id === 'office-hours')!;
    file = { ...sampleSchedule, sessions: sampleSchedule.sessions.map((s) => (s === session ? { ...s, changes: [...s.changes, { key: '2026-12-08T14:00', version: 1, moveTo: '2026-12-09T10:00' }] } : s)) };
    const later = await a.service.book(me, 'office-hours|2026-12-08T14:00', '');
    if (later.kind !== 'booked') throw new Error('not booked');
    file = { ...file, sessions: file.sessions.map((s) => (s.id === 'office-hours' ? { ...s, changes: [...s.changes.slice(0, -1), { key: '2026-12-08T14:00', version: 1, moveTo: '2026-12-10T10:00' }] } : s)) };
    expect(await a.service.calendar(decodeURIComponent(later.offer.calendarUrl?.split('/calendar/')[1] ?? ''))).toEqual({
      unavailable: 'your calendar file could not be prepared just now; open the link again in a minute',
    });
  });

  it('a booking made before bookings kept the SEQUENCE: the cancel of its removed session is still newer than the invite it holds', async () => {
    // Moved in the file: the invite served carries the file change's SEQUENCE.
    const movedInFile = {
      ...sampleSchedule,
      sessions: sampleSchedule.sessions.map((s) =>
        s.id === 'office-hours' ? { ...s, changes: [...s.changes, { key: '2026-12-03T14:00', moveTo: '2026-12-03T15:00', version: 1 }] } : s,
      ),
    };
    let file = movedInFile;
    const a = await officeHoursInstance({ schedule: () => file });
    const me = viewer('aad-ics-old');
    const booked = await a.service.book(me, 'office-hours|2026-12-03T14:00', '');
    if (booked.kind !== 'booked') throw new Error('not booked');
    const invite = await download(a.service, booked.offer.calendarUrl);
    // As such a booking was stored: without the title, end and SEQUENCE.
    const seats = await a.tables.table('OfficeHoursSeats');
    const row = await seats.getEntity<Record<string, unknown>>('office-hours|2026-12-03T14:00', 'p|aad-ics-old');
    const { title: _t, end: _e, sequence: _s, etag: _etag, timestamp: _ts, ...old } = row;
    await seats.updateEntity(old as { partitionKey: string; rowKey: string }, 'Replace');

    file = { ...sampleSchedule, sessions: sampleSchedule.sessions.filter((s) => s.id !== 'office-hours') };
    const cancel = await download(a.service, booked.offer.calendarUrl);
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.event.uid).toBe(invite.event.uid);
    expect(cancel.event.sequence).toBeGreaterThan(invite.event.sequence);
  });

  /** A booking as stored before bookings kept the title, end and SEQUENCE of what they booked. */
  async function asOldBooking(tables: Awaited<ReturnType<typeof officeHoursInstance>>['tables'], occurrenceId: string, personId: string) {
    const seats = await tables.table('OfficeHoursSeats');
    const row = await seats.getEntity<Record<string, unknown>>(occurrenceId, `p|${personId}`);
    const { title: _t, end: _e, sequence: _s, etag: _etag, timestamp: _ts, ...old } = row;
    await seats.updateEntity(old as { partitionKey: string; rowKey: string }, 'Replace');
  }

  it('a removed session whose bookings kept no title: the cancel and the notice name it and its real times, from the schedule entry the app last saw', async () => {
    let file = sampleSchedule;
    const a = await officeHoursInstance({ schedule: () => file });
    const me = viewer('aad-ics-untitled', { zone: 'Asia/Kolkata' });
    const booked = await a.service.book(me, 'office-hours|2026-12-03T14:00', '');
    if (booked.kind !== 'booked') throw new Error('not booked');
    const invite = await download(a.service, booked.offer.calendarUrl);
    await asOldBooking(a.tables, 'office-hours|2026-12-03T14:00', 'aad-ics-untitled');
    await a.reminders.run(a.clock.now()); // a pass while the session was still in the file

    file = { ...sampleSchedule, sessions: sampleSchedule.sessions.filter((s) => s.id !== 'office-hours') };
    const cancel = await download(a.service, booked.offer.calendarUrl);
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.event.summary).toBe(invite.event.summary); // "FieldLedger office hours (FieldLedger)", not "Office hours"
    expect(cancel.event.startDate.toJSDate().toISOString()).toBe(invite.event.startDate.toJSDate().toISOString());
    expect(cancel.event.endDate.toJSDate().toISOString()).toBe(invite.event.endDate.toJSDate().toISOString()); // 90 minutes, not none

    await a.reminders.run(a.clock.now());
    const said = JSON.stringify(a.outbox.messages.filter((m) => m.key.startsWith('officehours|notice')));
    expect(said).toContain('**FieldLedger office hours** on Thu 3 Dec 2026, 17:30');
    expect(said).toContain('is cancelled (taken off the schedule)');
  });

  it('a removed session nothing is known of but its booking: the cancel still ends after it starts and says it was a cancelled session', async () => {
    let file = sampleSchedule;
    const a = await officeHoursInstance({ schedule: () => file });
    const me = viewer('aad-ics-unknown');
    const booked = await a.service.book(me, 'office-hours|2026-12-03T14:00', '');
    if (booked.kind !== 'booked') throw new Error('not booked');
    await asOldBooking(a.tables, 'office-hours|2026-12-03T14:00', 'aad-ics-unknown');
    // Taken out before any pass saw it (as before this version kept what it saw).
    file = { ...sampleSchedule, sessions: sampleSchedule.sessions.filter((s) => s.id !== 'office-hours') };
    const cancel = await download(a.service, booked.offer.calendarUrl);
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.event.endDate.toJSDate().getTime()).toBeGreaterThan(cancel.event.startDate.toJSDate().getTime());
    expect(cancel.event.summary).toMatch(/^Cancelled session/);
    expect(cancel.event.summary).not.toMatch(/^Office hours/);
  });

  it('a session the file moved with a SEQUENCE above 1, then taken out: the cancel is newer than the invite the link served', async () => {
    // What schedule.ts would give a session its file moved twice.
    const movedTwice = {
      ...sampleSchedule,
      sessions: sampleSchedule.sessions.map((s) =>
        s.id === 'office-hours' ? { ...s, changes: [...s.changes, { key: '2026-12-03T14:00', moveTo: '2026-12-03T16:00', version: 2 }] } : s,
      ),
    };
    let file = sampleSchedule;
    const a = await officeHoursInstance({ schedule: () => file });
    const me = viewer('aad-ics-seq');
    const booked = await a.service.book(me, 'office-hours|2026-12-03T14:00', '');
    if (booked.kind !== 'booked') throw new Error('not booked');
    file = movedTwice;
    const moved = await download(a.service, booked.offer.calendarUrl);
    expect(moved.event.sequence).toBe(2);

    file = { ...sampleSchedule, sessions: sampleSchedule.sessions.filter((s) => s.id !== 'office-hours') };
    const cancel = await download(a.service, booked.offer.calendarUrl);
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.event.uid).toBe(moved.event.uid);
    expect(cancel.event.sequence).toBeGreaterThan(moved.event.sequence);
    // Served again: the same cancel, not a newer one each time.
    expect((await download(a.service, booked.offer.calendarUrl)).event.sequence).toBe(cancel.event.sequence);
  });

  it('invite and cancel name the same ORGANIZER (RFC 5546 asks for one; some calendars drop a cancel without it)', async () => {
    const { service } = await officeHoursInstance();
    const me = viewer('aad-ics-org');
    const booked = await service.book(me, 'office-hours|2026-12-03T14:00', '');
    if (booked.kind !== 'booked') throw new Error('not booked');
    const invite = await download(service, booked.offer.calendarUrl);
    await service.cancelBooking(me, 'office-hours|2026-12-03T14:00');
    const cancel = await download(service, booked.offer.calendarUrl);
    for (const file of [invite, cancel]) {
      const organizer = file.event.component.getFirstProperty('organizer');
      expect(String(organizer?.getFirstValue())).toMatch(/^mailto:\S+@\S+$/i);
      expect(organizer?.getParameter('cn')).toBe('Rollout Desk');
    }
    expect(String(cancel.event.component.getFirstPropertyValue('organizer'))).toBe(String(invite.event.component.getFirstPropertyValue('organizer')));
    expect(cancel.event.uid).toBe(invite.event.uid);
  });

  it('a question with line breaks and calendar syntax stays inside the description of the one event', async () => {
    const { service } = await officeHoursInstance();
    const me = viewer('aad-ics-2');
    const first = (await service.upcoming(me)).offers[0];
    if (!first) throw new Error('the sample schedule offers no session');
    const question = 'Sync?\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:Free money;\\,x';
    const booked = await service.book(me, first.occurrence.id, question);
    if (booked.kind !== 'booked') throw new Error('not booked');
    const { text, event } = await download(service, booked.offer.calendarUrl);
    const cal = new ICAL.Component(ICAL.parse(text));
    expect(cal.getAllSubcomponents('vevent')).toHaveLength(1);
    expect(event.summary).not.toContain('Free money');
    expect(event.description).toContain('SUMMARY:Free money;\\,x');
  });
});

describe('the calendar file in every zone a session may be in', () => {
  const occurrenceIn = (zone: string): Occurrence => ({
    id: 'kyiv-clinic|2027-03-02T10:00',
    key: '2027-03-02T10:00',
    session: {
      id: 'kyiv-clinic',
      kind: 'office-hours',
      title: 'FieldLedger clinic',
      start: '2027-03-02T10:00',
      zone,
      minutes: 60,
      capacity: 10,
      joinUrl: 'https://teams.microsoft.com/l/meetup-join/clinic',
      hosts: [],
      changes: [],
      source: 'file',
    },
    start: new Date('2027-03-02T08:00:00Z'),
    end: new Date('2027-03-02T09:00:00Z'),
    status: 'scheduled',
    sequence: 0,
  });

  // Current IANA names the timezone package has no VTIMEZONE for (renamed or added in recent years).
  for (const zone of ['Europe/Kyiv', 'America/Nuuk', 'America/Ciudad_Juarez', 'Africa/Lusaka']) {
    it(`puts a session in ${zone} at the right moment in the person's calendar`, () => {
      const o = occurrenceIn(zone);
      const text = occurrenceIcs(o, { question: '', status: 'booked' }, new Date('2027-02-01T00:00:00Z'), 'FieldLedger');
      const event = parseIcsEvent(text);
      expect(event.startDate.toJSDate().toISOString()).toBe(o.start.toISOString());
      expect(event.endDate.toJSDate().toISOString()).toBe(o.end.toISOString());
      // Every TZID it names is defined in the file (RFC 5545 3.2.19): calendars otherwise guess, or refuse it.
      const cal = new ICAL.Component(ICAL.parse(text));
      const defined = cal.getAllSubcomponents('vtimezone').map((tz) => String(tz.getFirstPropertyValue('tzid')));
      for (const tzid of text.match(/TZID=[^:;]+/g) ?? []) expect(defined).toContain(tzid.slice(5));
    });
  }
});

describe('the calendar file of a session kept without a join link (the file\'s was set aside as bad)', () => {
  it('names no Teams meeting as its place, and no link; one with a link names both', () => {
    const o = (joinUrl: string): Occurrence => ({
      id: 'clinic|2027-03-02T10:00',
      key: '2027-03-02T10:00',
      session: { id: 'clinic', kind: 'office-hours', title: 'Clinic', start: '2027-03-02T10:00', zone: 'Africa/Lusaka', minutes: 60, capacity: 10, joinUrl, hosts: [], changes: [], source: 'file' },
      start: new Date('2027-03-02T08:00:00Z'),
      end: new Date('2027-03-02T09:00:00Z'),
      status: 'scheduled',
      sequence: 0,
    });
    const event = (joinUrl: string) => parseIcsEvent(occurrenceIcs(o(joinUrl), { question: '', status: 'booked' }, new Date('2027-02-01T00:00:00Z'), 'FieldLedger'));
    const without = event('');
    expect(without.location).toBeNull();
    expect(without.component.getFirstPropertyValue('url')).toBeNull();
    const linked = event('https://teams.microsoft.com/l/meetup-join/clinic');
    expect(linked.location).toBe('Microsoft Teams meeting');
    expect(linked.component.getFirstPropertyValue('url')).toBe('https://teams.microsoft.com/l/meetup-join/clinic');
  });
});
