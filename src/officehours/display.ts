import { DateTime } from 'luxon';
import { people } from '../text/count.js';
import type { Occurrence } from './model.js';

/** How times (and counts) read to a person: in their own zone, named, in one format across cards and messages. */

/** "Tue 2 Mar 2027, 08:00" in `zone`. */
export function dateTimeIn(at: Date, zone: string): string {
  return DateTime.fromJSDate(at, { zone }).setLocale('en-US').toFormat('ccc d LLL yyyy, HH:mm');
}

/** "Tue 2 Mar 2027, 08:00–09:30" (the end's day too when the session runs past midnight). */
export function spanIn(o: Pick<Occurrence, 'start' | 'end'>, zone: string): string {
  const start = DateTime.fromJSDate(o.start, { zone }).setLocale('en-US');
  const end = DateTime.fromJSDate(o.end, { zone }).setLocale('en-US');
  const endText = start.hasSame(end, 'day') ? end.toFormat('HH:mm') : end.toFormat('ccc d LLL, HH:mm');
  return `${start.toFormat('ccc d LLL yyyy, HH:mm')}–${endText}`;
}

/** "America/New_York (EDT)": the zone's name, with its abbreviation at that moment. */
export function zoneLabel(zone: string, at: Date): string {
  const short = DateTime.fromJSDate(at, { zone }).setLocale('en-US').toFormat('ZZZZ');
  return short && short !== zone && !/^GMT[+-]/.test(short) ? `${zone} (${short})` : zone;
}

/** Of a session cancelled or moved, who was told: "1 person booked was told", "1,204 people booked were told". */
export function bookedTold(told: number): string {
  return told === 1 ? '1 person booked was told' : `${people(told)} booked were told`;
}

/**
 * Of a session cancelled or moved whose notice could not be queued: that those booked (`booked` of them, when the
 * count could be read) hear of it with the next scheduled pass.
 */
export function bookedToldLater(booked: number | undefined, move: boolean): string {
  const who = booked === undefined ? 'Those booked' : `The ${people(booked)} booked`;
  return `${who} could not be told just now; the notice${move ? ', with an updated calendar entry,' : ''} goes out with the next scheduled pass, in a few minutes.`;
}
