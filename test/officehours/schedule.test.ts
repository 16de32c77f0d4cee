import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { spanIn } from '../../src/officehours/display.js';
import { occurrencesBetween } from '../../src/officehours/recurrence.js';
import { buildSchedule, checkSession, parseScheduleFile, ScheduleFileError } from '../../src/officehours/schedule.js';
import { parseRollout } from '../../src/rollout/model.js';
import { HELD, HELD_AS_WAS } from './problems.js';

const rollout = parseRollout(readFileSync('sample/rollout.yaml', 'utf8'));
const sample = () => buildSchedule(parseScheduleFile(readFileSync('sample/office-hours.yaml', 'utf8'), 'office-hours.yaml'), rollout, 'office-hours.yaml');

const entry = (over: Record<string, unknown>) => ({
  id: 'oh',
  title: 'Office hours',
  start: '2027-01-05 14:00',
  rule: 'FREQ=WEEKLY;BYDAY=TU',
  capacity: 10,
  joinUrl: 'https://teams.microsoft.com/l/meetup-join/x',
  ...over,
});
const build = (...entries: Record<string, unknown>[]) => buildSchedule({ zone: 'Africa/Lusaka', entries }, rollout, 'office-hours.yaml');

describe('the sample schedule', () => {
  it('loads whole: office hours, the deadline clinic, go-live drop-ins and each group\'s training', () => {
    const s = sample();
    expect(s.problems).toEqual([]);
    expect(s.zone).toBe('Africa/Lusaka');
    expect(s.sessions.filter((x) => x.kind === 'training').map((x) => `${x.group}/${x.cohort}`)).toContain('field-officers/wave-b');
  });

  it('times Wave B field officers\' training in the two weeks before their go-live (1 Feb 2027), each with a second chance', () => {
    const s = sample();
    const fieldB = s.sessions.filter((x) => x.group === 'field-officers' && x.cohort === 'wave-b');
    const all = fieldB
      .flatMap((x) => occurrencesBetween(x, new Date('2027-01-01T00:00:00Z'), new Date('2027-02-01T00:00:00Z')))
      .sort((a, b) => a.start.getTime() - b.start.getTime());
    expect(all.map((o) => `${o.session.course} ${spanIn(o, 'Africa/Lusaka')}`)).toEqual([
      'FL-202-1 Mon 18 Jan 2027, 09:00–11:00',
      'FL-202-2 Wed 20 Jan 2027, 09:00–11:00',
      'FL-202-3 Fri 22 Jan 2027, 09:00–11:00',
      'FL-202-1 Mon 25 Jan 2027, 09:00–11:00',
      'FL-202-2 Wed 27 Jan 2027, 09:00–11:00',
      'FL-202-3 Fri 29 Jan 2027, 09:00–11:00',
    ]);
  });

  it('applies the file\'s changes: Christmas Eve cancelled, the annual-review Tuesday moved to Wednesday', () => {
    const oh = sample().sessions.find((x) => x.id === 'office-hours')!;
    const dec = occurrencesBetween(oh, new Date('2026-12-21T00:00:00Z'), new Date('2026-12-26T00:00:00Z'));
    expect(dec.map((o) => [o.key, o.status, o.reason])).toEqual([
      ['2026-12-22T14:00', 'scheduled', undefined],
      ['2026-12-24T14:00', 'cancelled', 'Christmas Eve (public holiday)'],
    ]);
    const march = occurrencesBetween(oh, new Date('2027-03-08T00:00:00Z'), new Date('2027-03-12T00:00:00Z'));
    expect(march.map((o) => [o.key, spanIn(o, 'Africa/Lusaka')])).toEqual([
      ['2027-03-09T14:00', 'Wed 10 Mar 2027, 14:00–15:30'],
      ['2027-03-11T14:00', 'Thu 11 Mar 2027, 14:00–15:30'],
    ]);
  });
});

