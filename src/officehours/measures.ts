import { DateTime } from 'luxon';
import type { RolloutDirectory } from '../rollout/index.js';
import type { BookingStore } from './bookings.js';
import type { SessionKind } from './model.js';
import { allOccurrences } from './rules.js';
import type { OfficeHoursService } from './service.js';

/**
 * What the adoption dashboard (#7) reads from office hours and training: plain query functions over the
 * schedule and the bookings, no Teams, no cards.
 */

export interface OccurrenceCount {
  sessionId: string;
  occurrenceId: string;
  title: string;
  kind: SessionKind;
  start: string;
  end: string;
  status: 'scheduled' | 'cancelled';
  capacity: number;
  booked: number;
  attended: number;
  /** Whether a host has marked attendance (present or absent) of anyone booked. */
  attendanceTaken: boolean;
}

export interface GroupTrained {
  groupId: string;
  groupName: string;
  cohortId: string;
  cohortName: string;
  goLive: string;
  /** Members of the group in the cohort. */
  members: number;
  /** Of them, those who attended every course of their series before go-live. */
  trainedBeforeGoLive: number;
  /** trained / members (0 when there are no members). */
  share: number;
}

export interface MeasureDeps {
  service: Pick<OfficeHoursService, 'current'>;
  bookings: Pick<BookingStore, 'seatsOf' | 'ofPerson'>;
  directory: Pick<RolloutDirectory, 'members' | 'rollout'>;
}

/** Bookings and attendance of each occurrence that starts in [from, to), earliest first. */
export async function bookingsAndAttendance(d: MeasureDeps, from: Date, to: Date): Promise<OccurrenceCount[]> {
  const occurrences = allOccurrences(await d.service.current(), from, to);
  return Promise.all(
    occurrences.map(async (o) => {
      const seats = await d.bookings.seatsOf(o.id);
      return {
        sessionId: o.session.id,
        occurrenceId: o.id,
        title: o.session.title,
        kind: o.session.kind,
        start: o.start.toISOString(),
        end: o.end.toISOString(),
        status: o.status,
        capacity: o.session.capacity,
        booked: seats.booked,
        attended: seats.attended,
        // A row from before the count was kept: attendance shows as taken once someone is marked present.
        attendanceTaken: (seats.marked ?? seats.attended) > 0,
      };
    }),
  );
}

/**
 * For each user group and cohort with a training series: how many members attended every course of it
 * before the cohort's go-live (midnight at the start of go-live day, in the cohort's zone).
 */
export async function trainedBeforeGoLive(d: MeasureDeps): Promise<GroupTrained[]> {
  const schedule = await d.service.current();
  const { cohorts, groups } = d.directory.rollout;
  const out: GroupTrained[] = [];
  for (const group of groups) {
    for (const cohort of cohorts) {
      const series = schedule.sessions.filter(
        (s) => s.kind === 'training' && s.group === group.id && (!s.cohort || s.cohort === cohort.id),
      );
      if (!series.length) continue;
      const goLive = DateTime.fromISO(cohort.goLive, { zone: cohort.zone }).toJSDate();
      const courses = new Set(series.map((s) => s.course ?? s.id));
      const occurrenceCourse = new Map(
        allOccurrences({ sessions: series }, new Date(goLive.getTime() - 400 * 24 * 3600_000), goLive).map((o) => [o.id, o.session.course ?? o.session.id]),
      );
      const inCohort = new Set((await d.directory.members('cohort', cohort.id)).map((p) => p.id));
      const members = (await d.directory.members('group', group.id)).filter((p) => inCohort.has(p.id));
      let trained = 0;
      for (const m of members) {
        const attended = new Set(
          (await d.bookings.ofPerson(m.id)).filter((b) => b.attended === true && occurrenceCourse.has(b.occurrenceId)).map((b) => occurrenceCourse.get(b.occurrenceId)),
        );
        if ([...courses].every((c) => attended.has(c))) trained++;
      }
      out.push({
        groupId: group.id,
        groupName: group.name,
        cohortId: cohort.id,
        cohortName: cohort.name,
        goLive: cohort.goLive,
        members: members.length,
        trainedBeforeGoLive: trained,
        share: members.length ? trained / members.length : 0,
      });
    }
  }
  return out;
}
