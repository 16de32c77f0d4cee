import { allows } from '../roles/permissions.js';
import type { Role } from '../roles/roles.js';
import type { Membership } from '../rollout/index.js';
import type { PersonBooking } from './bookings.js';
import { type Occurrence, type Schedule, type Session, type SessionKind, splitOccurrenceId } from './model.js';
import { instantToLocal, occurrencesBetween } from './recurrence.js';

/** Who may see and book what, and what the training timeline says: plain functions over plain values. */

/** Whether a session is offered to a person: office hours to everyone (or its cohort), training to its group. */
export function offeredTo(session: Session, m: Membership, role: Role): boolean {
  if (allows(role, 'officehours.host')) return true;
  const cohortOk = !session.cohort || session.cohort === m.cohort?.id;
  if (session.kind === 'training') return cohortOk && m.groups.some((g) => g.id === session.group);
  return cohortOk;
}

/** Occurrences of every session in [from, to), earliest first. */
export function allOccurrences(schedule: Pick<Schedule, 'sessions'>, from: Date, to: Date, pick: (s: Session) => boolean = () => true): Occurrence[] {
  return schedule.sessions
    .filter(pick)
    .flatMap((s) => occurrencesBetween(s, from, to))
    .sort((a, b) => a.start.getTime() - b.start.getTime() || a.id.localeCompare(b.id));
}

/** Why an occurrence can't be booked now, or undefined when it can. */
export function unbookable(o: Occurrence, now: Date): string | undefined {
  if (o.status === 'cancelled') return `This ${label(o)} was cancelled${o.reason ? ` (${o.reason})` : ''}.`;
  if (o.start.getTime() <= now.getTime()) {
    if (o.end.getTime() <= now.getTime()) return `This ${label(o)} is over.`;
    // Kept without a join link (the file's was set aside as bad): there is no link to point to.
    return `This ${label(o)} has already started${o.session.joinUrl ? ': join it with the link instead' : ''}.`;
  }
  return undefined;
}

/**
 * How far ahead each kind is offered, and so can be booked (days): office hours as far as the `office hours` list
 * shows them; training as far as `my training` looks (its timeline looks as far back too).
 */
const OFFERED_DAYS: Record<SessionKind, number> = { 'office-hours': 28, training: 400 };
/** The furthest any session can be booked ahead (days): the most of OFFERED_DAYS. */
export const BOOKABLE_DAYS = Math.max(...Object.values(OFFERED_DAYS));
const DAY_MS = 24 * 3600_000;

/**
 * The latest start a person can have been offered a session of this kind at: office hours from the four-week list;
 * training from `my training`, which looks as far as its timeline does (the next session of each course, or its
 * next chance to catch up). A Book pressed on a later one came from no card (forged): it is refused.
 */
export function offeredUntil(kind: Session['kind'], now: Date): Date {
  return new Date(now.getTime() + OFFERED_DAYS[kind] * DAY_MS);
}

/**
 * The latest start any session can be booked for now (the furthest offeredUntil): the notice pass looks this far
 * ahead for bookings of a session taken off the schedule, so no one booked is left untold.
 */
export function bookableUntil(now: Date): Date {
  return new Date(now.getTime() + BOOKABLE_DAYS * DAY_MS);
}

/**
 * How far past the day it was first set for an occurrence can be moved (`office hours move`): a year; further is a
 * mistyped year, most likely. Counted from that first day, which no move changes, so moving it again and again does
 * not walk it further.
 */
export const MOVE_LIMIT_DAYS = 366;

/** The last day (YYYY-MM-DD, in `zone`) an occurrence first set for `first` can be moved to: MOVE_LIMIT_DAYS on. */
export function lastMoveDay(first: Date, zone: string): string {
  return instantToLocal(new Date(first.getTime() + MOVE_LIMIT_DAYS * DAY_MS), zone).slice(0, 10);
}

