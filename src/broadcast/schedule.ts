import { DateTime } from 'luxon';
import { HORIZON_YEARS, hasDateWithin, usesEaster } from '../recurrence/horizon.js';
import { RRule } from '../recurrence/rrule.js';
import type { Cohort, Rollout } from '../rollout/model.js';
import type { Bound, Plan, PlanMessage, When } from './model.js';


/**
 * When a plan message is due. Wall-clock times are kept in their zone (the cohort's for go-live-relative
 * ones) and turned into instants by luxon, so "09:00" stays 09:00 across a daylight-saving change;
 * recurrences come from an RRULE evaluated in floating (zone-less) time for the same reason.
 */

export interface Occurrence {
  messageId: string;
  /** Stable name of this occurrence among the message's: the claim that makes it go out once. */
  key: string;
  at: Date;
  /** The cohort this occurrence is for (go-live-relative messages: each cohort its own). */
  cohortId: string;
}

/** Recurrences more often than daily would be spam; the bounds and start come from the plan's fields. */
const FORBIDDEN_PARTS = ['dtstart', 'until', 'byhour', 'byminute', 'bysecond', 'tzid'] as const;
/** A runaway rule (every day for ten years) is cut here; the rollout team is told (recurrenceCut). */
export const MAX_RECURRENCES = 400;

/**
 * Why an RRULE can't be used, or undefined when it can. `starts` are the local dates (YYYY-MM-DD) it would
 * start from: from each, it must have a date within HORIZON_YEARS (see hasDateWithin).
 */
export function checkRule(text: string, starts: readonly string[] = []): string | undefined {
  const body = text.trim().replace(/^RRULE:/i, '');
  let options: ReturnType<typeof RRule.parseString>;
  try {
    options = RRule.parseString(body);
  } catch (error) {
    return `not an RRULE (${(error as Error).message})`;
  }
  if (options.freq === undefined) return 'must have FREQ (e.g. FREQ=WEEKLY;BYDAY=MO)';
  if (options.freq > RRule.DAILY) return 'must repeat at most daily (FREQ=DAILY, WEEKLY, MONTHLY or YEARLY)';
  for (const part of FORBIDDEN_PARTS) {
    if (options[part] !== undefined && options[part] !== null)
      return `must not set ${part.toUpperCase()}: the time goes in "at", the dates in "from" and "until"`;
  }
  const weekdays = options.byweekday;
  if (Array.isArray(weekdays) && weekdays.some((d) => d === undefined)) return 'BYDAY must list days such as MO,WE';
  // rrule never stops stepping by an INTERVAL that is not a positive whole number (-1, 0.5, "two"): the check, or
  // later the scheduler on the thread that answers everyone, would spin forever. A COUNT of 0 would never send.
  for (const part of ['interval', 'count'] as const) {
    const v = options[part];
    if (v !== undefined && v !== null && !(Number.isInteger(v) && v > 0)) return `${part.toUpperCase()} must be a whole number of 1 or more`;
  }
  if (usesEaster(options)) return 'must not set BYEASTER';
  for (const start of starts) {
    if (!hasDateWithin(body, start)) return `has no date in the ${HORIZON_YEARS} years from ${start}: the message would never be sent`;
  }
  return undefined;
}

/** The occurrences of a message whose time falls in [from, to). Manual messages have none. */
export function occurrencesBetween(message: PlanMessage, plan: Plan, rollout: Rollout, from: Date, to: Date): Occurrence[] {
  return allOccurrences(message, plan, rollout).filter((o) => o.at >= from && o.at < to);
}

/**
 * Occurrences depend only on the message and the rollout, both replaced (never changed) when their file is
 * reloaded: each is worked out once, not on every scheduler pass and plan listing (a large plan's
 * recurrences take seconds of CPU, during which no one else's turn is answered).
 */
const computed = new WeakMap<PlanMessage, WeakMap<Rollout, Occurrence[]>>();

/** Every occurrence of a message, in time order (bounded: recurrences stop at MAX_RECURRENCES). */
export function allOccurrences(message: PlanMessage, plan: Plan, rollout: Rollout): Occurrence[] {
  let byRollout = computed.get(message);
  if (!byRollout) computed.set(message, (byRollout = new WeakMap()));
  let out = byRollout.get(rollout);
  if (!out) byRollout.set(rollout, (out = computeOccurrences(message, rollout)));
  return out.slice();
}

