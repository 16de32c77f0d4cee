import { TableClient } from '@azure/data-tables';
import { describe, expect, it, vi } from 'vitest';
import { ScheduleChanges } from '../../src/officehours/changes.js';
import type { Schedule } from '../../src/officehours/model.js';
import { trainingCard } from '../../src/officehours/cards.js';
import { liveSchedule } from '../../src/officehours/file.js';
import { buildSchedule, parseScheduleFile } from '../../src/officehours/schedule.js';
import type { AddForm } from '../../src/officehours/service.js';
import { parseIcsEvent } from '../support/ics.js';
import { HELD } from './problems.js';
import { dropKeptEntries, officeHoursInstance, sampleRollout, sampleSchedule, viewer } from './support.js';

/** The service's own checks of what a card or a command sends: forged or mistyped data is refused, nothing changed. */

const lead = viewer('aad-lead', { role: 'rolloutTeam' });
// Mercy Phiri: a Wave B field officer in the sample rollout file (FL-202 training from Mon 18 Jan 2027).
const mercy = viewer('4b6d2e90-8a1c-4f7e-9d3b-9e80e3acf109');

const DAY_MS = 86_400_000;

/** Two sessions of course C1 for field officers: t1 (starting `start`, to mistype) and t2 a week later. */
const course = (start: string) =>
  `zone: Africa/Lusaka\nsessions:\n  - { id: t1, kind: training, group: field-officers, course: C1, title: Tablet basics, start: "${start}", capacity: 5, joinUrl: "https://teams.microsoft.com/l/t1" }\n  - { id: t2, kind: training, group: field-officers, course: C1, title: Tablet basics, start: "2026-12-17 09:00", capacity: 5, joinUrl: "https://teams.microsoft.com/l/t2" }\n`;

/** What a person was sent 1:1, in order. */
const sentTo = (a: Awaited<ReturnType<typeof officeHoursInstance>>, who: typeof mercy) =>
  a.outbox.messages.flatMap((m) => (m.op === 'send' && m.to.kind === 'user' && m.to.userKey === who.person.id && typeof m.content === 'string' ? [m.content] : []));

/** A session added from the Teams form by the rollout team: its id. */
async function addSeries(a: Awaited<ReturnType<typeof officeHoursInstance>>, form: AddForm): Promise<string> {
  const added = await a.service.addSession(lead, { joinUrl: 'https://teams.microsoft.com/l/meetup-join/added', ...form });
  if (added.kind !== 'added') throw new Error(`not added: ${JSON.stringify(added)}`);
  return added.session.id;
}

describe('booking only what the person could have been offered', () => {
  it('office hours past the four-week list are refused with a message, and nothing is booked; `my training` sessions further ahead can be booked', async () => {
    const a = await officeHoursInstance(); // now: Mon 30 Nov 2026
    // Tue 5 Jan 2027: a real session, five weeks ahead, so on no "office hours" card (a forged Book).
    const far = await a.service.book(mercy, 'office-hours|2027-01-05T14:00', 'Where are my drafts?');
    expect(far).toEqual({ kind: 'message', text: expect.stringMatching(/^That session is more than four weeks ahead: office hours can be booked up to four weeks ahead\./) });
    expect(await a.bookings.ofPerson(mercy.person.id)).toEqual([]);
    expect((await a.bookings.seatsOf('office-hours|2027-01-05T14:00')).booked).toBe(0);
    // The last one the list shows can be booked.
    const listed = await a.service.upcoming(mercy, undefined, 100);
    const last = listed.offers.at(-1)?.occurrence.id ?? '';
    expect(last).toBe('office-hours|2026-12-22T14:00');
    expect(await a.service.book(mercy, last, '')).toMatchObject({ kind: 'booked' });

    // `my training` offers her first FL-202 session seven weeks ahead: it can be booked.
    const training = await a.service.training(mercy);
    const offered = training.items.find((i) => i.course === 'FL-202-1')?.offer?.occurrence.id;
    expect(offered).toBe('fl202-visits-wave-b|2027-01-18T09:00');
    expect(await a.service.book(mercy, offered ?? '', '')).toMatchObject({ kind: 'booked' });
  });

  it('a training session beyond what `my training` looks at is refused, and nothing is booked', async () => {
    const a = await officeHoursInstance();
    const id = await addSeries(a, { title: 'Tablet refresher', kind: 'training', group: 'field-officers', date: '2027-03-01', time: '09:00', capacity: '10', repeat: 'weekly', until: '2028-12-31' });
    // `my training` offers the course's next session, three months ahead; that one books.
    const item = (await a.service.training(mercy)).items.find((i) => i.course === id);
    expect(item?.offer?.occurrence.id).toBe(`${id}|2027-03-01T09:00`);
    expect(await a.service.book(mercy, `${id}|2027-03-01T09:00`, '')).toMatchObject({ kind: 'booked' });
    // Two years ahead: no card of hers could have offered it.
    const forged = await a.service.book(mercy, `${id}|2028-12-25T09:00`, '');
    expect(forged).toEqual({ kind: 'message', text: expect.stringMatching(/^That training session is too far ahead to book yet\..*"my training"/) });
    expect((await a.bookings.ofPerson(mercy.person.id)).map((b) => b.occurrenceId)).toEqual([`${id}|2027-03-01T09:00`]);
  });

  it('a full session names as the next one with seats only one the list offers', async () => {
    const a = await officeHoursInstance();
    const id = await addSeries(a, { title: 'One-seat clinic', date: '2026-12-02', time: '10:00', capacity: '1', repeat: 'fortnightly', until: '2027-01-31' });
    // Wed 2, 16 and 30 Dec; 30 Dec is past the four-week list. Both listed ones full: none is offered.
    for (const day of ['2026-12-02', '2026-12-16']) expect(await a.service.book(viewer(`aad-first-${day}`), `${id}|${day}T10:00`, '')).toMatchObject({ kind: 'booked' });
    const full = await a.service.book(mercy, `${id}|2026-12-02T10:00`, '');
    expect(full).toEqual({ kind: 'message', text: 'Sorry, that session is full (1 seat). Type "office hours" to see other sessions.' });
  });

  it('a full training session points to `my training`, which offers its later sessions, not to "office hours", which lists none', async () => {
    const a = await officeHoursInstance();
    const id = await addSeries(a, { title: 'Tablet basics', kind: 'training', group: 'field-officers', date: '2026-12-02', time: '10:00', capacity: '1', repeat: 'weekly', until: '2027-01-31' });
    // Isaac Lungu, a Wave B field officer too, took the one seat.
    expect(await a.service.book(viewer('0c3a7fa2-6e4b-4d8a-b1c5-af91f4bd010a'), `${id}|2026-12-02T10:00`, '')).toMatchObject({ kind: 'booked' });
    const full = await a.service.book(mercy, `${id}|2026-12-02T10:00`, '');
    expect(full).toEqual({
      kind: 'message',
      text: expect.stringMatching(/^Sorry, that session is full \(1 seat\)\. The next one with seats: Wed 9 Dec 2026, 10:00.* — type "my training" to book it\.$/),
    });
    // Every one taken: still pointed to where training is listed.
    for (const day of ['2026-12-09', '2026-12-16', '2026-12-23', '2026-12-30', '2027-01-06', '2027-01-13', '2027-01-20', '2027-01-27']) {
      expect(await a.service.book(viewer('0c3a7fa2-6e4b-4d8a-b1c5-af91f4bd010a'), `${id}|${day}T10:00`, '')).toMatchObject({ kind: 'booked' });
    }
    expect(await a.service.book(mercy, `${id}|2026-12-02T10:00`, '')).toEqual({
      kind: 'message',
      text: 'Sorry, that session is full (1 seat). Type "my training" to see other sessions.',
    });
  });
});

