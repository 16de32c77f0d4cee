import { DateTime } from 'luxon';
import { HORIZON_YEARS, hasDateWithin, usesEaster } from '../recurrence/horizon.js';
import { RRule } from '../recurrence/rrule.js';
import type { Occurrence, OccurrenceChange, Session } from './model.js';

/**
 * Occurrences of a session between two instants. The rule runs in the session's local wall-clock time
 * (rrule over "floating" date-times), and each local start is then placed in the session's zone by luxon,
 * so a weekly 14:00 stays 14:00 local across DST changes. A local time that a spring-forward skips is read
 * with the offset before the gap (02:30 → 03:30 summer time, RFC 5545 §3.3.5); one a fall-back repeats is
 * the first of the two.
 */

const ALLOWED_FREQ = new Set([RRule.YEARLY, RRule.MONTHLY, RRule.WEEKLY, RRule.DAILY]);

/** A wall-clock date-time `YYYY-MM-DDTHH:mm` in `zone` → the instant it names. */
export function localToInstant(local: string, zone: string): Date {
  const dt = DateTime.fromISO(local, { zone });
  const candidates = dt.getPossibleOffsets();
  const first = candidates.length ? candidates.reduce((a, b) => (a.toMillis() <= b.toMillis() ? a : b)) : dt;
  return first.toJSDate();
}

/** An instant → its wall-clock date-time `YYYY-MM-DDTHH:mm` in `zone`. */
export function instantToLocal(at: Date, zone: string): string {
  return DateTime.fromJSDate(at, { zone }).toFormat("yyyy-MM-dd'T'HH:mm");
}

/** Local date-times carried as UTC dates: rrule does its calendar walk with no zone in the way. */
function floating(local: string): Date {
  return DateTime.fromISO(local, { zone: 'utc' }).toJSDate();
}
function fromFloating(d: Date): string {
  return DateTime.fromJSDate(d, { zone: 'utc' }).toFormat("yyyy-MM-dd'T'HH:mm");
}

/** Checks a rule as written in the file or on the form; a message saying what is wrong, or undefined. */
export function ruleProblem(rule: string, start: string): string | undefined {
  if (/DTSTART|TZID|RRULE:/i.test(rule)) return `rule "${rule}" must be only the RRULE's parts (the first start goes in start)`;
  let options: ReturnType<typeof RRule.parseString>;
  try {
    options = RRule.parseString(rule);
  } catch (err) {
    return `rule "${rule}" is not an RFC 5545 recurrence rule (${(err as Error).message})`;
  }
  if (options.freq === undefined || !ALLOWED_FREQ.has(options.freq)) {
    return `rule "${rule}" needs FREQ=DAILY, WEEKLY, MONTHLY or YEARLY`;
  }
  const weekdays = Array.isArray(options.byweekday) ? options.byweekday : options.byweekday ? [options.byweekday] : [];
  if (weekdays.some((d) => d === undefined)) return `rule "${rule}" has a BYDAY that is not MO, TU, WE, TH, FR, SA or SU`;
  for (const key of ['interval', 'count'] as const) {
    const v = options[key];
    if (v !== undefined && v !== null && !(Number.isInteger(v) && Number(v) > 0)) return `rule "${rule}" has a ${key.toUpperCase()} that is not a positive whole number`;
  }
  if (usesEaster(options)) return `rule "${rule}" must not set BYEASTER`;
  try {
    // Bounded: an open-ended search for a rule with no date (BYMONTH=2;BYMONTHDAY=30) runs to the year 9999.
    if (!hasDateWithin(rule, start)) return `rule "${rule}" gives no date in the ${HORIZON_YEARS} years from ${start.slice(0, 10)}`;
  } catch (err) {
    return `rule "${rule}" is not an RFC 5545 recurrence rule (${(err as Error).message})`;
  }
  return undefined;
}

const rules = new Map<string, RRule>();
function ruleFor(session: Session): RRule {
  const cacheKey = `${session.rule}|${session.start}`;
  let r = rules.get(cacheKey);
  if (!r) {
    r = new RRule({ ...RRule.parseString(session.rule ?? ''), dtstart: floating(session.start) });
    if (rules.size > 2000) rules.clear();
    rules.set(cacheKey, r);
  }
  return r;
}

/** Whether `key` (a local start) is one of the session's own occurrences (before any move). */
export function isOccurrenceKey(session: Session, key: string): boolean {
  if (!session.rule) return key === session.start;
  const at = floating(key);
  // A day or hour that does not exist (a forged card's "2026-02-30T14:00"): rrule throws on an invalid date.
  if (Number.isNaN(at.getTime())) return false;
  return ruleFor(session).between(at, at, true).length > 0;
}

/** A day of widening on each side: a local day and a UTC day differ by up to 14 hours. */
const SLACK_MS = 36 * 3600_000;
/**
 * The instants a window is kept within: a typed "9999-12-31" widened by a day is the year 10000, which has no
 * `YYYY-MM-DD` form, and rrule throws on the invalid date it becomes.
 */
const EARLIEST_MS = Date.UTC(1000, 0, 1);
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59);

/**
 * Occurrences starting in [from, to), with `changes` applied (later in the list wins for the same key).
 * Cancelled ones are included (marked), so people booked on them can be told; moved ones appear at their
 * new start.
 */
export function occurrencesBetween(
  session: Session,
  from: Date,
  to: Date,
  changes: readonly OccurrenceChange[] = session.changes,
): Occurrence[] {
  const byKey = new Map<string, OccurrenceChange>();
  for (const c of changes) byKey.set(c.key, c);
  const keys = new Set<string>();
  const lo = new Date(Math.min(LATEST_MS, Math.max(EARLIEST_MS, from.getTime() - SLACK_MS)));
  const hi = new Date(Math.min(LATEST_MS, Math.max(EARLIEST_MS, to.getTime() + SLACK_MS)));
  if (session.rule) {
    const floLo = floating(instantToLocal(lo, 'utc'));
    const floHi = floating(instantToLocal(hi, 'utc'));
    for (const d of ruleFor(session).between(floLo, floHi, true)) keys.add(fromFloating(d));
  } else {
    keys.add(session.start);
  }
  // An occurrence moved into the window from outside it.
  for (const c of byKey.values()) if (c.moveTo && !keys.has(c.key) && isOccurrenceKey(session, c.key)) keys.add(c.key);
  const out: Occurrence[] = [];
  for (const key of keys) {
    const o = occurrence(session, key, byKey.get(key));
    if (o.start >= from && o.start < to) out.push(o);
  }
  return out.sort((a, b) => a.start.getTime() - b.start.getTime());
}

/** One occurrence by its key, with its change applied. */
export function occurrence(session: Session, key: string, change?: OccurrenceChange): Occurrence {
  const original = localToInstant(key, session.zone);
  const start = change?.moveTo ? localToInstant(change.moveTo, session.zone) : original;
  const o: Occurrence = {
    id: `${session.id}|${key}`,
    key,
    session,
    start,
    end: new Date(start.getTime() + session.minutes * 60_000),
    status: change?.cancelled ? 'cancelled' : 'scheduled',
    sequence: change?.version ?? 0,
  };
  if (change?.moveTo && start.getTime() !== original.getTime()) o.movedFrom = original;
  if (change?.reason) o.reason = change.reason;
  return o;
}