function computeOccurrences(message: PlanMessage, rollout: Rollout): Occurrence[] {
  const when = message.when;
  const out: Occurrence[] = [];
  const push = (key: string, at: DateTime, cohortId = '') => {
    if (at.isValid) out.push({ messageId: message.id, key, at: at.toJSDate(), cohortId });
  };
  switch (when.kind) {
    case 'manual':
      return [];
    case 'at':
      push('once', wallTime(when.date, when.time, when.zone));
      break;
    case 'golive':
      for (const cohort of cohortsFor(message, rollout)) {
        const day = DateTime.fromISO(cohort.goLive, { zone: cohort.zone }).plus({ days: when.days });
        push(cohort.id, wallTime(day.toISODate() ?? '', when.time, cohort.zone), cohort.id);
      }
      break;
    case 'every': {
      const perCohort = when.from.kind === 'golive' || when.until.kind === 'golive';
      const targets = perCohort ? cohortsFor(message, rollout) : [undefined];
      for (const cohort of targets) {
        const zone = cohort?.zone ?? when.zone;
        for (const day of recurrenceDays(when, cohort)) {
          push(`${cohort?.id ?? 'all'}@${day}`, wallTime(day, when.time, zone), cohort?.id ?? '');
        }
      }
      break;
    }
  }
  return out.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** The next occurrence after `after` for each cohort (or the one occurrence), for the plan listing. */
export function nextOccurrences(message: PlanMessage, plan: Plan, rollout: Rollout, after: Date): Occurrence[] {
  const next = new Map<string, Occurrence>();
  for (const o of allOccurrences(message, plan, rollout)) {
    if (o.at <= after || next.has(o.cohortId)) continue;
    next.set(o.cohortId, o);
  }
  return [...next.values()];
}

/** A date and HH:mm in a zone → the instant (a time that does not exist that day moves forward, as luxon does). */
export function wallTime(date: string, time: string, zone: string): DateTime {
  return DateTime.fromISO(`${date}T${time}`, { zone });
}

/**
 * The first HH:mm that exists on `date` in `zone` at or after `time` (a time the clocks skip: the end of the gap, e.g.
 * 03:00 for New York's 02:30), found minute by minute; undefined when none is left that day.
 */
export function firstExisting(date: string, time: string, zone: string): string | undefined {
  const [h, m] = time.split(':').map(Number) as [number, number];
  for (let minute = h * 60 + m; minute < 24 * 60; minute++) {
    const hhmm = `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
    if (wallTime(date, hhmm, zone).toFormat('HH:mm') === hhmm) return hhmm;
  }
  return undefined;
}

/**
 * Why a repeating message will not go on every date its rule and bounds give (more than MAX_RECURRENCES of them),
 * or undefined: what the rollout team is told when the plan is loaded, and what `plan` lists beside its times.
 */
export function recurrenceCut(message: Pick<PlanMessage, 'audience' | 'when'>, rollout: Pick<Rollout, 'cohorts'>): string | undefined {
  const when = message.when;
  if (when.kind !== 'every') return undefined;
  const perCohort = when.from.kind === 'golive' || when.until.kind === 'golive';
  const cut: { last: string; cohort?: Cohort }[] = [];
  for (const cohort of perCohort ? cohortsFor(message, rollout) : [undefined]) {
    const days = recurrenceDays(when, cohort, MAX_RECURRENCES + 1);
    if (days.length > MAX_RECURRENCES) cut.push({ last: days[MAX_RECURRENCES - 1]!, cohort });
  }
  const first = cut[0];
  if (!first) return undefined;
  const whose = first.cohort ? ` for ${first.cohort.name}${cut.length > 1 ? ` (and ${cut.length - 1} more ${cut.length === 2 ? 'cohort' : 'cohorts'})` : ''}` : '';
  return `repeats on more than ${MAX_RECURRENCES} dates${whose}: only the first ${MAX_RECURRENCES} are scheduled, until ${first.last}; to have the later dates go, end it by then ("until") and add another message for the rest`;
}

function cohortsFor(message: Pick<PlanMessage, 'audience'>, rollout: Pick<Rollout, 'cohorts'>): Cohort[] {
  const a = message.audience;
  if (a.kind !== 'cohort') return [];
  if (a.cohortId === 'all') return rollout.cohorts;
  return rollout.cohorts.filter((c) => c.id === a.cohortId);
}

function boundDate(bound: Bound, cohort: Cohort | undefined): string | undefined {
  if (bound.kind === 'date') return bound.date;
  if (!cohort) return undefined;
  return DateTime.fromISO(cohort.goLive).plus({ days: bound.days }).toISODate() ?? undefined;
}

/** The local dates (YYYY-MM-DD) a recurrence falls on, between its bounds, inclusive: at most `max`. */
function recurrenceDays(when: Extract<When, { kind: 'every' }>, cohort: Cohort | undefined, max = MAX_RECURRENCES): string[] {
  const from = boundDate(when.from, cohort);
  const until = boundDate(when.until, cohort);
  // A rule with no date (checked at load from the go-lives then known) would make rrule search to 9999.
  if (!from || !until || until < from || !hasDateWithin(when.rule, from)) return [];
  // Floating time: the rule's dates are computed as if in UTC, then read back as local dates.
  const floating = (date: string, hh = 0, mm = 0) => new Date(`${date}T${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:00Z`);
  const rule = new RRule({
    ...RRule.parseString(when.rule),
    dtstart: floating(from),
    until: floating(until, 23, 59),
    count: undefined,
  });
  const parsedCount = RRule.parseString(when.rule).count;
  const limit = Math.min(max, parsedCount ?? max);
  const days: string[] = [];
  rule.all((_date, i) => i < limit).forEach((d) => days.push(d.toISOString().slice(0, 10)));
  return days;
}