describe('a Book pressed again by someone who holds a seat', () => {
  it('on a session since moved past the four-week list, is answered as already booked, not told to book nearer the time', async () => {
    const a = await officeHoursInstance(); // now: Mon 30 Nov 2026
    const id = 'office-hours|2026-12-15T14:00';
    expect(await a.service.book(mercy, id, 'Where are my drafts?')).toMatchObject({ kind: 'booked', fresh: true });
    // The rollout team moves it six weeks out; her old list card still names the same occurrence.
    expect(await a.service.moveOccurrence(lead, '2026-12-15 2027-01-26 14:00')).toMatch(/^Moved: /);
    expect(await a.service.book(mercy, id, 'Where are my drafts?')).toMatchObject({ kind: 'booked', fresh: false, offer: { occurrence: { id } } });
    expect((await a.bookings.seatsOf(id)).booked).toBe(1);
    // Someone without a seat is still refused it: no list of theirs offers it yet.
    const other = viewer('aad-no-seat');
    expect(await a.service.book(other, id, '')).toEqual({ kind: 'message', text: expect.stringMatching(/^That session is more than four weeks ahead/) });
    expect((await a.bookings.seatsOf(id)).booked).toBe(1);
  });
});

describe('a cancelled session\'s notice', () => {
  it('for training, points to `my training` to book another, where the later sessions are', async () => {
    const a = await officeHoursInstance();
    const id = await addSeries(a, { title: 'Tablet basics', kind: 'training', group: 'field-officers', date: '2026-12-02', time: '10:00', capacity: '5', repeat: 'weekly', until: '2027-01-31' });
    expect(await a.service.book(mercy, `${id}|2026-12-02T10:00`, '')).toMatchObject({ kind: 'booked' });
    a.outbox.clear();
    expect(await a.service.cancelOccurrence(lead, `2026-12-02 ${id} Trainer ill`)).toMatch(/^Cancelled: /);
    const told = a.outbox.messages.flatMap((m) => (m.op === 'send' && typeof m.content === 'string' ? [m.content] : []));
    expect(told).toEqual([expect.stringMatching(/ and type "my training" to book another session\.$/)]);
  });
});

describe('moving a session', () => {
  it('up to a year past the day it was first set for; further is refused with a message, and the session is not moved', async () => {
    const a = await officeHoursInstance(); // now: Mon 30 Nov 2026
    const refused = await a.service.moveOccurrence(lead, '2026-12-08 2099-12-08 15:00');
    expect(refused).toBe('A session can be moved up to a year past the day it was first set for: to 2027-12-09 at the latest. Nothing was changed.');
    const o = await a.service.find('office-hours|2026-12-08T14:00');
    expect(o?.start.toISOString()).toBe('2026-12-08T12:00:00.000Z');
    expect(o?.movedFrom).toBeUndefined();
    expect(await a.service.moveOccurrence(lead, '2026-12-08 2027-12-09 15:00')).toMatch(/^Moved: /);
  });

  it('a session more than a year ahead can have its time changed, and moved up to a year past the day it was first set for', async () => {
    const a = await officeHoursInstance(); // now: Mon 30 Nov 2026
    const id = await addSeries(a, { title: 'Long-running clinic', date: '2027-03-01', time: '09:00', capacity: '10', repeat: 'weekly', until: '2028-12-31' });
    // Mon 6 Mar 2028, fifteen months ahead: the same day, another time.
    expect(await a.service.moveOccurrence(lead, `2028-03-06 15:00 ${id}`)).toMatch(/^Moved: Long-running clinic of Mon 6 Mar 2028, 09:00 .* is now on Mon 6 Mar 2028, 15:00\./);
    const refused = await a.service.moveOccurrence(lead, `2028-03-13 2029-03-15 09:00 ${id}`);
    expect(refused).toBe('A session can be moved up to a year past the day it was first set for: to 2029-03-14 at the latest. Nothing was changed.');
    expect((await a.service.find(`${id}|2028-03-13T09:00`))?.movedFrom).toBeUndefined();
    expect(await a.service.moveOccurrence(lead, `2028-03-13 2029-03-14 09:00 ${id}`)).toMatch(/^Moved: /);
  });
});

describe('moving a session again', () => {
  it('counts the year from the day it was first set for, so moving it again and again does not walk it further', async () => {
    const a = await officeHoursInstance(); // now: Mon 30 Nov 2026
    expect(await a.service.moveOccurrence(lead, '2026-12-08 2027-12-08 14:00')).toMatch(/^Moved: /);
    const refused = await a.service.moveOccurrence(lead, '2027-12-08 2028-06-08 14:00');
    expect(refused).toBe('A session can be moved up to a year past the day it was first set for: to 2027-12-09 at the latest. Nothing was changed.');
    expect((await a.service.find('office-hours|2026-12-08T14:00'))?.start.toISOString()).toBe('2027-12-08T12:00:00.000Z');
    // Within that year it can still be moved, earlier or later.
    expect(await a.service.moveOccurrence(lead, '2027-12-08 2027-12-09 15:00')).toMatch(/^Moved: /);
  });

  it('a training session is moved no further than `my training` shows sessions, so those booked still find it there', async () => {
    const a = await officeHoursInstance(); // now: Mon 30 Nov 2026; `my training` shows up to Tue 4 Jan 2028
    const id = await addSeries(a, { title: 'Tablet refresher', kind: 'training', group: 'field-officers', date: '2027-03-01', time: '09:00', capacity: '10' });
    expect(await a.service.book(mercy, `${id}|2027-03-01T09:00`, '')).toMatchObject({ kind: 'booked' });
    const refused = await a.service.moveOccurrence(lead, `2027-03-01 2028-01-10 09:00 ${id}`);
    expect(refused).toBe(
      'A training session can be moved up to 2028-01-03 at the latest: as far ahead as "my training" shows sessions, so those booked still find it there. Nothing was changed.',
    );
    expect((await a.service.find(`${id}|2027-03-01T09:00`))?.movedFrom).toBeUndefined();
    expect(await a.service.moveOccurrence(lead, `2027-03-01 2028-01-03 09:00 ${id}`)).toMatch(/^Moved: /);
    expect((await a.service.training(mercy)).items.find((i) => i.course === id)).toMatchObject({ status: 'booked', occurrence: { id: `${id}|2027-03-01T09:00` } });
  });

  it('one booked, moved months ahead and later taken out of the file is told as cancelled to those booked', async () => {
    let schedule: Schedule = sampleSchedule;
    const a = await officeHoursInstance({ schedule: () => schedule }); // now: Mon 30 Nov 2026
    await a.reminders.run(a.clock.now());
    expect(await a.service.book(mercy, 'office-hours|2026-12-15T14:00', '')).toMatchObject({ kind: 'booked' });
    expect(await a.service.moveOccurrence(lead, '2026-12-15 2027-06-15 14:00')).toMatch(/^Moved: /);
    await a.reminders.run(a.clock.now());
    // Two months on, the office hours are taken out of the file; the moved one still lies ahead.
    a.clock.advance(60 * DAY_MS);
    schedule = { ...sampleSchedule, sessions: sampleSchedule.sessions.filter((x) => x.id !== 'office-hours') };
    a.outbox.clear();
    await a.reminders.run(a.clock.now());
    expect(sentTo(a, mercy)).toEqual([expect.stringMatching(/^\*\*FieldLedger office hours\*\* on Tue 15 Jun 2027, 14:00 .*is cancelled \(taken off the schedule\)/)]);
  });
});

