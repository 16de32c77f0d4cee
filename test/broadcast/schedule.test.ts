import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/broadcast/plan.js';
import { allOccurrences, occurrencesBetween } from '../../src/broadcast/schedule.js';
import type { Rollout } from '../../src/rollout/model.js';

/** Two waves in zones that change their clocks on different dates (Europe: 28 Mar 2027, US: 14 Mar 2027). */
const rollout: Rollout = {
  cohorts: [
    { id: 'london', name: 'London wave', goLive: '2027-04-05', zone: 'Europe/London' },
    { id: 'chicago', name: 'Chicago wave', goLive: '2027-03-15', zone: 'America/Chicago' },
  ],
  groups: [],
  members: [],
  problems: [],
};

const plan = (audience: string, when: string) =>
  parsePlan(
    `messages:
  - id: m
    stage: launch
    title: T
    body: B
    audience: ${audience}
    when: ${when}
`,
    rollout,
  );

const utc = (d: Date) => d.toISOString().slice(0, 16);

describe('schedules across a daylight-saving change', () => {
  it('times a go-live-relative message for each cohort on its own date, at the same local time either side of the change', () => {
    const p = plan('{ cohort: all }', 'golive-14d 09:00');
    const occ = allOccurrences(p.messages[0]!, p, rollout);
    // London: 22 Mar 2027 is before BST (09:00 = 09:00 UTC); Chicago: 1 Mar 2027 is before CDT (09:00 = 15:00 UTC).
    expect(occ.map((o) => [o.cohortId, utc(o.at)])).toEqual([
      ['chicago', '2027-03-01T15:00'],
      ['london', '2027-03-22T09:00'],
    ]);
    const onTheDay = plan('{ cohort: all }', 'golive 09:00');
    // On go-live day both are past their change: London 09:00 BST = 08:00 UTC, Chicago 09:00 CDT = 14:00 UTC.
    expect(allOccurrences(onTheDay.messages[0]!, onTheDay, rollout).map((o) => [o.cohortId, utc(o.at)])).toEqual([
      ['chicago', '2027-03-15T14:00'],
      ['london', '2027-04-05T08:00'],
    ]);
  });

  it('keeps a weekly message at 09:00 local through the change, until go-live + N weeks', () => {
    const p = plan('{ cohort: london }', '{ every: "FREQ=WEEKLY;BYDAY=MO", at: "09:00", from: golive-3w, until: golive+1w }');
    const occ = allOccurrences(p.messages[0]!, p, rollout);
    expect(occ.map((o) => utc(o.at))).toEqual([
      '2027-03-15T09:00', // GMT
      '2027-03-22T09:00', // GMT
      '2027-03-29T08:00', // BST from 28 March
      '2027-04-05T08:00',
      '2027-04-12T08:00',
    ]);
    expect(new Set(occ.map((o) => o.key)).size).toBe(occ.length);
  });

  it('a time that does not exist on the day of the change moves forward by the gap; absolute times keep their zone', () => {
    // 01:30 on 28 Mar 2027 does not exist in London (01:00 → 02:00): it goes at 02:30 BST = 01:30 UTC.
    const gap = plan('champions', '2027-03-28 01:30 Europe/London');
    expect(utc(allOccurrences(gap.messages[0]!, gap, rollout)[0]!.at)).toBe('2027-03-28T01:30');
    const window = occurrencesBetween(gap.messages[0]!, gap, rollout, new Date('2027-03-28T01:29:00Z'), new Date('2027-03-28T01:31:00Z'));
    expect(window).toHaveLength(1);
  });

  it('a recurrence with a COUNT stops there; a manual message has no times', () => {
    const p = plan('champions', '{ every: "FREQ=DAILY;COUNT=3", at: "07:00", from: 2027-03-27, until: 2027-04-30, zone: Europe/London }');
    expect(allOccurrences(p.messages[0]!, p, rollout).map((o) => utc(o.at))).toEqual([
      '2027-03-27T07:00',
      '2027-03-28T06:00',
      '2027-03-29T06:00',
    ]);
    const manual = plan('champions', 'manual');
    expect(allOccurrences(manual.messages[0]!, manual, rollout)).toEqual([]);
  });
});

describe('a repeat from go-live whose days never exist', () => {
  const text = (cohorts: Rollout['cohorts']) => () =>
    parsePlan(
      `messages:
  - id: leap
    stage: adoption
    title: T
    body: B
    audience: { cohort: all }
    when: { every: "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", at: "09:00", from: golive, until: golive+52w }
`,
      { ...rollout, cohorts },
    );

  // Without the bounded check rrule searches every day to the year 9999 (seconds): vitest's test timeout fails it.
  it('is refused at load, checked from each cohort’s go-live; loaded before there were cohorts, it has no dates (no search to 9999)', () => {
    expect(text(rollout.cohorts)).toThrow(/messages\[0\] \(leap\)\.when\.every: has no date in the 8 years from 2027-04-05/);
    const p = text([])();
    expect(allOccurrences(p.messages[0]!, p, rollout)).toEqual([]);
  });
});
