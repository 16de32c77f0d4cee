import type { Person } from '../roles/roles.js';

/**
 * Office hours and training sessions as plain values. A session is a series (an RFC 5545 recurrence rule
 * from a first start, in one IANA time zone) or a one-off; an occurrence is one meeting of it, named by its
 * original local start so it keeps its name (and its calendar UID) when it is moved.
 */

export const SESSION_KINDS = ['office-hours', 'training'] as const;
export type SessionKind = (typeof SESSION_KINDS)[number];

/** Where a session's first start comes from: a local date-time, or days from a cohort's go-live. */
export type StartSpec =
  | { kind: 'local'; local: string }
  | { kind: 'golive'; days: number; time: string };

/** A cancelled or moved occurrence; `key` is its original local start (`YYYY-MM-DDTHH:mm`). */
export interface OccurrenceChange {
  key: string;
  cancelled?: boolean;
  /** The new local start, in the session's zone. */
  moveTo?: string;
  reason?: string;
  /** Bumped on every change of this occurrence (the .ics SEQUENCE). */
  version: number;
}

export interface Session {
  id: string;
  kind: SessionKind;
  title: string;
  topic?: string;
  /** The first start, resolved to a local date-time in `zone` (`YYYY-MM-DDTHH:mm`). */
  start: string;
  /** RFC 5545 RRULE (without DTSTART); none: a one-off session. */
  rule?: string;
  zone: string;
  minutes: number;
  capacity: number;
  joinUrl: string;
  hosts: Person[];
  /** Only this cohort's members are shown it (staff); none: everyone. */
  cohort?: string;
  /** Training: the user group it is for. */
  group?: string;
  /** Training: the module it teaches; a later session of the same course is a chance to catch up. */
  course?: string;
  /** Changes from the schedule file (Teams' changes are stored apart and win over these). */
  changes: OccurrenceChange[];
  source: 'file' | 'teams';
}

export interface Occurrence {
  /** `<session id>|<original local start>`: stable across moves. */
  id: string;
  key: string;
  session: Session;
  start: Date;
  end: Date;
  status: 'scheduled' | 'cancelled';
  /** The original start when the occurrence was moved. */
  movedFrom?: Date;
  reason?: string;
  /** 0 as first scheduled; bumped by each cancel or move. */
  sequence: number;
}

export interface Schedule {
  /** Programme time: the zone of sessions that name none, and shown to people whose Teams doesn't say theirs. */
  zone: string;
  sessions: Session[];
  /** Entries left out or changes ignored, each naming the entry and the field. */
  problems: string[];
  /**
   * Ids of sessions whose entry is still in the file but can't be served (a typo in when it meets or who it is for),
   * and which this run of the app never served (the entry was already bad when it started): left out of `sessions`,
   * but not taken as removed (no cancel is told, no calendar cancel served) until the entry is fixed or taken out.
   */
  onHold: string[];
  /** The course each `onHold` training session teaches, when its entry still says (`my training` offers no other in its place). */
  onHoldCourses?: Record<string, string>;
  /**
   * Ids of sessions whose entry turned bad while the app ran: each is served in `sessions` as it last was (reminders,
   * agenda, cancel, calendar and `my training` go on), but takes no new booking until the entry is fixed.
   */
  heldAsWas: string[];
}

/** An occurrence's id → its parts; undefined when it can't be one. */
export function splitOccurrenceId(id: string): { sessionId: string; key: string } | undefined {
  const m = /^([a-z0-9][a-z0-9-]{0,59})\|(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})$/.exec(id);
  return m ? { sessionId: m[1] as string, key: m[2] as string } : undefined;
}