describe('a booking made after a move, then moved again', () => {
  it('moved earlier, booked, moved a year out and later taken out of the file: those booked are told it is cancelled', async () => {
    let schedule: Schedule = sampleSchedule;
    const a = await officeHoursInstance({ schedule: () => schedule }); // now: Mon 30 Nov 2026
    await a.reminders.run(a.clock.now());
    expect(await a.service.moveOccurrence(lead, '2026-12-22 2026-12-01 15:00 office-hours')).toMatch(/^Moved: /);
    expect(await a.service.book(mercy, 'office-hours|2026-12-22T14:00', '')).toMatchObject({ kind: 'booked' });
    expect(await a.service.moveOccurrence(lead, '2026-12-01 15:00 office-hours 2027-12-22 14:00')).toMatch(/^Moved: /);
    await a.reminders.run(a.clock.now());
    // Over a year after the start it was booked at; the session is taken out of the file while the moved one lies ahead.
    a.clock.set('2027-12-10T08:00:00Z');
    await a.reminders.run(a.clock.now());
    schedule = { ...sampleSchedule, sessions: sampleSchedule.sessions.filter((x) => x.id !== 'office-hours') };
    a.outbox.clear();
    expect((await a.reminders.run(a.clock.now())).notices).toBe(1);
    expect(sentTo(a, mercy)).toEqual([expect.stringMatching(/^\*\*FieldLedger office hours\*\* on Wed 22 Dec 2027, 14:00 .*is cancelled \(taken off the schedule\)/)]);
  });
});

describe('the notice pass and the booking horizon', () => {
  it('a training session booked more than a year ahead and then taken out of the file is told as cancelled to those booked', async () => {
    const file = parseScheduleFile(
      'zone: Africa/Lusaka\nsessions:\n  - { id: refresher, kind: training, group: field-officers, title: Refresher, start: "2027-12-20 09:00", capacity: 5, joinUrl: "https://teams.microsoft.com/l/r" }\n',
    );
    let schedule = buildSchedule(file, sampleRollout);
    const a = await officeHoursInstance({ schedule: () => schedule }); // now: Mon 30 Nov 2026, 385 days before
    await a.reminders.run(a.clock.now());
    expect((await a.service.training(mercy)).items.find((i) => i.course === 'refresher')?.offer?.occurrence.id).toBe('refresher|2027-12-20T09:00');
    expect(await a.service.book(mercy, 'refresher|2027-12-20T09:00', '')).toMatchObject({ kind: 'booked' });
    schedule = { ...schedule, sessions: [] };
    a.outbox.clear();
    expect((await a.reminders.run(a.clock.now())).notices).toBe(1);
    expect(sentTo(a, mercy)).toEqual([expect.stringMatching(/^\*\*Refresher\*\* on Mon 20 Dec 2027, 09:00 .*is cancelled \(taken off the schedule\)/)]);
  });

  it('one booked at the horizon, moved in the file months past it, then taken out: those booked are told it is cancelled', async () => {
    const yaml = (changes: string) =>
      `zone: Africa/Lusaka\nsessions:\n  - { id: refresher, kind: training, group: field-officers, title: Refresher, start: "2027-12-20 09:00", capacity: 5, joinUrl: "https://teams.microsoft.com/l/r"${changes} }\n`;
    let schedule = buildSchedule(parseScheduleFile(yaml('')), sampleRollout);
    const a = await officeHoursInstance({ schedule: () => schedule }); // now: Mon 30 Nov 2026
    await a.reminders.run(a.clock.now());
    expect(await a.service.book(mercy, 'refresher|2027-12-20T09:00', '')).toMatchObject({ kind: 'booked' });
    schedule = buildSchedule(parseScheduleFile(yaml(', changes: [{ date: 2027-12-20, moveTo: "2028-06-20 09:00" }]')), sampleRollout);
    expect((await a.reminders.run(a.clock.now())).notices).toBe(1);
    schedule = { ...schedule, sessions: [] };
    a.outbox.clear();
    expect((await a.reminders.run(a.clock.now())).notices).toBe(1);
    expect(sentTo(a, mercy)).toEqual([expect.stringMatching(/^\*\*Refresher\*\* on Tue 20 Jun 2028, 09:00 .*is cancelled \(taken off the schedule\)/)]);
  });
});

describe('a session whose join link in the file is over the limit (as after the upgrade that brought the limit)', () => {
  it('is not told as cancelled: the booking stands, and the reminder still goes, without a link', async () => {
    const yaml = (link: string) =>
      `zone: Africa/Lusaka\nsessions:\n  - { id: clinic, title: Clinic, start: "2026-12-08 14:00", capacity: 5, joinUrl: "${link}" }\n`;
    let schedule = buildSchedule(parseScheduleFile(yaml('https://teams.microsoft.com/l/clinic')), sampleRollout);
    const a = await officeHoursInstance({ schedule: () => schedule }); // now: Mon 30 Nov 2026
    await a.reminders.run(a.clock.now());
    expect(await a.service.book(mercy, 'clinic|2026-12-08T14:00', '')).toMatchObject({ kind: 'booked' });
    schedule = buildSchedule(parseScheduleFile(yaml(`https://teams.microsoft.com/l/clinic?p=${'a'.repeat(2_000)}`)), sampleRollout);
    a.outbox.clear();
    expect((await a.reminders.run(a.clock.now())).notices).toBe(0);
    expect(sentTo(a, mercy)).toEqual([]);
    expect((await a.service.find('clinic|2026-12-08T14:00'))?.status).toBe('scheduled');
    expect((await a.bookings.booking('clinic|2026-12-08T14:00', mercy.person.id))?.status).toBe('booked');
    // Half an hour before (14:00 in Lusaka is 12:00 UTC): reminded, with no link to a meeting the file no longer gives.
    a.clock.set('2026-12-08T11:30:00Z');
    await a.reminders.run(a.clock.now());
    expect(sentTo(a, mercy)).toEqual([expect.stringMatching(/^Reminder: \*\*Clinic\*\* starts soon: .*\. Booking B-[0-9A-Z]{8}\.$/)]);
  });
});

