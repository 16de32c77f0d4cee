import { RRule } from './rrule.js';

/**
 * A rule with no date at all (BYMONTH=2;BYMONTHDAY=30, BYYEARDAY=366;BYMONTH=2, BYSETPOS past the set…)
 * makes rrule search every year to 9999 whatever UNTIL is: seconds of the one thread that answers everyone's
 * turns. Rules are checked here before they are ever run open-ended.
 */

/** A repeat must have a date this soon after its start: 29 February comes at most 8 years apart (2096, 2104). */
export const HORIZON_YEARS = 8;
/** rrule looks for a rule's next date up to the end of this year, whatever UNTIL is. */
const RRULE_LAST_YEAR = 9999;

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const utc = (y: number, month: number, day: number, hh = 0, mm = 0) => {
  const d = new Date(0);
  d.setUTCFullYear(y, month - 1, day);
  d.setUTCHours(hh, mm);
  return d;
};
/** A year's calendar is fixed by whether it is leap and the weekday of 1 January. */
const yearShape = (y: number) => `${isLeap(y) ? 'L' : 'C'}${utc(y, 1, 1).getUTCDay()}`;

/**
 * Whether the rule (its RRULE parts, without DTSTART) has a date in the HORIZON_YEARS from `start`
 * (YYYY-MM-DD, optionally with THH:mm). The rule is run from the latest years before 9999 whose calendars are
 * those of the years from `start` (same leap years and weekdays, hence the same days, ISO weeks and
 * intervals): its search then ends within about 36 years of calendar, or at most 408 (the Gregorian calendar
 * repeats every 400 years), instead of thousands. BYEASTER moves on a cycle of its own: refuse it first.
 */
export function hasDateWithin(rule: string, start: string): boolean {
  const [date = '', time = '00:00'] = start.split('T');
  const [y, month, day] = date.split('-').map(Number) as [number, number, number];
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  const shapes = (from: number) => Array.from({ length: HORIZON_YEARS + 1 }, (_, i) => yearShape(from + i)).join();
  const want = shapes(y);
  let twin = RRULE_LAST_YEAR - HORIZON_YEARS;
  while (shapes(twin) !== want) twin--; // found within 400 years
  const found = new RRule({
    ...RRule.parseString(rule),
    dtstart: utc(twin, month, day, hh, mm),
    until: utc(twin + HORIZON_YEARS, month, day, 23, 59),
    count: undefined,
  }).all((_date, i) => i < 1);
  return found.length > 0;
}

/** Whether the parsed rule asks for Easter-relative dates, which hasDateWithin cannot check. */
export function usesEaster(options: { byeaster?: number | null }): boolean {
  return options.byeaster !== undefined && options.byeaster !== null;
}
