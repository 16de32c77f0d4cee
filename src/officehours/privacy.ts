import type { Clock } from '../clock.js';
import { holdings, isSubject, type PersonalData, type Pseudonym, type Subject, type Tally } from '../privacy/personal-data.js';
import type { DiskOutbox } from '../storage/disk-outbox.js';
import type { Booking, BookingStore } from './bookings.js';
import type { ScheduleChanges } from './changes.js';
import type { Schedule } from './model.js';
import type { ReminderMarks } from './reminders.js';
import type { HeldQuestion } from './service.js';

/**
 * What office hours hold about a person: their bookings (seat, question brought, time zone, attendance),
 * the sessions they added or changed from Teams, and sessions they host. `forget` gives back a seat they
 * still hold for a session to come, then moves each booking to their pseudonym (counts and attendance stay
 * for the rollout's measures; their name, question and zone go); `expire` deletes bookings of sessions
 * that started before the retention period. A host's "log as issue" kept on this instance's disk while storage did
 * not answer (`held`) names the bringer and the host until it is logged: listed, and `forget` puts the pseudonym in
 * their place (logged later under it — a forgotten bringer's without their question, which went with the booking's;
 * a forgotten host is told nothing). One being logged at that moment is waited for, so the issue it makes exists
 * before the forget ends (and names only the pseudonym: `logBrought` looks again). Only this instance's disk is in
 * reach: another instance's filer finds the forget recorded (ForgottenKeys, by the held-reports part, first) and logs
 * what it holds as this would have left it (`fileHeldQuestion`). An issue a host logged names them as who logged it
 * (its "created" line and the description's "logged by"): the issues part of `forget` puts the pseudonym there.
 */
export class OfficeHoursPersonalData implements PersonalData {
  readonly feature = 'officeHours';

  constructor(
    private readonly d: {
      bookings: BookingStore;
      changes: ScheduleChanges;
      /** The schedule file's sessions (hosts named there are the rollout team's to change). */
      schedule: () => Schedule;
      clock: Clock;
      /** The reminders' marks: nothing personal (booking ids), but kept no longer than the bookings. */
      marks: ReminderMarks;
      held?: Pick<DiskOutbox<HeldQuestion>, 'list' | 'replace' | 'handled'>;
    },
  ) {}

  /** Kept presses naming the person, as bringer or as host. */
  private held(subject: Subject) {
    return (this.d.held?.list() ?? []).filter((e) => isSubject(subject, e.item.personId) || isSubject(subject, e.item.host.id));
  }

  /** The person's bookings under each of their keys, as stored (one partition read per key, then point reads). */
  private async bookings(subject: Subject): Promise<Booking[]> {
    const out: Booking[] = [];
    for (const id of subject.ids) {
      for (const line of await this.d.bookings.ofPerson(id)) {
        const b = await this.d.bookings.booking(line.occurrenceId, id);
        if (b) out.push(b);
      }
    }
    return out;
  }

  async describe(subject: Subject): Promise<Tally> {
    const [bookings, own] = await Promise.all([this.bookings(subject), this.d.changes.byPerson((id) => isSubject(subject, id))]);
    const now = this.d.clock.now().toISOString();
    const fileHosts = this.d.schedule().sessions.filter((s) => s.hosts.some((h) => isSubject(subject, h.id)));
    return {
      holdings: holdings(
        { kind: 'officeHours.upcoming', label: 'seats booked at sessions to come (given back)', count: bookings.filter((b) => b.status === 'booked' && b.start > now).length, action: 'delete' },
        { kind: 'officeHours.bookings', label: 'office-hours bookings (seat and attendance counted, name and question removed)', count: bookings.length, action: 'anonymise' },
        { kind: 'officeHours.sessions', label: 'sessions they added, changed or host (kept, person anonymised)', count: own.added.length + own.changed.length + own.hosting.length, action: 'anonymise' },
        { kind: 'officeHours.held', label: 'brought questions a host asked to log as issues while storage was down, kept on this instance\'s disk and not yet logged (kept, person anonymised; another instance logs those it holds under the pseudonym)', count: this.held(subject).length, action: 'anonymise' },
      ),
      notes: fileHosts.length
        ? [`They host ${fileHosts.map((s) => s.id).join(', ')} in the office-hours file (OFFICE_HOURS_FILE): change the hosts there.`]
        : [],
    };
  }

  async export(subject: Subject): Promise<Record<string, unknown>> {
    const own = await this.d.changes.byPerson((id) => isSubject(subject, id));
    return {
      bookings: (await this.bookings(subject)).map((b) => ({
        booking: b.id,
        session: b.occurrenceId,
        start: b.start,
        status: b.status,
        bookedAt: b.bookedAt,
        question: b.question,
        timeZone: b.zone,
        attended: b.attended ?? null,
        issueLogged: b.issueRef ?? null,
        markedAsGuidanceGap: b.gapAt ?? null,
      })),
      sessionsAdded: own.added,
      occurrencesChanged: own.changed,
      sessionsHosted: own.hosting,
      // Their part only: a host is not named to the bringer, nor the bringer to the host (beyond the session).
      issuesToLogWhileStorageWasDown: this.held(subject).map((e) => ({
        keptAt: e.at,
        session: e.item.occurrenceId,
        as: isSubject(subject, e.item.personId) ? 'brought the question' : 'host',
      })),
    };
  }

  async forget(subject: Subject, pseudonym: Pseudonym): Promise<Tally> {
    const tally = await this.describe(subject);
    const now = this.d.clock.now().toISOString();
    for (const id of subject.ids) {
      // Through their own index, so a line left by a run cut short is cleared too.
      for (const line of await this.d.bookings.ofPerson(id)) {
        // A seat for a session to come goes back to others (and no reminder or notice goes to them).
        if (line.status === 'booked' && line.start > now) await this.d.bookings.cancel(line.occurrenceId, id);
        await this.d.bookings.anonymise(line.occurrenceId, id, pseudonym);
      }
    }
    await this.d.changes.replacePerson((id) => isSubject(subject, id), pseudonym);
    for (const e of this.held(subject)) {
      const item = e.item;
      await this.d.held?.replace(e.key, {
        ...item,
        personId: isSubject(subject, item.personId) ? pseudonym.id : item.personId,
        host: isSubject(subject, item.host.id) ? { id: pseudonym.id, name: pseudonym.name } : item.host,
      });
      await this.d.held?.handled(e.key);
    }
    return tally;
  }

  async expire(before: Date, limit: number): Promise<number> {
    const bookings = await this.d.bookings.expireBefore(before, limit);
    return bookings + (bookings < limit ? await this.d.marks.expireBefore(before, limit - bookings) : 0);
  }
}