describe('the add form\'s numbers', () => {
  it('take plain whole numbers only: a hexadecimal or exponent seat count or length is refused, and nothing is added', async () => {
    const a = await officeHoursInstance();
    const form = { title: 'Numbers clinic', date: '2026-12-09', time: '10:00', capacity: '10', joinUrl: 'https://teams.microsoft.com/l/x' };
    for (const capacity of ['0x10', '1e2', '1_0', '10.0', '-1', '0', '1001']) {
      expect(await a.service.addSession(lead, { ...form, capacity })).toMatchObject({
        kind: 'invalid',
        error: 'Seats: a whole number from 1 to 1000, in digits.',
        values: { capacity },
      });
    }
    for (const minutes of ['0x3c', '6e1', '4', '601']) {
      expect(await a.service.addSession(lead, { ...form, minutes })).toMatchObject({ kind: 'invalid', error: 'Length: a whole number of minutes from 5 to 600, in digits.' });
    }
    expect((await a.service.current()).sessions.filter((s) => s.title === 'Numbers clinic')).toEqual([]);
    expect(await a.service.addSession(lead, { ...form, capacity: '1000', minutes: '600' })).toMatchObject({ kind: 'added', session: { capacity: 1000, minutes: 600 } });
  });
});

describe('the add form\'s lengths', () => {
  it('a join link or time zone too long is named with its limit, not shown again; what else was typed is kept, and nothing is added', async () => {
    const a = await officeHoursInstance();
    const form = { title: 'Long link clinic', date: '2026-12-09', time: '10:00', capacity: '10', topic: 'Sync' };
    const joinUrl = `https://teams.microsoft.com/l/meetup-join/${'a'.repeat(4_100)}`;
    const res = await a.service.addSession(lead, { ...form, joinUrl, zone: 'Z'.repeat(4_500) });
    expect(res).toMatchObject({
      kind: 'invalid',
      error:
        'Time zone: at most 100 characters (this one has 4,500); it is not shown again. Join link: at most 2,000 characters (this one has 4,142); it is not shown again.',
      values: form,
    });
    if (res.kind !== 'invalid') throw new Error('not invalid');
    expect(res.values.joinUrl).toBeUndefined();
    expect(res.values.zone).toBeUndefined();
    expect((await a.service.current()).sessions.filter((s) => s.title === 'Long link clinic')).toEqual([]);
  });
});

describe('a booked session whose entry in the file is invalid in when it meets (a typo in its start), with no good entry of it kept (as on the first start of a version that keeps them)', () => {
  const yaml = (start: string, more = '') =>
    `zone: Africa/Lusaka\nsessions:\n  - { id: clinic, title: Clinic, start: "${start}", capacity: 5, joinUrl: "https://teams.microsoft.com/l/clinic" }\n${more}`;
  const other = '  - { id: drop-in, title: Drop-in, start: "2026-12-09 10:00", capacity: 5, joinUrl: "https://teams.microsoft.com/l/drop" }\n';

  /** `firstPass`: the notice pass has run once before she books (else her booking comes before any pass). */
  async function bookedClinic(firstPass = true) {
    let schedule = buildSchedule(parseScheduleFile(yaml('2026-12-08 14:00', other)), sampleRollout);
    const a = await officeHoursInstance({ schedule: () => schedule }); // now: Mon 30 Nov 2026
    if (firstPass) await a.reminders.run(a.clock.now());
    const booked = await a.service.book(mercy, 'clinic|2026-12-08T14:00', 'Where are my drafts?');
    if (booked.kind !== 'booked' || !booked.offer.calendarUrl) throw new Error(`not booked: ${JSON.stringify(booked)}`);
    await dropKeptEntries(a.tables);
    const token = booked.offer.calendarUrl.split('/calendar/')[1] ?? '';
    return { a, token, edit: (text: string) => (schedule = buildSchedule(parseScheduleFile(text), sampleRollout)) };
  }

  it('is held as it was: nobody is told it is cancelled, the booking stands, and the warning names the session and says it is held', async () => {
    const { a, token, edit } = await bookedClinic();
    const broken = edit(yaml('2026-12-08 25:00', other));
    a.outbox.clear();
    expect((await a.reminders.run(a.clock.now())).notices).toBe(0);
    a.clock.advance(DAY_MS);
    expect((await a.reminders.run(a.clock.now())).notices).toBe(0);
    expect(sentTo(a, mercy)).toEqual([]);
    expect((await a.bookings.booking('clinic|2026-12-08T14:00', mercy.person.id))?.status).toBe('booked');
    expect((await a.bookings.seatsOf('clinic|2026-12-08T14:00')).booked).toBe(1);
    // Her calendar link does not serve a cancel meanwhile (that would take the entry out of her calendar unannounced).
    expect(await a.service.calendar(token)).toEqual({ unavailable: expect.stringMatching(/being corrected/) });
    // The rollout team's log says what was done, naming the session.
    expect(broken.problems).toEqual([
      `schedule: sessions[0] (clinic).start: "2026-12-08 25:00" is not a start; write "2026-12-08 14:00" or "golive-14d 09:00"; ${HELD}`,
    ]);
  });

  for (const firstPass of [true, false]) it(`fixed again, nothing is sent (it was never announced cancelled) and the booking is as it was${firstPass ? '' : ' (held on the very first pass)'}`, async () => {
    const { a, token, edit } = await bookedClinic(firstPass);
    edit(yaml('2026-12-08 25:00', other));
    await a.reminders.run(a.clock.now());
    edit(yaml('2026-12-08 14:00', other));
    a.outbox.clear();
    expect((await a.reminders.run(a.clock.now())).notices).toBe(0);
    expect(sentTo(a, mercy)).toEqual([]);
    expect((await a.service.find('clinic|2026-12-08T14:00'))?.status).toBe('scheduled');
    expect((await a.bookings.booking('clinic|2026-12-08T14:00', mercy.person.id))?.status).toBe('booked');
    const ics = await a.service.calendar(token);
    expect(ics && 'content' in ics ? ics.content : ics).toContain('STATUS:CONFIRMED');
  });

  it('is held on the very first pass too (one that looks at every booking of a session it never saw)', async () => {
    let schedule = buildSchedule(parseScheduleFile(yaml('2026-12-08 14:00', other)), sampleRollout);
    const a = await officeHoursInstance({ schedule: () => schedule }); // no pass has run yet
    expect(await a.service.book(mercy, 'clinic|2026-12-08T14:00', '')).toMatchObject({ kind: 'booked' });
    // Its seats mistyped: a field that decides who can book it.
    schedule = buildSchedule(parseScheduleFile(yaml('2026-12-08 14:00', other).replace('capacity: 5, joinUrl: "https://teams.microsoft.com/l/clinic"', 'capacity: five, joinUrl: "https://teams.microsoft.com/l/clinic"')), sampleRollout);
    expect(schedule.onHold).toEqual(['clinic']);
    expect((await a.reminders.run(a.clock.now())).notices).toBe(0);
    expect(sentTo(a, mercy)).toEqual([]);
  });

  it('`my training` counts the seat on its course, without a time, and offers no other session of the course', async () => {
    let schedule = buildSchedule(parseScheduleFile(course('2026-12-10 09:00')), sampleRollout);
    const a = await officeHoursInstance({ schedule: () => schedule });
    expect(await a.service.book(mercy, 't1|2026-12-10T09:00', '')).toMatchObject({ kind: 'booked' });
    await dropKeptEntries(a.tables);
    schedule = buildSchedule(parseScheduleFile(course('2026-12-10 9am')), sampleRollout);
    const training = await a.service.training(mercy);
    const c1 = training.items.filter((i) => i.course === 'C1');
    expect(c1.map((i) => [i.status, i.occurrence?.id, i.offer])).toEqual([['booked', undefined, undefined]]);
    expect(JSON.stringify(trainingCard(training, mercy, a.clock.now()))).toContain('Your seat stands. The rollout team is correcting this session');
  });

  it('taken out of the file (its id gone), those booked are told it is cancelled, as before', async () => {
    const { a, edit } = await bookedClinic();
    edit(yaml('2026-12-08 25:00', other));
    await a.reminders.run(a.clock.now());
    edit(`zone: Africa/Lusaka\nsessions:\n${other}`);
    a.outbox.clear();
    expect((await a.reminders.run(a.clock.now())).notices).toBe(1);
    expect(sentTo(a, mercy)).toEqual([expect.stringMatching(/^\*\*Clinic\*\* on Tue 8 Dec 2026, 14:00 .*is cancelled \(taken off the schedule\)/)]);
  });

  it('held on the very first pass, then taken out of the file: those booked are told it is cancelled', async () => {
    const { a, edit } = await bookedClinic(false);
    edit(yaml('2026-12-08 25:00', other));
    expect((await a.reminders.run(a.clock.now())).notices).toBe(0);
    edit(`zone: Africa/Lusaka\nsessions:\n${other}`);
    a.outbox.clear();
    expect((await a.reminders.run(a.clock.now())).notices).toBe(1);
    expect(sentTo(a, mercy)).toEqual([expect.stringMatching(/^\*\*Clinic\*\* on Tue 8 Dec 2026, 14:00 .*is cancelled \(taken off the schedule\)/)]);
  });

  it('taken out and told cancelled, then put back with a typo: her calendar link still serves the cancel she was told of', async () => {
    const { a, token, edit } = await bookedClinic();
    edit(`zone: Africa/Lusaka\nsessions:\n${other}`);
    await a.reminders.run(a.clock.now());
    const told = await a.service.calendar(token);
    const toldSequence = told && 'content' in told ? parseIcsEvent(told.content).sequence : -1;
    edit(yaml('2026-12-08 25:00', other));
    await a.reminders.run(a.clock.now());
    const held = await a.service.calendar(token);
    expect(held && 'content' in held ? held.content : held).toContain('STATUS:CANCELLED');
    expect(held && 'content' in held ? parseIcsEvent(held.content).sequence : -1).toBe(toldSequence);
  });

  it('taken out and told cancelled (her link opened then), put back and told it is back on, then mistyped: her link says it is being corrected, not a cancel', async () => {
    const { a, token, edit } = await bookedClinic();
    edit(`zone: Africa/Lusaka\nsessions:\n${other}`);
    expect((await a.reminders.run(a.clock.now())).notices).toBe(1);
    const told = await a.service.calendar(token);
    expect(told && 'content' in told ? told.content : told).toContain('STATUS:CANCELLED');
    edit(yaml('2026-12-08 14:00', other));
    a.outbox.clear();
    expect((await a.reminders.run(a.clock.now())).notices).toBe(1);
    expect(sentTo(a, mercy)).toEqual([expect.stringMatching(/is back on/)]);
    await dropKeptEntries(a.tables);
    edit(yaml('2026-12-08 25:00', other));
    await a.reminders.run(a.clock.now());
    expect(await a.service.calendar(token)).toEqual({ unavailable: expect.stringMatching(/being corrected/) });
  });

  it('her own seat cancelled, then the entry mistyped: her link serves the cancel of her seat, not "being corrected"', async () => {
    const { a, token, edit } = await bookedClinic();
    await a.service.cancelBooking(mercy, 'clinic|2026-12-08T14:00');
    const before = await a.service.calendar(token);
    edit(yaml('2026-12-08 25:00', other));
    await a.reminders.run(a.clock.now());
    const ics = await a.service.calendar(token);
    expect(ics && 'content' in ics ? ics.content : ics).toContain('STATUS:CANCELLED');
    // No older than the cancel she had, at the time she knew.
    const [was, now] = [before, ics].map((f) => (f && 'content' in f ? parseIcsEvent(f.content) : undefined));
    expect(now?.sequence).toBeGreaterThanOrEqual(was?.sequence ?? Infinity);
    expect(now?.startDate.toJSDate().toISOString()).toBe('2026-12-08T12:00:00.000Z');
  });
});