/** Why an occurrence is too far ahead to book now (no card of theirs could have offered it), or undefined. */
export function tooFarAhead(o: Occurrence, now: Date): string | undefined {
  if (o.start.getTime() < offeredUntil(o.session.kind, now).getTime()) return undefined;
  return o.session.kind === 'training'
    ? 'That training session is too far ahead to book yet. Type "my training" for the sessions open to you.'
    : 'That session is more than four weeks ahead: office hours can be booked up to four weeks ahead. Type "office hours" nearer the time to book it.';
}

/** The command that lists sessions of this kind: "office hours" lists no training; `my training` offers it. */
export function listCommand(kind: Session['kind']): string {
  return kind === 'training' ? 'my training' : 'office hours';
}

export function label(o: Pick<Occurrence, 'session'>): string {
  return o.session.kind === 'training' ? 'training session' : 'session';
}

export type TrainingStatus = 'attended' | 'booked' | 'missed' | 'next' | 'unscheduled';

export interface TimelineItem {
  course: string;
  title: string;
  groupId: string;
  status: TrainingStatus;
  /** The occurrence the status speaks of: attended, booked, missed (the last one missed) or next. */
  occurrence?: Occurrence;
  /** For a missed course: the next chance to catch up. */
  nextChance?: Occurrence;
}

/**
 * A person's training timeline: each course of their user groups' series (for their cohort, or for all), in
 * the order they first run. A course counts as attended when the host marked them present at any of its
 * sessions; missed when one has ended without them, with the next session of the same course as the chance
 * to catch up. A held session (`heldAsWas`: no new bookings) shows as booked to those booked on it, and is offered
 * to no one else; one held and not shown (`onHoldCourses`) still counts as their seat on its course, without a time.
 */
export function trainingTimeline(
  schedule: Pick<Schedule, 'sessions'> & Partial<Pick<Schedule, 'heldAsWas' | 'onHoldCourses'>>,
  m: Membership,
  mine: readonly PersonBooking[],
  now: Date,
): TimelineItem[] {
  const sessions = schedule.sessions.filter((s) => s.kind === 'training' && offeredTo(s, m, 'staff'));
  const occurrences = allOccurrences({ sessions }, new Date(now.getTime() - OFFERED_DAYS.training * DAY_MS), offeredUntil('training', now));
  const byCourse = new Map<string, Occurrence[]>();
  for (const o of occurrences) {
    const course = o.session.course ?? o.session.id;
    byCourse.set(course, [...(byCourse.get(course) ?? []), o]);
  }
  const booked = new Map(mine.map((b) => [b.occurrenceId, b]));
  const items: TimelineItem[] = [];
  for (const [course, list] of byCourse) {
    const first = list[0] as Occurrence;
    const base = { course, title: first.session.title, groupId: first.session.group ?? '' };
    const attended = list.find((o) => booked.get(o.id)?.attended === true);
    const ahead = list.filter((o) => o.status === 'scheduled' && o.end.getTime() > now.getTime());
    const mineNext = ahead.find((o) => booked.get(o.id)?.status === 'booked');
    const upcoming = ahead.filter((o) => !schedule.heldAsWas?.includes(o.session.id));
    const past = list.filter((o) => o.status === 'scheduled' && o.end.getTime() <= now.getTime());
    const heldSeat = mine.some(
      (b) => b.status === 'booked' && Date.parse(b.start) > now.getTime() && schedule.onHoldCourses?.[splitOccurrenceId(b.occurrenceId)?.sessionId ?? ''] === course,
    );
    if (attended) items.push({ ...base, status: 'attended', occurrence: attended });
    else if (mineNext) items.push({ ...base, status: 'booked', occurrence: mineNext });
    else if (heldSeat) items.push({ ...base, status: 'booked' });
    else if (past.length) {
      const item: TimelineItem = { ...base, status: 'missed', occurrence: past[past.length - 1] as Occurrence };
      if (upcoming[0]) item.nextChance = upcoming[0];
      items.push(item);
    } else if (upcoming[0]) items.push({ ...base, status: 'next', occurrence: upcoming[0] });
    else items.push({ ...base, status: 'unscheduled' });
  }
  return items;
}
