import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { PersonBooking } from '../../src/officehours/bookings.js';
import { spanIn } from '../../src/officehours/display.js';
import { allOccurrences, offeredTo, trainingTimeline, unbookable } from '../../src/officehours/rules.js';
import { buildSchedule, parseScheduleFile } from '../../src/officehours/schedule.js';
import { parseRollout } from '../../src/rollout/model.js';

const rollout = parseRollout(readFileSync('sample/rollout.yaml', 'utf8'));
const schedule = buildSchedule(parseScheduleFile(readFileSync('sample/office-hours.yaml', 'utf8')), rollout);
const group = (id: string) => rollout.groups.find((g) => g.id === id)!;
const cohort = (id: string) => rollout.cohorts.find((c) => c.id === id)!;
const fieldOfficerWaveB = { groups: [group('field-officers')], cohort: cohort('wave-b') };
const session = (id: string) => schedule.sessions.find((s) => s.id === id)!;

describe('who is offered what', () => {
  it('office hours to everyone, a cohort\'s drop-in to that cohort, training to its group (hosts see all)', () => {
    const waveA = { groups: [group('field-officers')], cohort: cohort('wave-a') };
    expect(offeredTo(session('office-hours'), { groups: [] }, 'staff')).toBe(true);
    expect(offeredTo(session('go-live-drop-in-wave-b'), fieldOfficerWaveB, 'staff')).toBe(true);
    expect(offeredTo(session('go-live-drop-in-wave-b'), waveA, 'staff')).toBe(false);
    expect(offeredTo(session('fl202-visits-wave-b'), fieldOfficerWaveB, 'staff')).toBe(true);
    expect(offeredTo(session('fl202-visits-wave-b'), waveA, 'staff')).toBe(false);
    expect(offeredTo(session('fl201-reporting-wave-b'), fieldOfficerWaveB, 'staff')).toBe(false);
    expect(offeredTo(session('fl201-reporting-wave-b'), { groups: [] }, 'champion')).toBe(true);
  });
});

describe('a field officer\'s training timeline (Wave B, go-live 1 Feb 2027)', () => {
  const at = (iso: string) => new Date(iso);
  const line = (items: ReturnType<typeof trainingTimeline>) =>
    items.map((i) => `${i.course} ${i.status}${i.occurrence ? ` ${spanIn(i.occurrence, 'Africa/Lusaka')}` : ''}${i.nextChance ? ` → ${spanIn(i.nextChance, 'Africa/Lusaka')}` : ''}`);

  it('before it starts: each course with its first session next', () => {
    expect(line(trainingTimeline(schedule, fieldOfficerWaveB, [], at('2027-01-10T08:00:00Z')))).toEqual([
      'FL-202-1 next Mon 18 Jan 2027, 09:00–11:00',
      'FL-202-2 next Wed 20 Jan 2027, 09:00–11:00',
      'FL-202-3 next Fri 22 Jan 2027, 09:00–11:00',
    ]);
  });

  it('midway: attended, missed with the next chance to catch up, booked', () => {
    const mine: PersonBooking[] = [
      { occurrenceId: 'fl202-visits-wave-b|2027-01-18T09:00', bookingId: 'B-AAAAAAAA', status: 'booked', start: '2027-01-18T07:00:00.000Z', attended: true },
      { occurrenceId: 'fl202-offline-wave-b|2027-01-20T09:00', bookingId: 'B-BBBBBBBB', status: 'booked', start: '2027-01-20T07:00:00.000Z', attended: false },
      { occurrenceId: 'fl202-outreach-wave-b|2027-01-22T09:00', bookingId: 'B-CCCCCCCC', status: 'booked', start: '2027-01-22T07:00:00.000Z' },
    ];
    expect(line(trainingTimeline(schedule, fieldOfficerWaveB, mine, at('2027-01-21T08:00:00Z')))).toEqual([
      'FL-202-1 attended Mon 18 Jan 2027, 09:00–11:00',
      'FL-202-2 missed Wed 20 Jan 2027, 09:00–11:00 → Wed 27 Jan 2027, 09:00–11:00',
      'FL-202-3 booked Fri 22 Jan 2027, 09:00–11:00',
    ]);
  });

  it('after the last chance: a missed course says there is none left', () => {
    const items = trainingTimeline(schedule, fieldOfficerWaveB, [], at('2027-02-05T08:00:00Z'));
    expect(items.map((i) => [i.course, i.status, i.nextChance])).toEqual([
      ['FL-202-1', 'missed', undefined],
      ['FL-202-2', 'missed', undefined],
      ['FL-202-3', 'missed', undefined],
    ]);
  });

  it('someone in no group has no timeline', () => {
    expect(trainingTimeline(schedule, { groups: [] }, [], at('2027-01-10T08:00:00Z'))).toEqual([]);
  });
});

describe('booking a session that has already started', () => {
  const started = (joinUrl: string) => {
    const o = allOccurrences(buildSchedule(parseScheduleFile(`zone: Africa/Lusaka\nsessions:\n  - { id: clinic, title: Clinic, start: "2026-12-08 14:00", capacity: 5, joinUrl: "https://teams.microsoft.com/l/c" }\n`), rollout), new Date('2026-12-01T00:00:00Z'), new Date('2026-12-31T00:00:00Z'))[0]!;
    return unbookable({ ...o, session: { ...o.session, joinUrl } }, new Date('2026-12-08T12:10:00Z'));
  };
  it('points to the join link only when the session has one', () => {
    expect(started('https://teams.microsoft.com/l/c')).toBe('This session has already started: join it with the link instead.');
    expect(started('')).toBe('This session has already started.');
  });
});