describe('a move told to those booked, then undone in the file', () => {
  const yaml = (changes = '') =>
    `zone: Africa/Lusaka\nsessions:\n  - { id: clinic, title: Clinic, start: "2026-12-08 14:00", capacity: 5, joinUrl: "https://teams.microsoft.com/l/clinic"${changes} }\n`;
  const move = (to: string) => `, changes: [{ date: "2026-12-08", moveTo: "${to}" }]`;

  /** Mercy booked on Tue 8 Dec, told it moved to Thu 10 Dec; `edit` replaces the file, `calendar` opens her link. */
  async function movedAndTold() {
    let schedule = buildSchedule(parseScheduleFile(yaml()), sampleRollout);
    const a = await officeHoursInstance({ schedule: () => schedule }); // now: Mon 30 Nov 2026
    await a.reminders.run(a.clock.now());
    const booked = await a.service.book(mercy, 'clinic|2026-12-08T14:00', '');
    if (booked.kind !== 'booked' || !booked.offer.calendarUrl) throw new Error('not booked');
    const token = booked.offer.calendarUrl.split('/calendar/')[1] ?? '';
    const calendar = async () => {
      const ics = await a.service.calendar(token);
      if (!ics || !('content' in ics)) throw new Error(`no calendar file: ${JSON.stringify(ics)}`);
      return ics.content;
    };
    const edit = (text: string) => (schedule = buildSchedule(parseScheduleFile(text), sampleRollout));
    edit(yaml(move('2026-12-10 14:00')));
    expect((await a.reminders.run(a.clock.now())).notices).toBe(1);
    const moved = parseIcsEvent(await calendar());
    expect(moved.startDate.toJSDate().toISOString()).toBe('2026-12-10T12:00:00.000Z');
    return { a, calendar, edit, moved };
  }

  for (const [undo, file] of [
    ['its change line deleted', yaml()],
    ['its moveTo mistyped more than a year out (ignored)', yaml(move('2027-12-10 14:00'))],
  ] as const) {
    it(`${undo}: those booked are told it meets at its first time again, and the calendar link serves that time, newer`, async () => {
      const { a, calendar, edit, moved } = await movedAndTold();
      edit(file);
      a.outbox.clear();
      expect((await a.reminders.run(a.clock.now())).notices).toBe(1);
      expect(sentTo(a, mercy)).toEqual([
        expect.stringMatching(/^\*\*Clinic\*\* has moved: it was Thu 10 Dec 2026, 14:00, it is now \*\*Tue 8 Dec 2026, 14:00–15:00\*\*/),
      ]);
      const back = parseIcsEvent(await calendar());
      expect(back.startDate.toJSDate().toISOString()).toBe('2026-12-08T12:00:00.000Z');
      expect(back.sequence).toBeGreaterThan(moved.sequence);
      // Told once: the next pass sends nothing more.
      a.outbox.clear();
      expect((await a.reminders.run(a.clock.now())).notices).toBe(0);
    });
  }

  for (const [undo, file] of [
    ['its change line deleted', yaml()],
    ['its move line replaced by a cancel line', yaml(', changes: [{ date: "2026-12-08", cancel: true }]')],
  ] as const) {
    it(`once its first time has passed, ${undo}: those booked are told the time they were told is cancelled, and the calendar link serves that cancel, newer`, async () => {
      const { a, calendar, edit, moved } = await movedAndTold();
      // Wed 9 Dec: the first time (Tue 8 Dec) is over, the one she was told (Thu 10 Dec) ahead.
      a.clock.advance(Date.parse('2026-12-09T08:00:00Z') - a.clock.now().getTime());
      edit(file);
      a.outbox.clear();
      expect((await a.reminders.run(a.clock.now())).notices).toBe(1);
      expect(sentTo(a, mercy)).toEqual([expect.stringMatching(/^\*\*Clinic\*\* on Thu 10 Dec 2026, 14:00 .*is cancelled/)]);
      const content = await calendar();
      expect(content).toContain('METHOD:CANCEL');
      const cancel = parseIcsEvent(content);
      expect(cancel.startDate.toJSDate().toISOString()).toBe('2026-12-10T12:00:00.000Z');
      expect(cancel.sequence).toBeGreaterThan(moved.sequence);
      // Told once: the next pass sends nothing more.
      a.outbox.clear();
      a.clock.advance(60 * 60_000);
      expect((await a.reminders.run(a.clock.now())).notices).toBe(0);
      expect(sentTo(a, mercy)).toEqual([]);
    });
  }
});

