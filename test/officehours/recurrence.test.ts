import { describe, expect, it } from 'vitest';
import { dateTimeIn, spanIn } from '../../src/officehours/display.js';
import type { Session } from '../../src/officehours/model.js';
import { localToInstant, occurrencesBetween } from '../../src/officehours/recurrence.js';

const session = (over: Partial<Session> = {}): Session => ({
  id: 'berlin-weekly',
  kind: 'office-hours',
  title: 'Office hours',
  start: '2027-01-05T14:00',
  rule: 'FREQ=WEEKLY;BYDAY=TU',
  zone: 'Europe/Berlin',
  minutes: 60,
  capacity: 10,
  joinUrl: 'https://teams.example/join',
  hosts: [],
  changes: [],
  source: 'file',
  ...over,
});

const on = (s: Session, day: string) => {
  const found = occurrencesBetween(s, new Date(`${day}T00:00:00Z`), new Date(`${day}T23:59:59Z`));
  expect(found, `one session on ${day}`).toHaveLength(1);
  return found[0]!;
};

describe('a weekly 14:00 Europe/Berlin session, seen from other zones across the DST changes of 2027', () => {
  // EU clocks change 28 Mar and 31 Oct; US 14 Mar and 7 Nov; New Zealand 4 Apr (back) and 26 Sep (forward).
  const cases: [day: string, utc: string, newYork: string, kolkata: string, auckland: string][] = [
    ['2027-03-02', '2027-03-02T13:00:00.000Z', 'Tue 2 Mar 2027, 08:00–09:00', 'Tue 2 Mar 2027, 18:30–19:30', 'Wed 3 Mar 2027, 02:00–03:00'],
    ['2027-03-16', '2027-03-16T13:00:00.000Z', 'Tue 16 Mar 2027, 09:00–10:00', 'Tue 16 Mar 2027, 18:30–19:30', 'Wed 17 Mar 2027, 02:00–03:00'],
    ['2027-03-30', '2027-03-30T12:00:00.000Z', 'Tue 30 Mar 2027, 08:00–09:00', 'Tue 30 Mar 2027, 17:30–18:30', 'Wed 31 Mar 2027, 01:00–02:00'],
    ['2027-04-06', '2027-04-06T12:00:00.000Z', 'Tue 6 Apr 2027, 08:00–09:00', 'Tue 6 Apr 2027, 17:30–18:30', 'Wed 7 Apr 2027, 00:00–01:00'],
    ['2027-09-28', '2027-09-28T12:00:00.000Z', 'Tue 28 Sep 2027, 08:00–09:00', 'Tue 28 Sep 2027, 17:30–18:30', 'Wed 29 Sep 2027, 01:00–02:00'],
    ['2027-11-02', '2027-11-02T13:00:00.000Z', 'Tue 2 Nov 2027, 09:00–10:00', 'Tue 2 Nov 2027, 18:30–19:30', 'Wed 3 Nov 2027, 02:00–03:00'],
    ['2027-11-09', '2027-11-09T13:00:00.000Z', 'Tue 9 Nov 2027, 08:00–09:00', 'Tue 9 Nov 2027, 18:30–19:30', 'Wed 10 Nov 2027, 02:00–03:00'],
  ];
  for (const [day, utc, ny, kol, akl] of cases) {
    it(`${day}: 14:00 in Berlin; New York, Kolkata and Auckland see their own time`, () => {
      const o = on(session(), day);
      expect(o.start.toISOString()).toBe(utc);
      expect(spanIn(o, 'Europe/Berlin')).toMatch(/, 14:00–15:00$/);
      expect(spanIn(o, 'America/New_York')).toBe(ny);
      expect(spanIn(o, 'Asia/Kolkata')).toBe(kol);
      expect(spanIn(o, 'Pacific/Auckland')).toBe(akl);
    });
  }

  it('keeps one session a week all year, none lost or doubled at a change', () => {
    const all = occurrencesBetween(session(), new Date('2027-01-01T00:00:00Z'), new Date('2028-01-01T00:00:00Z'));
    expect(all).toHaveLength(52);
    expect(new Set(all.map((o) => dateTimeIn(o.start, 'Europe/Berlin').slice(-5)))).toEqual(new Set(['14:00']));
  });
});

describe('changes to one occurrence', () => {
  it('an occurrence moved across the spring DST change keeps its id, is found at its new time, and is gone from the old one', () => {
    const s = session({ changes: [{ key: '2027-03-23T14:00', moveTo: '2027-03-29T10:00', reason: 'Holiday', version: 1 }] });
    expect(occurrencesBetween(s, new Date('2027-03-23T00:00:00Z'), new Date('2027-03-24T00:00:00Z'))).toEqual([]);
    const moved = on(s, '2027-03-29');
    expect(moved.id).toBe('berlin-weekly|2027-03-23T14:00');
    expect(moved.start.toISOString()).toBe('2027-03-29T08:00:00.000Z'); // 10:00 summer time
    expect(moved.movedFrom?.toISOString()).toBe('2027-03-23T13:00:00.000Z'); // 14:00 winter time
    expect(moved.sequence).toBe(1);
    expect(spanIn(moved, 'America/New_York')).toBe('Mon 29 Mar 2027, 04:00–05:00');
    // The rest of the series is untouched.
    expect(on(s, '2027-03-30').start.toISOString()).toBe('2027-03-30T12:00:00.000Z');
  });

  it('a cancelled occurrence is still listed, marked cancelled, so those booked can be told', () => {
    const s = session({ changes: [{ key: '2027-03-16T14:00', cancelled: true, version: 1 }] });
    expect(on(s, '2027-03-16').status).toBe('cancelled');
    expect(on(s, '2027-03-09').status).toBe('scheduled');
  });
});

describe('local times that a DST change skips or repeats', () => {
  it('a session at 02:30 on the spring-forward day happens once, at 03:30 summer time (RFC 5545: the offset before the gap)', () => {
    const daily = session({ start: '2027-03-26T02:30', rule: 'FREQ=DAILY;COUNT=4' });
    const all = occurrencesBetween(daily, new Date('2027-03-25T00:00:00Z'), new Date('2027-04-01T00:00:00Z'));
    expect(all.map((o) => o.start.toISOString())).toEqual([
      '2027-03-26T01:30:00.000Z',
      '2027-03-27T01:30:00.000Z',
      '2027-03-28T01:30:00.000Z',
      '2027-03-29T00:30:00.000Z',
    ]);
    expect(all.map((o) => dateTimeIn(o.start, 'Europe/Berlin'))).toEqual([
      'Fri 26 Mar 2027, 02:30',
      'Sat 27 Mar 2027, 02:30',
      'Sun 28 Mar 2027, 03:30',
      'Mon 29 Mar 2027, 02:30',
    ]);
    const oneOff = session({ start: '2027-03-28T02:30', rule: undefined });
    expect(on(oneOff, '2027-03-28').start.toISOString()).toBe('2027-03-28T01:30:00.000Z');
  });

  it('02:30 on the fall-back day, which happens twice, is the first of the two', () => {
    expect(localToInstant('2027-10-31T02:30', 'Europe/Berlin').toISOString()).toBe('2027-10-31T00:30:00.000Z');
  });
});