describe('bad entries in the schedule file', () => {
  it('an invalid rule, zone or date is named with the session and field; the rest is still served', () => {
    const s = build(
      entry({ id: 'good' }),
      entry({ id: 'bad-rule', rule: 'FREQ=WEEKY;BYDAY=TU' }),
      entry({ id: 'bad-day', rule: 'FREQ=WEEKLY;BYDAY=TX' }),
      entry({ id: 'bad-zone', zone: 'Europe/Berlinn' }),
      entry({ id: 'bad-date', start: '2027-02-30 14:00' }),
      entry({ id: 'bad-time', start: '2027-02-03 25:00' }),
      entry({ id: 'no-cohort', start: 'golive-3d 09:00' }),
    );
    expect(s.sessions.map((x) => x.id)).toEqual(['good']);
    // Each still names its session: held as it was, not taken as removed.
    expect(s.onHold).toEqual(['bad-rule', 'bad-day', 'bad-zone', 'bad-date', 'bad-time', 'no-cohort']);
    expect(s.problems).toEqual([
      `office-hours.yaml: sessions[1] (bad-rule).rule: rule "FREQ=WEEKY;BYDAY=TU" needs FREQ=DAILY, WEEKLY, MONTHLY or YEARLY; ${HELD}`,
      `office-hours.yaml: sessions[2] (bad-day).rule: rule "FREQ=WEEKLY;BYDAY=TX" has a BYDAY that is not MO, TU, WE, TH, FR, SA or SU; ${HELD}`,
      `office-hours.yaml: sessions[3] (bad-zone).zone: "Europe/Berlinn" is not a time zone; use an IANA name such as Africa/Nairobi; ${HELD}`,
      `office-hours.yaml: sessions[4] (bad-date).start: "2027-02-30 14:00" is not a start; write "2026-12-08 14:00" or "golive-14d 09:00"; ${HELD}`,
      `office-hours.yaml: sessions[5] (bad-time).start: "2027-02-03 25:00" is not a start; write "2026-12-08 14:00" or "golive-14d 09:00"; ${HELD}`,
      `office-hours.yaml: sessions[6] (no-cohort).start: "golive-3d 09:00" is relative to a go-live: the session needs a cohort; ${HELD}`,
    ]);
  });

  it('so is one whose length, seats, kind or audience is bad; one whose id can\'t be read names no session, and is left out', () => {
    const s = build(
      entry({ id: 'minutes', minutes: 'ninety' }),
      entry({ id: 'capacity', capacity: 0 }),
      entry({ id: 'kind', kind: 'trainig' }),
      entry({ id: 'cohort', cohort: 'wave-z' }),
      entry({ id: 'group', kind: 'training', group: 'cooks' }),
      entry({ id: 'Bad Id', start: 'soon' }),
    );
    expect(s.sessions).toEqual([]);
    expect(s.onHold).toEqual(['minutes', 'capacity', 'kind', 'cohort', 'group']);
    expect(s.problems.slice(0, 5).every((p) => p.endsWith(`; ${HELD}`))).toBe(true);
    expect(s.problems.slice(5)).toEqual([
      'office-hours.yaml: sessions[5] (Bad Id).id: must be 1–60 lower-case letters, digits or dashes; left out, the rest of the schedule is served',
    ]);
  });

  it('one that turns bad after a good load is served as it last was (no new bookings); the warning says so', () => {
    const before = build(entry({}), entry({ id: 'other' }));
    const s = buildSchedule({ zone: 'Africa/Lusaka', entries: [entry({ start: '2027-01-05 2pm', capacity: 3 }), entry({ id: 'other' })] }, rollout, 'office-hours.yaml', before);
    expect(s.sessions.find((x) => x.id === 'oh')).toEqual(before.sessions.find((x) => x.id === 'oh'));
    expect(s.heldAsWas).toEqual(['oh']);
    expect(s.onHold).toEqual([]);
    expect(s.problems).toEqual([`office-hours.yaml: sessions[0] (oh).start: "2027-01-05 2pm" is not a start; write "2026-12-08 14:00" or "golive-14d 09:00"; ${HELD_AS_WAS}`]);
    // Still bad at the next reload: still as it last was good; fixed, served as the file says.
    const again = buildSchedule({ zone: 'Africa/Lusaka', entries: [entry({ start: '2027-01-05 2pm' })] }, rollout, 'office-hours.yaml', s);
    expect(again.sessions).toEqual(before.sessions.filter((x) => x.id === 'oh'));
    const fixed = buildSchedule({ zone: 'Africa/Lusaka', entries: [entry({ capacity: 3 })] }, rollout, 'office-hours.yaml', again);
    expect([fixed.heldAsWas, fixed.sessions.map((x) => x.capacity)]).toEqual([[], [3]]);
  });

  it('a bad second entry of a session served from another entry is only left out: the session is served, not held', () => {
    const bad = entry({ start: 'soon' });
    for (const s of [build(entry({}), bad), build(bad, entry({}))]) {
      expect(s.sessions.map((x) => x.id)).toEqual(['oh']);
      expect(s.onHold).toEqual([]);
      expect(s.problems.find((p) => p.includes('"soon"'))).toMatch(/; left out, the rest of the schedule is served$/);
    }
  });

  it('a rule with no date at all is named at once, not searched for to the year 9999; rare but real days load', () => {
    const s = build(
      entry({ id: 'feb-30', rule: 'FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30' }),
      entry({ id: 'day-366-feb', rule: 'FREQ=DAILY;BYYEARDAY=366;BYMONTH=2' }),
      entry({ id: 'easter', rule: 'FREQ=YEARLY;BYEASTER=0' }),
      entry({ id: 'leap-day', rule: 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29' }),
      entry({ id: 'month-end', rule: 'FREQ=MONTHLY;BYMONTHDAY=-1' }),
    );
    expect(s.sessions.map((x) => x.id)).toEqual(['leap-day', 'month-end']);
    expect(s.problems).toEqual([
      `office-hours.yaml: sessions[0] (feb-30).rule: rule "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30" gives no date in the 8 years from 2027-01-05; ${HELD}`,
      `office-hours.yaml: sessions[1] (day-366-feb).rule: rule "FREQ=DAILY;BYYEARDAY=366;BYMONTH=2" gives no date in the 8 years from 2027-01-05; ${HELD}`,
      `office-hours.yaml: sessions[2] (easter).rule: rule "FREQ=YEARLY;BYEASTER=0" must not set BYEASTER; ${HELD}`,
    ]);
    // Well inside the test's time: rrule's open-ended search took about 10 s per impossible daily rule here.
  }, 5_000);

  it('a training session needs a known user group; an unknown cohort is named', () => {
    const s = build(
      entry({ id: 't1', kind: 'training' }),
      entry({ id: 't2', kind: 'training', group: 'cooks' }),
      entry({ id: 't3', cohort: 'wave-z' }),
    );
    expect(s.sessions).toEqual([]);
    expect(s.problems).toEqual([
      `office-hours.yaml: sessions[0] (t1).group: a training session needs the user group it is for; ${HELD}`,
      `office-hours.yaml: sessions[1] (t2).group: no user group "cooks" in the rollout file; ${HELD}`,
      `office-hours.yaml: sessions[2] (t3).cohort: no cohort "wave-z" in the rollout file; ${HELD}`,
    ]);
  });

  it('a join link, title, topic or hosts that are bad keep their session, set aside with a warning naming the field, its limit and what was kept', () => {
    const hosts = Array.from({ length: 11 }, (_, i) => ({ id: `h${i}`, name: `Host ${i}` }));
    const s = build(
      entry({ id: 'long-link', joinUrl: `https://teams.microsoft.com/l/meetup-join/${'a'.repeat(2_000)}` }),
      entry({ id: 'http-link', joinUrl: 'http://insecure.example' }),
      entry({ id: 'no-link', joinUrl: undefined }),
      entry({ id: 'long-title', title: `Office hours ${'T'.repeat(200)}` }),
      entry({ id: 'no-title', title: '  ' }),
      entry({ id: 'long-topic', topic: 'x'.repeat(301) }),
      entry({ id: 'many-hosts', hosts }),
      entry({ id: 'bad-host', hosts: [{ id: 'h1', name: 'Host 1' }, { id: 'h2' }] }),
    );
    const by = (id: string) => s.sessions.find((x) => x.id === id);
    expect(s.sessions.map((x) => x.id)).toEqual(['long-link', 'http-link', 'no-link', 'long-title', 'no-title', 'long-topic', 'many-hosts', 'bad-host']);
    expect(['long-link', 'http-link', 'no-link'].map((id) => by(id)?.joinUrl)).toEqual(['', '', '']);
    expect(by('long-title')?.title).toHaveLength(120);
    expect(by('long-title')?.title).toMatch(/^Office hours T+…$/);
    expect(by('no-title')?.title).toBe('no-title');
    expect(by('long-topic')?.topic).toMatch(/^x{299}…$/);
    expect(by('many-hosts')?.hosts).toEqual(hosts.slice(0, 10));
    expect(by('bad-host')?.hosts).toEqual([{ id: 'h1', name: 'Host 1' }]);
    // Still meets as the file says: only the field is set aside.
    expect(by('long-link')).toMatchObject({ start: '2027-01-05T14:00', rule: 'FREQ=WEEKLY;BYDAY=TU', capacity: 10 });
    expect(s.problems).toEqual([
      'office-hours.yaml: sessions[0] (long-link).joinUrl: must be at most 2,000 characters (this one has 2,042); the session is kept without a join link (those booked are shown none until it is fixed)',
      'office-hours.yaml: sessions[1] (http-link).joinUrl: must be an https:// link (the Teams meeting); the session is kept without a join link (those booked are shown none until it is fixed)',
      'office-hours.yaml: sessions[2] (no-link).joinUrl: is missing; the session is kept without a join link (those booked are shown none until it is fixed)',
      'office-hours.yaml: sessions[3] (long-title).title: must be at most 120 characters; the session is kept with it cut to 120 characters',
      'office-hours.yaml: sessions[4] (no-title).title: must not be empty; the session is kept with "no-title" as its title',
      'office-hours.yaml: sessions[5] (long-topic).topic: must be at most 300 characters; the session is kept with it cut to 300 characters',
      'office-hours.yaml: sessions[6] (many-hosts).hosts: at most 10 hosts; the session is kept with the first 10 readable',
      'office-hours.yaml: sessions[7] (bad-host).hosts: 1 host is not readable (each needs an id and a name, at most 100 and 120 characters); the session is kept with the first 1 readable',
    ]);
  });

  it('the add form from Teams still refuses a join link that is not https, naming it (the file keeps its session without one)', () => {
    const checked = checkSession(entry({ joinUrl: 'http://insecure.example' }), 'Africa/Lusaka', rollout, 'teams');
    expect(checked).toEqual({ ok: false, field: 'joinUrl', message: 'must be an https:// link (the Teams meeting)' });
  });

  it('a bad change is named and ignored; its session is kept', () => {
    const s = build(
      entry({
        changes: [
          { date: '2027-01-06', cancel: true },
          { date: '2027-01-12', moveTo: '2027-01-13 25:00' },
          { date: '2027-01-19', cancel: true },
        ],
      }),
    );
    expect(s.sessions[0]?.changes).toEqual([{ key: '2027-01-19T14:00', cancelled: true, version: 1 }]);
    expect(s.problems).toEqual([
      'office-hours.yaml: sessions[0] (oh).changes[0]: date: there is no session on 2027-01-06 at 14:00; this change is ignored',
      'office-hours.yaml: sessions[0] (oh).changes[1]: moveTo: "2027-01-13 25:00" is not a date and time; write YYYY-MM-DD HH:mm; this change is ignored',
    ]);
  });

  it('more than 200 changes: the session is kept (not held, not left out) with the 200 of the latest dates, and the warning names the session, the field, the limit and the dates ignored', () => {
    const tuesday = (i: number) => new Date(Date.parse('2027-01-12') + i * 7 * 86_400_000).toISOString().slice(0, 10);
    // Listed newest first, as a team adding each at the top would: which are kept goes by date, not by place.
    const changes = Array.from({ length: 205 }, (_, i) => ({ date: tuesday(204 - i), cancel: true }));
    const s = build(entry({ changes }), entry({ id: 'other' }));
    expect(s.sessions.map((x) => x.id)).toEqual(['oh', 'other']);
    expect([s.heldAsWas, s.onHold]).toEqual([[], []]);
    const oh = s.sessions[0];
    expect(oh?.changes).toHaveLength(200);
    expect(oh?.changes.map((c) => c.key.slice(0, 10)).sort()[0]).toBe(tuesday(5));
    expect(oh?.changes.some((c) => c.key === `${tuesday(204)}T14:00`)).toBe(true);
    expect(s.problems).toEqual([
      `office-hours.yaml: sessions[0] (oh).changes: at most 200 changes (this one has 205); the 5 of the earliest dates (${tuesday(0)} to ${tuesday(4)}) are ignored and the session is kept with the other 200: take out the changes of dates past`,
    ]);
  });

  it('a move more than a year past the day the occurrence was set for is ignored, naming the session, the date and the limit, as `office hours move` refuses it', () => {
    const s = build(
      entry({
        changes: [
          { date: '2027-01-12', moveTo: '2028-01-14 14:00' },
          { date: '2027-01-19', moveTo: '2028-01-20 09:00' },
        ],
      }),
    );
    expect(s.sessions[0]?.changes).toEqual([{ key: '2027-01-19T14:00', moveTo: '2028-01-20T09:00', version: 1 }]);
    expect(s.problems).toEqual([
      'office-hours.yaml: sessions[0] (oh).changes[0]: moveTo: "2028-01-14 14:00" is more than a year past 2027-01-12: a session can be moved up to 2028-01-13 at the latest (366 days on); this change is ignored',
    ]);
  });

  it('a file that is not YAML, or names an unknown time zone for the whole schedule, is refused as a whole', () => {
    expect(() => parseScheduleFile('sessions: [', 'office-hours.yaml')).toThrow(ScheduleFileError);
    expect(() => parseScheduleFile('zone: Mars/Olympus\nsessions: []', 'office-hours.yaml')).toThrow(/office-hours\.yaml: zone: "Mars\/Olympus" is not a time zone/);
  });
});