describe('a booked session whose entry turns invalid while the app runs: served as it last was', () => {
  const isaac = viewer('0c3a7fa2-6e4b-4d8a-b1c5-af91f4bd010a');
  const clinic = (start: string) =>
    `zone: Africa/Lusaka\nsessions:\n  - { id: clinic, title: Clinic, start: "${start}", capacity: 5, joinUrl: "https://teams.microsoft.com/l/clinic" }\n`;

  /** The app's own loading (liveSchedule): Mercy booked on `occurrenceId`, a pass run, then the entry mistyped and saved. */
  async function heldAfterBooking(good: string, bad: string, occurrenceId: string) {
    let file = parseScheduleFile(good);
    const a = await officeHoursInstance({ schedule: liveSchedule(() => file, () => sampleRollout, 'schedule') }); // now: Mon 30 Nov 2026
    await a.reminders.run(a.clock.now());
    const booked = await a.service.book(mercy, occurrenceId, 'Where are my drafts?');
    if (booked.kind !== 'booked' || !booked.offer.calendarUrl) throw new Error(`not booked: ${JSON.stringify(booked)}`);
    file = parseScheduleFile(bad);
    await a.reminders.run(a.clock.now());
    a.outbox.clear();
    return Object.assign(a, { token: booked.offer.calendarUrl.split('/calendar/')[1] ?? '' });
  }

  it('at the reminder time those booked get the reminder, as the session last was; its calendar entry, agenda and attendance go on', async () => {
    const a = await heldAfterBooking(clinic('2026-12-08 14:00'), clinic('2026-12-08 25:00'), 'clinic|2026-12-08T14:00');
    const ics = await a.service.calendar(a.token);
    expect(ics && 'content' in ics ? ics.content : ics).toContain('STATUS:CONFIRMED');
    a.clock.advance(Date.parse('2026-12-08T11:30:00Z') - a.clock.now().getTime()); // 13:30 in Lusaka
    await a.reminders.run(a.clock.now());
    expect(sentTo(a, mercy)).toEqual([expect.stringMatching(/Clinic/)]);
    expect(await a.service.agenda(lead, 'clinic|2026-12-08T14:00')).toMatchObject({ kind: 'agenda' });
    a.clock.advance(60 * 60_000);
    expect(await a.service.markAttendance(lead, 'clinic|2026-12-08T14:00', [mercy.person.id])).toMatchObject({ notice: 'Attendance saved: 1 of 1 booked attended.' });
  });

  it('Cancel my seat works and frees the seat', async () => {
    const a = await heldAfterBooking(clinic('2026-12-08 14:00'), clinic('2026-12-08 25:00'), 'clinic|2026-12-08T14:00');
    const res = await a.service.cancelBooking(mercy, 'clinic|2026-12-08T14:00');
    expect(res.text).toMatch(/^Your seat at Clinic on Tue 8 Dec 2026, 14:00.* is cancelled/);
    expect((await a.bookings.seatsOf('clinic|2026-12-08T14:00')).booked).toBe(0);
  });

  it('`my training` shows it as booked and offers no other session of its course', async () => {
    const a = await heldAfterBooking(course('2026-12-10 09:00'), course('2026-12-10 9am'), 't1|2026-12-10T09:00');
    const c1 = (await a.service.training(mercy)).items.filter((i) => i.course === 'C1');
    expect(c1.map((i) => `${i.status} ${i.occurrence?.id}`)).toEqual(['booked t1|2026-12-10T09:00']);
  });

  it('a Book on it is refused with a message, and nothing is booked; one already booked is answered as booked', async () => {
    const a = await heldAfterBooking(clinic('2026-12-08 14:00'), clinic('2026-12-08 25:00'), 'clinic|2026-12-08T14:00');
    expect(await a.service.book(isaac, 'clinic|2026-12-08T14:00', '')).toEqual({ kind: 'message', text: expect.stringMatching(/being corrected.*can't be booked/) });
    expect(await a.bookings.booking('clinic|2026-12-08T14:00', isaac.person.id)).toBeUndefined();
    expect((await a.bookings.seatsOf('clinic|2026-12-08T14:00')).booked).toBe(1);
    expect(await a.service.book(mercy, 'clinic|2026-12-08T14:00', '')).toMatchObject({ kind: 'booked', fresh: false });
    // The office hours list does not offer it to those not booked on it.
    expect((await a.service.upcoming(isaac)).offers.map((o) => o.occurrence.id)).not.toContain('clinic|2026-12-08T14:00');
  });
});

describe('a held session on an instance that never read its entry good (restarted while it is bad, or a second instance)', () => {
  const clinic = (start: string) =>
    `zone: Africa/Lusaka\nsessions:\n  - { id: clinic, title: Clinic, start: "${start}", capacity: 5, joinUrl: "https://teams.microsoft.com/l/clinic" }\n`;

  /** Instance A read the entry good and Mercy booked; then it was mistyped, and B starts on the same storage. */
  async function restartedWhileBad() {
    let file = parseScheduleFile(clinic('2026-12-08 14:00'));
    const a = await officeHoursInstance({ schedule: liveSchedule(() => file, () => sampleRollout, 'schedule') }); // Mon 30 Nov 2026
    await a.reminders.run(a.clock.now());
    const booked = await a.service.book(mercy, 'clinic|2026-12-08T14:00', 'Where are my drafts?');
    if (booked.kind !== 'booked' || !booked.offer.calendarUrl) throw new Error(`not booked: ${JSON.stringify(booked)}`);
    file = parseScheduleFile(clinic('2026-12-08 25:00'));
    await a.reminders.run(a.clock.now());
    const bad = parseScheduleFile(clinic('2026-12-08 25:00'));
    const b = await officeHoursInstance({ tables: a.tables, clock: a.clock, schedule: liveSchedule(() => bad, () => sampleRollout, 'schedule') });
    return { a, b, token: booked.offer.calendarUrl.split('/calendar/')[1] ?? '' };
  }

  it('serves it as the other instance does: her link serves her entry, "Cancel my seat" works, and she sees it listed', async () => {
    const { a, b, token } = await restartedWhileBad();
    const [onA, onB] = [await a.service.calendar(token), await b.service.calendar(token)];
    expect(onB && 'content' in onB ? onB.content : onB).toContain('STATUS:CONFIRMED');
    expect(onB).toEqual(onA);
    expect((await b.service.upcoming(mercy)).offers.map((o) => o.occurrence.id)).toContain('clinic|2026-12-08T14:00');
    // No new seat taken on it there either.
    expect(await b.service.book(viewer('someone-new'), 'clinic|2026-12-08T14:00', '')).toEqual({ kind: 'message', text: expect.stringMatching(/being corrected/) });
    const res = await b.service.cancelBooking(mercy, 'clinic|2026-12-08T14:00');
    expect(res.text).toMatch(/^Your seat at Clinic on Tue 8 Dec 2026, 14:00.* is cancelled/);
  });

  it('its kept entry is read once for the schedule built, not again on every turn (a list, a link, a Book)', async () => {
    const { b, token } = await restartedWhileBad();
    const reads = vi.spyOn(TableClient.prototype, 'getEntity');
    try {
      for (let i = 0; i < 3; i++) {
        expect((await b.service.upcoming(mercy)).offers.map((o) => o.occurrence.id)).toContain('clinic|2026-12-08T14:00');
        await b.service.calendar(token);
      }
      expect(reads.mock.calls.filter(([pk]) => pk === 'good')).toHaveLength(1);
    } finally {
      reads.mockRestore();
    }
  });

  it('an instance that does not run the pass reads the kept entry again after a minute: a copy kept after its first read is served', async () => {
    const good = parseScheduleFile(clinic('2026-12-08 14:00'));
    const a = await officeHoursInstance({ schedule: liveSchedule(() => good, () => sampleRollout, 'schedule') });
    const booked = await a.service.book(mercy, 'clinic|2026-12-08T14:00', '');
    if (booked.kind !== 'booked') throw new Error('not booked');
    await a.reminders.run(a.clock.now());
    await dropKeptEntries(a.tables); // as if no copy had landed yet when B first read
    const bad = parseScheduleFile(clinic('2026-12-08 25:00'));
    const b = await officeHoursInstance({ tables: a.tables, clock: a.clock, schedule: liveSchedule(() => bad, () => sampleRollout, 'schedule') });
    const listed = async () => (await b.service.upcoming(mercy)).offers.map((o) => o.occurrence.id);
    expect(await listed()).not.toContain('clinic|2026-12-08T14:00');
    // Another instance on the good file keeps it now (its pass); B runs no pass.
    const c = await officeHoursInstance({ tables: a.tables, clock: a.clock, schedule: liveSchedule(() => good, () => sampleRollout, 'schedule') });
    await c.reminders.run(c.clock.now());
    expect(await listed()).not.toContain('clinic|2026-12-08T14:00'); // read once for the schedule built…
    a.clock.advance(61_000);
    expect(await listed()).toContain('clinic|2026-12-08T14:00');
  });

  it('its reminder and the hosts\' agenda go out from it, and nobody is told it is cancelled', async () => {
    const { b } = await restartedWhileBad();
    expect((await b.reminders.run(b.clock.now())).notices).toBe(0);
    b.clock.advance(Date.parse('2026-12-08T11:30:00Z') - b.clock.now().getTime()); // 13:30 in Lusaka
    await b.reminders.run(b.clock.now());
    expect(sentTo(b, mercy)).toEqual([expect.stringMatching(/^Reminder: \*\*Clinic\*\* starts soon: Tue 8 Dec 2026, 14:00/)]);
    expect(await b.service.agenda(lead, 'clinic|2026-12-08T14:00')).toMatchObject({ kind: 'agenda' });
  });

  it('taken out (those booked told it is cancelled), then put back with a typo: not served as the entry kept before, her link serves the cancel she was told', async () => {
    let file = parseScheduleFile(clinic('2026-12-08 14:00'));
    const a = await officeHoursInstance({ schedule: liveSchedule(() => file, () => sampleRollout, 'schedule') });
    await a.reminders.run(a.clock.now());
    const booked = await a.service.book(mercy, 'clinic|2026-12-08T14:00', '');
    if (booked.kind !== 'booked' || !booked.offer.calendarUrl) throw new Error('not booked');
    file = parseScheduleFile('zone: Africa/Lusaka\nsessions: []\n');
    expect((await a.reminders.run(a.clock.now())).notices).toBe(1);
    const bad = parseScheduleFile(clinic('2026-12-08 25:00'));
    const b = await officeHoursInstance({ tables: a.tables, clock: a.clock, schedule: liveSchedule(() => bad, () => sampleRollout, 'schedule') });
    const ics = await b.service.calendar(booked.offer.calendarUrl.split('/calendar/')[1] ?? '');
    expect(ics && 'content' in ics ? ics.content : ics).toContain('STATUS:CANCELLED');
    expect((await b.service.upcoming(mercy)).offers.map((o) => o.occurrence.id)).not.toContain('clinic|2026-12-08T14:00');
  });

  it('a series with many changes, their reasons long, is kept whole (past one column of storage) and served so', async () => {
    const reason = 'x'.repeat(190);
    const changes = Array.from({ length: 150 }, (_, i) => `{ date: "${new Date(Date.parse('2026-12-15') + i * 7 * DAY_MS).toISOString().slice(0, 10)}", cancel: true, reason: "${reason}" }`).join(', ');
    const series = (start: string) =>
      `zone: Africa/Lusaka\nsessions:\n  - { id: clinic, title: Clinic, start: "${start}", rule: "FREQ=WEEKLY", capacity: 5, joinUrl: "https://teams.microsoft.com/l/clinic", changes: [${changes}] }\n`;
    const good = parseScheduleFile(series('2026-12-08 14:00'));
    const a = await officeHoursInstance({ schedule: liveSchedule(() => good, () => sampleRollout, 'schedule') });
    expect((await a.service.current()).sessions.map((s) => s.changes.length)).toEqual([150]);
    const bad = parseScheduleFile(series('2026-12-08 25:00'));
    const b = await officeHoursInstance({ tables: a.tables, clock: a.clock, schedule: liveSchedule(() => bad, () => sampleRollout, 'schedule') });
    expect((await b.service.find('clinic|2026-12-15T14:00'))?.status).toBe('cancelled');
    expect((await b.service.find('clinic|2026-12-08T14:00'))?.status).toBe('scheduled');
  });

  it('an instance still on an older entry (its file behind) that rebuilds its schedule does not put it back over the newer one kept', async () => {
    let rollout = sampleRollout;
    const old = parseScheduleFile(clinic('2026-12-08 14:00'));
    const a = await officeHoursInstance({ schedule: liveSchedule(() => old, () => rollout, 'schedule') });
    await a.service.current();
    a.clock.advance(60_000);
    const newer = parseScheduleFile(clinic('2026-12-08 15:00'));
    const b = await officeHoursInstance({ tables: a.tables, clock: a.clock, schedule: liveSchedule(() => newer, () => sampleRollout, 'schedule') });
    await b.service.current();
    // A rebuilds (its rollout file changed), still on the entry it read first.
    rollout = { ...sampleRollout };
    await a.service.current();
    // The entry is mistyped: an instance started now holds it as the newer entry.
    const bad = parseScheduleFile(clinic('2026-12-08 25:00'));
    const c = await officeHoursInstance({ tables: a.tables, clock: a.clock, schedule: liveSchedule(() => bad, () => sampleRollout, 'schedule') });
    expect((await c.service.find('clinic|2026-12-08T15:00'))?.status).toBe('scheduled');
  });
});

describe('a series whose entry in the file gathers more than 200 changes', () => {
  it('stays on offer: a new Book takes a seat, those booked are told nothing, and its latest changes are served', async () => {
    const tuesday = (i: number) => new Date(Date.parse('2026-12-15') + i * 7 * DAY_MS).toISOString().slice(0, 10);
    const series = (n: number) =>
      `zone: Africa/Lusaka\nsessions:\n  - { id: clinic, title: Clinic, start: "2026-12-08 14:00", rule: "FREQ=WEEKLY", capacity: 5, joinUrl: "https://teams.microsoft.com/l/clinic", changes: [${Array.from({ length: n }, (_, i) => `{ date: "${tuesday(i + 5)}", cancel: true }`).join(', ')}] }\n`;
    let file = parseScheduleFile(series(200));
    const a = await officeHoursInstance({ schedule: liveSchedule(() => file, () => sampleRollout, 'schedule') }); // Mon 30 Nov 2026
    await a.reminders.run(a.clock.now());
    expect(await a.service.book(mercy, 'clinic|2026-12-08T14:00', '')).toMatchObject({ kind: 'booked' });
    // One more cancel, at the end: the change of the earliest date (19 Jan, nobody booked on it) is the one set aside.
    file = parseScheduleFile(series(201));
    a.outbox.clear();
    expect((await a.reminders.run(a.clock.now())).notices).toBe(0);
    expect(await a.service.book(viewer('newcomer'), 'clinic|2026-12-08T14:00', '')).toMatchObject({ kind: 'booked', fresh: true });
    expect((await a.service.find(`clinic|${tuesday(205)}T14:00`))?.status).toBe('cancelled');
    expect(sentTo(a, mercy)).toEqual([]);
  });
});

describe('a booked session taken out of the file while another of the same title and times stays (two rooms)', () => {
  // Two parallel rooms, same title and Tuesday 14:00, different hosts and links: the team deletes room A.
  const room = (id: string, host: string) =>
    `  - { id: ${id}, title: Clinic, start: "2026-12-08 14:00", capacity: 5, hosts: [{ id: ${host}, name: Host ${host} }], joinUrl: "https://teams.microsoft.com/l/${id}" }\n`;
  const rooms = (...entries: string[]) => `zone: Africa/Lusaka\nsessions:\n${entries.join('')}`;

  it('is told cancelled to those booked on it, on this instance and on one restarted on the new file (no look-alike hold)', async () => {
    let file = parseScheduleFile(rooms(room('oh-room-a', 'h1'), room('oh-room-b', 'h2')));
    const a = await officeHoursInstance({ schedule: liveSchedule(() => file, () => sampleRollout, 'schedule') }); // Mon 30 Nov 2026
    await a.reminders.run(a.clock.now());
    const booked = await a.service.book(mercy, 'oh-room-a|2026-12-08T14:00', '');
    if (booked.kind !== 'booked' || !booked.offer.calendarUrl) throw new Error('not booked');
    file = parseScheduleFile(rooms(room('oh-room-b', 'h2')));
    const edited = parseScheduleFile(rooms(room('oh-room-b', 'h2')));
    const b = await officeHoursInstance({ tables: a.tables, clock: a.clock, schedule: liveSchedule(() => edited, () => sampleRollout, 'schedule') });
    a.outbox.clear();
    expect((await b.reminders.run(b.clock.now())).notices).toBe(1);
    expect(sentTo(b, mercy)).toEqual([expect.stringMatching(/^\*\*Clinic\*\* on Tue 8 Dec 2026, 14:00 .*is cancelled \(taken off the schedule\)/)]);
    const ics = await a.service.calendar(booked.offer.calendarUrl.split('/calendar/')[1] ?? '');
    expect(ics && 'content' in ics ? ics.content : ics).toContain('STATUS:CANCELLED');
    expect((await a.service.find('oh-room-a|2026-12-08T14:00'))).toBeUndefined();
  });
});

describe('keeping the schedule served as last good (Tables)', () => {
  it('a person\'s turn does not wait on it: with storage slow to take the writes, the list still answers', async () => {
    const a = await officeHoursInstance(); // the sample schedule, never kept before
    const keep = vi.spyOn(ScheduleChanges.prototype, 'keepGood').mockReturnValue(new Promise<void>(() => undefined));
    try {
      const answer = await Promise.race([a.service.upcoming(mercy).then(() => 'answered'), new Promise((r) => setTimeout(() => r('still waiting'), 2_000))]);
      expect(answer).toBe('answered');
      expect(keep).toHaveBeenCalledTimes(1);
    } finally {
      keep.mockRestore();
    }
  });
});

describe('a booked session taken out, its kept copy written again by an instance on the older file', () => {
  const clinic = (start: string) =>
    `zone: Africa/Lusaka\nsessions:\n  - { id: clinic, title: Clinic, start: "${start}", capacity: 5, joinUrl: "https://teams.microsoft.com/l/clinic" }\n`;

  it('put back later with a bad entry, it is not served from that copy: those told it is cancelled are not told it is back on', async () => {
    let file = parseScheduleFile(clinic('2026-12-08 14:00'));
    const a = await officeHoursInstance({ schedule: liveSchedule(() => file, () => sampleRollout, 'schedule') }); // Mon 30 Nov 2026
    await a.reminders.run(a.clock.now());
    expect(await a.service.book(mercy, 'clinic|2026-12-08T14:00', '')).toMatchObject({ kind: 'booked' });
    file = parseScheduleFile('zone: Africa/Lusaka\nsessions: []\n');
    expect((await a.reminders.run(a.clock.now())).notices).toBe(1);
    // An instance still on the older file keeps the session again.
    const older = parseScheduleFile(clinic('2026-12-08 14:00'));
    const c = await officeHoursInstance({ tables: a.tables, clock: a.clock, schedule: liveSchedule(() => older, () => sampleRollout, 'schedule') });
    await c.service.keepServed();
    await a.reminders.run(a.clock.now());
    a.outbox.clear();
    file = parseScheduleFile(clinic('2026-12-08 25:00'));
    await a.reminders.run(a.clock.now());
    expect(sentTo(a, mercy)).toEqual([]);
    expect((await a.service.upcoming(mercy)).offers.map((o) => o.occurrence.id)).not.toContain('clinic|2026-12-08T14:00');
  });
});
