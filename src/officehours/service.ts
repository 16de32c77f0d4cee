import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Caller as IssueCaller, ReportOptions, ReportOutcome } from '../issues/service.js';
import { loggedByClause, OFFICE_HOURS_LOCATION } from '../issues/model.js';
import type { FormData as IssueForm } from '../issues/verbs.js';
import type { Outbox } from '../outbound/message.js';
import { allows } from '../roles/permissions.js';
import type { Person, Role } from '../roles/roles.js';
import type { Pseudonym, Subject } from '../privacy/personal-data.js';
import { isPseudonym } from '../privacy/pseudonym.js';
import { escapeText, markdownLink } from '../cards/template.js';
import { isStorageUnavailable } from '../storage/call-policy.js';
import { isBlank } from '../text/blank.js';
import { count } from '../text/count.js';
import { oneLine } from '../text/one-line.js';
import type { OutboxEntry } from '../storage/disk-outbox.js';
import { mapLimit } from '../map-limit.js';
import type { Membership, Rollout, RolloutDirectory } from '../rollout/index.js';
import { AGENDA_PAGE } from './agenda.js';
import { type Booking, type BookingStore, type MonthEntry, type PersonBooking, type Seats, servedSequence } from './bookings.js';
import { HELD_DIGEST, type KnownSession, knownSession, type LastGood, REMOVED, type ScheduleChanges } from './changes.js';
import { bookedTold, bookedToldLater, dateTimeIn, spanIn, zoneLabel } from './display.js';
import { occurrenceIcs } from './ics.js';
import type { CalendarLinks } from './links.js';
import { type Occurrence, type OccurrenceChange, type Schedule, type Session, splitOccurrenceId } from './model.js';
import { instantToLocal, isOccurrenceKey, localToInstant, occurrence } from './recurrence.js';
import {
  allOccurrences,
  bookableUntil,
  lastMoveDay,
  listCommand,
  MOVE_LIMIT_DAYS,
  offeredTo,
  offeredUntil,
  type TimelineItem,
  tooFarAhead,
  trainingTimeline,
  unbookable,
} from './rules.js';
import { CAPACITY, checkSession, JOIN_URL_MAX, localDateTime, MINUTES } from './schedule.js';

/**
 * Office hours and training as the Teams layer calls them. Each operation takes who is asking (with the time
 * zone Teams says they are in) and plain values, checks the permission again, applies the rules, and
 * enqueues what others must hear (notices of a cancelled or moved session) on the outbound path. Results
 * are plain values that src/teams renders with cards.ts.
 */

/** Who is asking: identity, role, every key Teams knows them by, and their time zone. */
export interface Viewer {
  person: Person;
  role: Role;
  /** Entra object id and Teams id: either may be how the rollout file or a `group add` knows them. */
  keys: string[];
  /** IANA zone to show times in. */
  zone: string;
  /** False when Teams did not say, and `zone` is the schedule's (programme time). */
  zoneKnown: boolean;
}

export interface OfficeHoursDeps {
  /** The schedule file's sessions, built against the rollout's cohorts and groups. */
  schedule: () => Schedule;
  changes: ScheduleChanges;
  bookings: BookingStore;
  directory: Pick<RolloutDirectory, 'membership' | 'members' | 'rollout'>;
  links: Pick<CalendarLinks, 'sign' | 'verify'>;
  outbox: Outbox;
  clock: Clock;
  /** Where a calendar token is downloaded (the bot's public URL + route); set once the server listens. */
  calendarUrl: (token: string) => string;
  systemName: string;
  /** The issue log, for a brought question turned into an issue. */
  issues: {
    report(caller: IssueCaller, values: IssueForm, opts: ReportOptions): Promise<ReportOutcome>;
    readonly categories: readonly string[];
  };
  /**
   * The pseudonym a forget of any of `ids` made at or after `since` gave the person (every forget records it first,
   * before its parts run), if any: a brought question logged while its bringer is being forgotten is told as such.
   */
  forgottenSince?: (ids: readonly string[], since: Date) => Promise<{ pseudonym: Pseudonym } | undefined>;
  /**
   * Anonymises what names the person in the issue log (the issues part of `forget`): an issue logged while they were
   * being forgotten, after that part had looked, is anonymised here.
   */
  anonymiseIssues?: (subject: Subject, pseudonym: Pseudonym) => Promise<unknown>;
  /**
   * Keeps a host's "log as issue" on this instance's disk while storage does not answer (false: one with this key is
   * kept already); `fileHeldQuestion` logs it when storage is back. Unset: the host is told to try again. `hash`: a
   * keyed hash (the privacy secret's), so the key on disk names nobody, even once `forget` has rewritten the item.
   */
  held?: { keep(key: string, item: HeldQuestion): Promise<boolean>; hash(text: string): string };
  /** Records a brought question as a gap in the guidance (it then shows in `gaps`). */
  markGap: (question: string, asker: Person) => Promise<void>;
  /** A fault the person was not shown (a calendar file served though what it served was not recorded). */
  warn?: (details: Record<string, unknown>, msg: string) => void;
}

export const QUESTION_LIMIT = 500;
/** Sessions per page of the "office hours" card: a card stays short enough to read in the chat. */
const PAGE_SIZE = 5;

/**
 * Where a page of the "office hours" list starts. Pages go by the occurrence a card showed last ("Later
 * sessions": after it) or first ("Earlier sessions": before it), by start and id as the list is ordered, so a
 * session cancelled or added between two presses neither skips one nor shows one again. `page`: a card from
 * before cursors, which counted pages of PAGE_SIZE.
 */
export type ListAt = { after: ListCursor } | { before: ListCursor } | { page: number };

/** An occurrence's place in the list: its start (ms) and id. */
export interface ListCursor {
  t: number;
  id: string;
}

export function listCursor(o: Pick<Occurrence, 'start' | 'id'>): string {
  return `${o.start.getTime()}|${o.id}`;
}

/**
 * Up to a page of the sessions on offer, `index` the 0-based place of the first of `total`. The card shows as
 * many as fit in a Teams message: from the first (`keep: 'start'`, going forward) or from the last (`'end'`,
 * going back), and the next press goes on from the last (or first) it showed.
 */
export interface SessionPage {
  offers: Offer[];
  index: number;
  total: number;
  keep: 'start' | 'end';
}
const DAY_MS = 24 * 3600_000;
/** A notice's outcome: how many were told now, and whether another caller holds it, still to be queued. */
interface Notified {
  told: number;
  held: boolean;
}
/**
 * The least SEQUENCE a removed session's booking may hold from the schedule file (schedule.ts gives its changes
 * version 1): for bookings that kept none, served before links recorded what they served (Seats.issuedSequence).
 */
const FILE_SEQUENCE = 1;
/** The length a removed session's cancel is given when nothing kept says its length (a calendar needs an end). */
const UNKNOWN_MINUTES = 60;
/** A calendar link lasts at most this long (a new one comes with every notice). */
const LINK_MAX_MS = 60 * DAY_MS;
/** The notice pass's look at booked occurrences of sessions changed or gone: this many at once. */
const NOTICE_READS = 8;

export interface Offer {
  occurrence: Occurrence;
  seats: Seats;
  /** The viewer's booking, when they have one. */
  mine?: Booking;
  /** Download link of the viewer's calendar file, when booked. */
  calendarUrl?: string;
}

export type BookResult =
  | { kind: 'message'; text: string }
  | { kind: 'booked'; offer: Offer; fresh: boolean };

export type AddForm = Partial<
  Record<
    'title' | 'kind' | 'date' | 'time' | 'zone' | 'minutes' | 'capacity' | 'repeat' | 'until' | 'joinUrl' | 'topic' | 'cohort' | 'group' | 'cohortTyped' | 'groupTyped',
    string
  >
>;

/**
 * The add form's "another cohort / user group" choice: one the form had no room to list (a rollout file may hold 200
 * of each), given by its id or name in `cohortTyped` / `groupTyped`.
 */
export const TYPED_CHOICE = 'typed';

export type AddResult =
  | { kind: 'message'; text: string }
  | { kind: 'invalid'; values: AddForm; error: string }
  /** `again`: this form had added it already (a second press); nothing more was added. */
  | { kind: 'added'; session: Session; next: Occurrence[]; again?: boolean };

export type HostResult = { kind: 'message'; text: string } | { kind: 'agenda'; occurrence: Occurrence; notice: string };

/** A host's press of "log as issue" on a brought question, kept while storage did not answer (`questionToIssue`). */
export interface HeldQuestion {
  host: Person;
  role: Role;
  occurrenceId: string;
  personId: string;
  fields: IssueFields;
}

type IssueFields = { title?: string; category?: string; severity?: string; site?: string };

/** What stands for a brought question whose bringer was forgotten before it was logged (their words went with it). */
const FORGOTTEN_QUESTION = 'A question brought to office hours (its words were removed: the person who brought it asked to be forgotten).';

/** A calendar link of a held session (Schedule.onHold): its booking stands, and the link serves it once the entry is fixed. */
/**
 * Over by its time in the file while those booked were told a time still ahead: a told move undone (its line deleted,
 * or made a cancel) once the first time had passed. To them it is off at the time they were told, a cancel from stored
 * data (removedOccurrence); else they would keep that time in their calendar and turn up to nothing.
 */
function overWhileToldAhead(o: Occurrence, seats: Seats, now: number): boolean {
  return o.start.getTime() <= now && seats.toldStart !== undefined && Date.parse(seats.toldStart) > now;
}

const HELD_CALENDAR = 'the rollout team\'s schedule entry for this session is being corrected; your booking stands: open the link again later';

/** A Book on a session held as it last was (Schedule.heldAsWas): its seats stand, and none is taken meanwhile. */
const HELD_BOOK =
  'The rollout team\'s schedule entry for this session is being corrected; it can\'t be booked until then. Those booked keep their seats. Try again later.';

const HELD_QUESTION =
  'Storage is not answering right now. The question is kept and will be logged as an issue when storage is back; you will be told its reference in your chat with me then. Nothing more to do.';

/** How long a held session's kept entry, once read, is served before it is read again. */
const KEPT_READ_MS = 60_000;

export class OfficeHoursService {
  /** Each file session served good here: its digest, and since when (LastGood.since). */
  private readonly goodSince = new Map<string, { digest: string; since: string }>();
  /** The file's schedule whose good sessions were kept (keepLastGood), or are being. */
  private kept?: { schedule: Schedule; done: Promise<void> };
  /** The built schedule whose held sessions' kept entries were read (keptOf), and what was read. */
  private keptRead?: { schedule: Schedule; kept: Promise<Map<string, Session>>; at: number };

  constructor(private readonly d: OfficeHoursDeps) {}

  get defaultZone(): string {
    return this.d.schedule().zone;
  }

  get issueCategories(): readonly string[] {
    return this.d.issues.categories;
  }

  /** The schedule in force: the file's sessions plus those added from Teams, with every change applied. */
  async current(): Promise<Schedule> {
    const file = await this.fileSchedule();
    const [added, changes] = await Promise.all([this.d.changes.sessions(), this.d.changes.changes()]);
    const ids = new Set(file.sessions.map((s) => s.id));
    const sessions = [...file.sessions, ...added.filter((s) => !ids.has(s.id))].map((s) => ({
      ...s,
      changes: [...s.changes, ...(changes.get(s.id) ?? [])],
    }));
    return { ...file, sessions };
  }

  /**
   * The schedule file's sessions, a held one (its entry bad now) served as it was last kept good by any instance
   * (ScheduleChanges.keepGood): an instance started while the entry is bad, or one that never read it good, serves it
   * as the others do, not as unknown. The held ones' kept entries are read once per schedule built (and again after a
   * pass, which may have changed them, or a minute, `KEPT_READ_MS`): not on every turn.
   */
  private async fileSchedule(): Promise<Schedule> {
    const file = this.d.schedule();
    // Kept by the scheduler's pass (keepServed), which waits for it; a turn only starts it, never waits on its writes.
    void this.keepOrWarn(file);
    const held = [...file.heldAsWas, ...file.onHold];
    if (!held.length) return file;
    const kept = await this.keptOf(file, held);
    if (!kept.size) return file;
    const onHoldCourses = { ...file.onHoldCourses };
    for (const id of kept.keys()) delete onHoldCourses[id];
    return {
      ...file,
      sessions: [...file.sessions.filter((s) => !kept.has(s.id)), ...[...kept.values()]],
      heldAsWas: [...file.heldAsWas, ...file.onHold.filter((id) => kept.has(id))],
      onHold: file.onHold.filter((id) => !kept.has(id)),
      onHoldCourses,
    };
  }

  /** The kept entries of a built schedule's held sessions, read once for it; a failed read is tried again. */
  private keptOf(schedule: Schedule, held: readonly string[]): Promise<Map<string, Session>> {
    const now = this.d.clock.now().getTime();
    // Read again after a while: only the instance running the pass clears it, and another instance may have kept a
    // newer copy (or a forget rewritten one's hosts) meanwhile.
    if (this.keptRead?.schedule === schedule && now - this.keptRead.at < KEPT_READ_MS) return this.keptRead.kept;
    const kept = this.d.changes.lastGood(held).catch((err: unknown) => {
      if (this.keptRead?.schedule === schedule) this.keptRead = undefined;
      throw err;
    });
    this.keptRead = { schedule, kept, at: now };
    return kept;
  }

  /**
   * The scheduler's pass: keeps the good sessions of the schedule served (where every instance reads them), and reads
   * the held ones' kept entries afresh at the next build (the pass, here or on another instance, may have changed them).
   */
  async keepServed(): Promise<void> {
    this.keptRead = undefined;
    await this.keepOrWarn(this.d.schedule());
  }

  /** Not kept (storage busy): served all the same; the next pass or turn tries again, and a held one is as last kept. */
  private keepOrWarn(schedule: Schedule): Promise<void> {
    return this.keepLastGood(schedule).catch((err: unknown) => this.d.warn?.({ err }, 'could not keep the schedule file\'s sessions as served'));
  }

  /** Keeps the file's good sessions of a newly built schedule where every instance reads them; tried again if it fails. */
  private keepLastGood(schedule: Schedule): Promise<void> {
    if (this.kept?.schedule === schedule) return this.kept.done;
    const now = this.d.clock.now().toISOString();
    const good: LastGood[] = schedule.sessions
      .filter((s) => !schedule.heldAsWas.includes(s.id))
      .map((session) => {
        const { digest } = knownSession(session);
        const before = this.goodSince.get(session.id);
        const since = before?.digest === digest ? before.since : now;
        this.goodSince.set(session.id, { digest, since });
        return { session, digest, since };
      });
    const done = this.d.changes.keepGood(good).catch((err: unknown) => {
      if (this.kept?.schedule === schedule) this.kept = undefined;
      throw err;
    });
    this.kept = { schedule, done };
    return done;
  }

  /** One occurrence by id, as it stands now (moved or cancelled). */
  async find(occurrenceId: string, schedule?: Schedule): Promise<Occurrence | undefined> {
    const parts = splitOccurrenceId(occurrenceId);
    if (!parts) return undefined;
    const session = (schedule ?? (await this.current())).sessions.find((s) => s.id === parts.sessionId);
    if (!session || !isOccurrenceKey(session, parts.key)) return undefined;
    return occurrence(session, parts.key, lastChange(session.changes, parts.key));
  }

  membership(viewer: Pick<Viewer, 'keys'>): Promise<Membership> {
    return this.d.directory.membership(viewer.keys);
  }

  // ---- staff --------------------------------------------------------------------------------------

  /**
   * The office-hours sessions offered to the viewer in the next four weeks, up to a page from `at` (full ones
   * too: they say so), with seats left and their own bookings. Nothing left after the cursor (those sessions
   * cancelled or over since the card was sent), or an old card's page past the end, gives the last page; nothing
   * before it, the first.
   */
  async upcoming(viewer: Viewer, at?: ListAt, perPage = PAGE_SIZE): Promise<SessionPage> {
    const now = this.d.clock.now();
    const [schedule, m, mine] = await Promise.all([this.current(), this.membership(viewer), this.d.bookings.ofPerson(viewer.person.id)]);
    // A held session (no new bookings) is listed only to those booked on it: their seat, to see or cancel.
    const all = allOccurrences(schedule, now, offeredUntil('office-hours', now), (s) => s.kind === 'office-hours' && offeredTo(s, m, viewer.role))
      .filter((o) => o.status === 'scheduled' && (!schedule.heldAsWas.includes(o.session.id) || mine.some((b) => b.occurrenceId === o.id && b.status === 'booked')));
    // The list's own order (allOccurrences): start, then id.
    const place = (o: Occurrence, c: ListCursor) => o.start.getTime() - c.t || (o.id < c.id ? -1 : o.id > c.id ? 1 : 0);
    type Window = { from: number; to: number; keep: SessionPage['keep'] };
    const forward = (from: number): Window => ({ from, to: Math.min(all.length, from + perPage), keep: 'start' });
    const back = (to: number): Window => ({ from: Math.max(0, to - perPage), to, keep: 'end' });
    let window = forward(0);
    if (at && 'after' in at) {
      const i = all.findIndex((o) => place(o, at.after) > 0);
      window = i < 0 ? back(all.length) : forward(i);
    } else if (at && 'before' in at) {
      const j = all.findIndex((o) => place(o, at.before) >= 0);
      const to = j < 0 ? all.length : j;
      window = to === 0 ? forward(0) : back(to);
    } else if (at) {
      const from = Math.max(0, Math.trunc(at.page)) * perPage;
      window = from >= all.length ? back(all.length) : forward(from);
    }
    const shown = all.slice(window.from, window.to);
    return { offers: await Promise.all(shown.map((o) => this.offer(o, viewer, mine))), index: window.from, total: all.length, keep: window.keep };
  }

  /** The viewer's training timeline and what they belong to. */
  async training(viewer: Viewer): Promise<{ membership: Membership; items: (TimelineItem & { offer?: Offer })[] }> {
    const [schedule, m, mine] = await Promise.all([this.current(), this.membership(viewer), this.d.bookings.ofPerson(viewer.person.id)]);
    const items = trainingTimeline(schedule, m, mine, this.d.clock.now());
    const withOffers = await Promise.all(
      items.map(async (item) => {
        const bookable = item.status === 'missed' ? item.nextChance : item.status === 'next' || item.status === 'booked' ? item.occurrence : undefined;
        return bookable ? { ...item, offer: await this.offer(bookable, viewer, mine) } : item;
      }),
    );
    return { membership: m, items: withOffers };
  }

  async book(viewer: Viewer, occurrenceId: string, question: string): Promise<BookResult> {
    if (!allows(viewer.role, 'officehours.book')) return { kind: 'message', text: 'You cannot book sessions.' };
    // Quoted inside the bot's own lines ("bringing: …", the reminder): one line, no direction override; nothing
    // visible is no question.
    const typed = oneLine(question).trim();
    const text = isBlank(typed) ? '' : typed;
    if (text.length > QUESTION_LIMIT) {
      return { kind: 'message', text: `Your question can be at most ${QUESTION_LIMIT} characters (this one has ${text.length}). Shorten it and press Book again.` };
    }
    const schedule = await this.current();
    const o = await this.find(occurrenceId, schedule);
    if (!o) return { kind: 'message', text: 'I could not find that session any more. Type "office hours" for the current ones.' };
    const now = this.d.clock.now();
    const why = unbookable(o, now);
    if (why) return { kind: 'message', text: `${why}${await this.nextHint(viewer, o, schedule)}` };
    if (!offeredTo(o.session, await this.membership(viewer), viewer.role)) {
      return { kind: 'message', text: 'That session is for another group of staff. Type "office hours" or "my training" for yours.' };
    }
    // Held (its entry in the file being corrected, served as it last was) or too far ahead: no new seat. One they hold
    // a seat on came from a card of theirs (though moved further since): a repeated Book, so answered as one (read
    // only here: a session within the list goes to the store, which says so itself).
    const closed = schedule.heldAsWas.includes(o.session.id) ? HELD_BOOK : tooFarAhead(o, now);
    if (closed) {
      const held = await this.d.bookings.booking(o.id, viewer.person.id);
      if (held?.status !== 'booked') return { kind: 'message', text: closed };
      return { kind: 'booked', offer: await this.offer(o, viewer), fresh: false };
    }
    const res = await this.d.bookings.book(o.id, o.session.capacity, viewer.person, {
      question: text,
      zone: viewer.zone,
      start: o.start.toISOString(),
      // Kept with the booking: should the session leave the schedule file, its cancel is built from these.
      title: o.session.title,
      end: o.end.toISOString(),
      sequence: o.sequence,
    });
    if (res.kind === 'full') {
      return { kind: 'message', text: `Sorry, that session is full (${o.session.capacity} seat${o.session.capacity === 1 ? '' : 's'}).${await this.nextHint(viewer, o, schedule)}` };
    }
    const offer = await this.offer(o, viewer);
    return { kind: 'booked', offer, fresh: res.kind === 'booked' };
  }

  /** `calendarUrl`: the cancelled seat's calendar file (a cancel), to take the entry out of their calendar. */
  async cancelBooking(viewer: Viewer, occurrenceId: string): Promise<{ text: string; occurrence?: Occurrence; calendarUrl?: string }> {
    const o = await this.find(occurrenceId);
    if (!o) return { text: 'I could not find that session any more. Type "office hours" for the current ones.' };
    if (o.end.getTime() <= this.d.clock.now().getTime()) return { text: 'That session is over; there is nothing to cancel.', occurrence: o };
    const cancelled = await this.d.bookings.cancel(o.id, viewer.person.id);
    // The rollout team called it off: there is no one to offer the seat to, and that is the news.
    const text =
      o.status === 'cancelled'
        ? `${o.session.title} on ${spanIn(o, viewer.zone)} was cancelled${o.reason ? ` (${o.reason})` : ''}; your seat is released.`
        : `Your seat at ${o.session.title} on ${spanIn(o, viewer.zone)} is cancelled, and offered to someone else.`;
    return cancelled
      ? {
          text,
          occurrence: o,
          calendarUrl: this.calendarLink(cancelled, o),
        }
      : { text: 'You have no seat at that session.', occurrence: o };
  }

  /**
   * The calendar file behind a signed link, or undefined when the link is forged, expired or the booking is gone.
   * A session taken out of the schedule file (or a date its rule no longer has) is served as a cancel, built
   * from what the booking kept, so the entry leaves the person's calendar. Its SEQUENCE is never below what those
   * booked were told (servedSequence): one put back in the file after such a cancel comes back newer than it.
   * `unavailable`: what it served could not be recorded, and serving it unrecorded is not safe: to be tried again; or
   * the session is held (Schedule.onHold), and neither it nor a cancel can be served until its entry is fixed.
   */
  async calendar(token: string): Promise<{ filename: string; content: string } | { unavailable: string } | undefined> {
    const bookingId = this.d.links.verify(token);
    if (!bookingId) return undefined;
    const booking = await this.d.bookings.byId(bookingId);
    if (!booking) return undefined;
    const schedule = await this.current();
    const seats = await this.d.bookings.seatsOf(booking.occurrenceId);
    let found: Occurrence | undefined;
    if (schedule.onHold.includes(splitOccurrenceId(booking.occurrenceId)?.sessionId ?? '')) {
      // Held (its entry in the file is being corrected): a cancel only where one was told or served (taken out and
      // announced, then put back with a typo) or the seat is cancelled, from what was stored; else nothing, as a cancel
      // would take it out of their calendar unannounced.
      // The latest of the two counts (the higher SEQUENCE): a cancel served once, then told "back on", is not served.
      const cancelled = ((seats.issuedSequence ?? -1) > (seats.toldSequence ?? -1) ? seats.issuedStatus : seats.toldStatus) === 'cancelled';
      if (!cancelled && booking.status !== 'cancelled') return { unavailable: HELD_CALENDAR };
      found = await this.removedOccurrence(booking.occurrenceId, { seats }, cancelled ? 'cancelled' : 'scheduled');
    } else {
      const here = await this.find(booking.occurrenceId, schedule);
      found = here && !overWhileToldAhead(here, seats, this.d.clock.now().getTime()) ? here : await this.removedOccurrence(booking.occurrenceId, { seats });
    }
    if (!found) return undefined;
    const served = { start: found.start.toISOString(), status: found.status, sequence: servedSequence({ start: found.start.toISOString(), status: found.status, sequence: found.sequence }, seats) };
    // What calendars may now hold: a later cancel (the session taken out of the file) must go above it.
    if (!(typeof seats.issuedSequence === 'number' && seats.issuedSequence >= served.sequence)) {
      let refused = false;
      await this.d.bookings.recordIssued(booking.occurrenceId, served).catch((err: unknown) => {
        this.d.warn?.({ err, occurrenceId: booking.occurrenceId }, 'could not record the calendar entry served');
        // Unrecorded, a later change or cancel (built from what is stored) may come out no newer than this entry, and
        // calendars ignore it: the entry would stay after a cancel. So the file is served anyway only when every later
        // change is newer regardless: SEQUENCE 0 (every change counts at least 1), or the entry those booked were told
        // (a later notice or cancel goes above what was told). Otherwise the download is refused, to be tried again.
        const told = seats.toldStart === served.start && seats.toldStatus === served.status && served.sequence <= (seats.toldSequence ?? -1);
        if (served.sequence > 0 && !told) refused = true;
      });
      // Said in words (the person opened a link in a browser), not the generic "could not be handled".
      if (refused) return { unavailable: 'your calendar file could not be prepared just now; open the link again in a minute' };
    }
    const o = { ...found, sequence: served.sequence };
    return {
      filename: `${o.session.id}-${o.key.slice(0, 10)}.ics`,
      content: occurrenceIcs(o, booking, this.d.clock.now(), this.d.systemName),
    };
  }

  calendarLink(booking: Pick<Booking, 'id'>, o: Occurrence): string {
    const now = this.d.clock.now().getTime();
    const expires = new Date(Math.min(o.end.getTime() + DAY_MS, now + LINK_MAX_MS));
    return this.d.calendarUrl(this.d.links.sign(booking.id, expires));
  }

  // ---- rollout team -------------------------------------------------------------------------------

  /**
   * `office hours add`: a session from the card form; the caller is its host. `requestKey` names the form (its
   * card): the session's id comes from it and what was typed, so a second press of Add (a double click: two
   * invokes) finds the session the first one added instead of adding it twice.
   */
  async addSession(viewer: Viewer, form: AddForm, requestKey = ''): Promise<AddResult> {
    if (!allows(viewer.role, 'officehours.manage')) return { kind: 'message', text: 'That is for the rollout team only.' };
    const values = Object.fromEntries(Object.entries(form).map(([k, v]) => [k, (v ?? '').trim()])) as AddForm;
    const long = overLong(values);
    if (long) return { kind: 'invalid', ...long };
    const suffix = requestKey
      ? createHash('sha256').update(`${requestKey}|${JSON.stringify(Object.entries(values).sort())}`).digest('hex').slice(0, 6)
      : this.d.clock.now().getTime().toString(36).slice(-5);
    const typed = typedChoices(values, this.d.directory.rollout);
    if (typeof typed === 'string') return { kind: 'invalid', values, error: typed };
    const entry = sessionEntry({ ...values, ...typed }, viewer.person, suffix);
    if (typeof entry === 'string') return { kind: 'invalid', values, error: entry };
    const checked = checkSession(entry, this.defaultZone, this.d.directory.rollout, 'teams');
    if (!checked.ok) return { kind: 'invalid', values, error: `${FIELD_LABEL[checked.field ?? ''] ?? checked.field ?? 'The form'}: ${checked.message}` };
    const session: Session = { ...checked.session, changes: [] };
    const now = this.d.clock.now();
    const next = allOccurrences({ sessions: [session] }, now, new Date(now.getTime() + 10 * 365 * DAY_MS)).slice(0, 3);
    // A session that never meets again would be "added" and shown to no one: a mistyped year, most likely.
    if (!next.length) {
      const error = session.rule ? 'Until: its last session would be in the past; give a date still ahead.' : 'Date and time: that is in the past; give a date still ahead.';
      return { kind: 'invalid', values, error };
    }
    if (!(await this.d.changes.addSession(session, viewer.person.id))) {
      const earlier = requestKey ? (await this.d.changes.sessions()).find((s) => s.id === session.id) : undefined;
      if (earlier) return { kind: 'added', session: earlier, next, again: true };
      return { kind: 'invalid', values, error: 'Press Add again: that name was just taken.' };
    }
    return { kind: 'added', session, next };
  }

  /** `office hours cancel <date> [time] [session id] [reason]`. */
  async cancelOccurrence(viewer: Viewer, args: string): Promise<string> {
    return this.changeOccurrence(viewer, args, 'cancel');
  }

  /** `office hours move <date> [time] [session id] [new date] <new time>`. */
  async moveOccurrence(viewer: Viewer, args: string): Promise<string> {
    return this.changeOccurrence(viewer, args, 'move');
  }

  private async changeOccurrence(viewer: Viewer, args: string, what: 'cancel' | 'move'): Promise<string> {
    if (!allows(viewer.role, 'officehours.manage')) return 'That is for the rollout team only.';
    const usage =
      what === 'cancel'
        ? 'Type it as "office hours cancel 2026-12-08" (add the time or the session\'s id when several meet that day, and a reason after them).'
        : 'Type it as "office hours move 2026-12-08 15:00" (same day) or "office hours move 2026-12-08 2026-12-09 15:00" (add the session\'s id when several meet that day).';
    const schedule = await this.current();
    const tokens = args.split(/\s+/).filter(Boolean);
    const dates = tokens.filter((t) => /^\d{4}-\d{2}-\d{2}$/.test(t));
    const times = tokens.filter((t) => /^\d{1,2}:\d{2}$/.test(t));
    const ids = tokens.filter((t) => schedule.sessions.some((s) => s.id === t));
    const reason = tokens.filter((t) => !dates.includes(t) && !times.includes(t) && !ids.includes(t)).join(' ').slice(0, 200);
    const day = dates[0];
    if (!day || (what === 'move' && !times.length)) return usage;
    const atTime = what === 'cancel' ? times[0] : times.length > 1 ? times[0] : undefined;
    const now = this.d.clock.now();
    const candidates = schedule.sessions
      .filter((s) => !ids.length || ids.includes(s.id))
      .flatMap((s) => {
        const key = localDateTime(`${day} ${atTime ?? s.start.slice(11)}`);
        if (key && isOccurrenceKey(s, key)) return [occurrence(s, key, lastChange(s.changes, key))];
        if (atTime || !s.rule) return [];
        // A rule with several times a day: every occurrence whose original start falls on that day.
        return allOccurrences({ sessions: [s] }, new Date(Date.parse(`${day}T00:00:00Z`) - DAY_MS), new Date(Date.parse(`${day}T00:00:00Z`) + 2 * DAY_MS)).filter((o) => o.key.startsWith(day));
      });
    // One moved onto that day is named by the day (and time) it now meets on too, so "cancel <day>" never
    // picks another session of that day without asking.
    const movedHere = allOccurrences(
      { sessions: schedule.sessions.filter((s) => !ids.length || ids.includes(s.id)) },
      new Date(Date.parse(`${day}T00:00:00Z`) - DAY_MS),
      new Date(Date.parse(`${day}T00:00:00Z`) + 2 * DAY_MS),
    ).filter((o) => {
      const local = instantToLocal(o.start, o.session.zone);
      return o.movedFrom && local.startsWith(day) && (!atTime || local.slice(11) === atTime.padStart(5, '0'));
    });
    for (const o of movedHere) if (!candidates.some((c) => c.id === o.id)) candidates.push(o);
    if (!candidates.length) return `There is no session on ${day}${atTime ? ` at ${atTime}` : ''}${ids.length ? ` of ${ids.join(', ')}` : ''}. ${usage}`;
    if (candidates.length > 1) {
      const at = (o: Occurrence) => instantToLocal(o.start, o.session.zone).slice(11);
      return `Several sessions meet on ${day}: ${candidates.map((o) => `${o.session.id} at ${at(o)}`).join(', ')}. Add the time or the session's id, e.g. "office hours ${what} ${day} ${at(candidates[0] as Occurrence)}${what === 'move' ? ' 15:00' : ''}".`;
    }
    const o = candidates[0] as Occurrence;
    if (o.start.getTime() <= now.getTime()) return `${o.session.title} on ${dateTimeIn(o.start, o.session.zone)} has already started; it can't be changed now.`;
    let moveTo: string | undefined;
    if (what === 'move') {
      moveTo = localDateTime(`${dates[1] ?? day} ${times[times.length - 1]}`);
      if (!moveTo) return `"${dates[1] ?? day} ${times[times.length - 1]}" is not a date and time. ${usage}`;
      if (localToInstant(moveTo, o.session.zone).getTime() <= now.getTime()) return 'A session can only be moved to a time still ahead.';
      const far = tooFarToMove(o, moveTo, now);
      if (far) return far;
    } else if (o.status === 'cancelled') {
      return `${o.session.title} on ${dateTimeIn(o.start, o.session.zone)} is already cancelled.`;
    }
    const change = await this.d.changes.change(o.session.id, o.key, lastChange(o.session.changes, o.key), {
      cancelled: what === 'cancel',
      ...(moveTo ? { moveTo } : {}),
      ...(reason ? { reason } : {}),
    }, viewer.person.id);
    const changed = occurrence(o.session, o.key, change);
    // The change is saved whatever happens to its notice: one that could not be queued is given back, and the
    // scheduled pass (which sees the session changed) queues it. Said so, rather than an error for a saved change.
    const told = await this.tellBooked(changed).catch((err: unknown) => {
      this.d.warn?.({ err, occurrenceId: o.id }, 'the notice of a change could not be queued; the next pass sends it');
      return undefined;
    });
    const when = `${dateTimeIn(o.start, o.session.zone)} (${o.session.zone})`;
    const later = async () => bookedToldLater((await this.d.bookings.seatsOf(o.id).catch(() => undefined))?.booked, what === 'move');
    const tail =
      told === undefined ? await later() : what === 'cancel' ? `${bookedTold(told)}.` : `${bookedTold(told)}, with an updated calendar entry.`;
    return what === 'cancel'
      ? `Cancelled: ${o.session.title} on ${when}. ${tail}`
      : `Moved: ${o.session.title} of ${when} is now on ${dateTimeIn(changed.start, o.session.zone)}.${
          // A move undoes a cancel (a holiday's, say): said, so it is not done unawares.
          o.status === 'cancelled' ? ' It had been cancelled: it is back on, and staff can book it again.' : ''
        } ${tail}`;
  }

  // ---- hosts --------------------------------------------------------------------------------------

  /** A page of the agenda, for "Previous"/"Next" on its card: hosts only, like every action on it. */
  async agenda(viewer: Viewer, occurrenceId: string): Promise<HostResult> {
    if (!allows(viewer.role, 'officehours.host')) return { kind: 'message', text: 'That is for the hosts: champions and the rollout team.' };
    const o = await this.find(occurrenceId);
    if (!o) return { kind: 'message', text: 'I could not find that session any more.' };
    return { kind: 'agenda', occurrence: o, notice: '' };
  }

  /**
   * After the session: who attended among the people the card showed (`shown`: that page of the agenda),
   * `present` those ticked. Only booked people on the page change; others keep their mark, and anyone not
   * booked is ignored (the card's data can be forged). Without `shown` — a card sent before the agenda was
   * paged, which listed everyone booked — the list is the whole session, as it was then: everyone booked not
   * ticked is marked absent.
   */
  async markAttendance(viewer: Viewer, occurrenceId: string, present: readonly string[], shown?: readonly string[]): Promise<HostResult> {
    if (!allows(viewer.role, 'officehours.host')) return { kind: 'message', text: 'That is for the hosts: champions and the rollout team.' };
    if (shown && shown.length > AGENDA_PAGE) {
      return { kind: 'message', text: `That list names ${shown.length} people; a page of the agenda has at most ${AGENDA_PAGE}. Nothing was saved: ask for the agenda again.` };
    }
    const o = await this.find(occurrenceId);
    if (!o) return { kind: 'message', text: 'I could not find that session any more.' };
    if (o.start.getTime() > this.d.clock.now().getTime()) return { kind: 'message', text: 'Attendance can be marked once the session has started.' };
    // It never took place: marking it would count a course as attended in "my training" and the measures.
    if (o.status === 'cancelled') return { kind: 'message', text: `${o.session.title} on ${dateTimeIn(o.start, o.session.zone)} was cancelled; there is no attendance to mark.` };
    const marked = await this.d.bookings.markAttendance(o.id, new Set(present), shown ? new Set(shown) : undefined);
    const n = marked.filter((b) => b.attended).length;
    return { kind: 'agenda', occurrence: o, notice: `Attendance saved: ${n} of ${marked.length} booked attended.` };
  }

  /**
   * From the agenda: a brought question logged as an issue, in the name of the person who brought it. Storage not
   * answering (before the log, or the issue log holding the report on disk): the press is kept on disk (`held`),
   * logged by `fileHeldQuestion` when storage is back, under the same request key, so nothing is logged twice.
   */
  async questionToIssue(
    viewer: Viewer,
    occurrenceId: string,
    personId: string,
    fields: IssueFields,
  ): Promise<HostResult | { kind: 'invalid'; occurrence: Occurrence; notice: string }> {
    if (!allows(viewer.role, 'officehours.host')) return { kind: 'message', text: 'That is for the hosts: champions and the rollout team.' };
    try {
      const res = await this.logBrought(viewer, occurrenceId, personId, fields);
      if (res.kind !== 'held') return res;
    } catch (err) {
      if (!isStorageUnavailable(err) || !this.d.held) throw err;
    }
    if (!this.d.held) return { kind: 'message', text: 'The issue could not be logged; try again.' };
    await this.d.held.keep(`officehours|${this.d.held.hash(`${occurrenceId}|${personId}`)}`, { host: viewer.person, role: viewer.role, occurrenceId, personId, fields });
    return { kind: 'message', text: HELD_QUESTION };
  }

  /**
   * Logs a press kept while storage did not answer (`questionToIssue`) and tells its host the outcome 1:1 (in the
   * triage channel when they have no chat with the bot), once. Throws while storage still does not answer: kept.
   *
   * A forget on another instance cannot reach this disk: a host or bringer forgotten since the press was kept (on any
   * instance, as `forgottenSince` records it) is taken as a forget here would have left the press — the host's
   * pseudonym logs it and is told nothing. A bringer forgotten since (here: the press then names their pseudonym; or on
   * another instance) has it logged all the same, under their pseudonym, as a report held for them is filed: the press
   * was made before the forget, and the issue is the organisation's record. Their words went with their booking's
   * question, so the issue carries the host's title and the session, not the question.
   */
  async fileHeldQuestion(entry: OutboxEntry<HeldQuestion>): Promise<void> {
    const item = entry.item;
    const kept = new Date(entry.at);
    const gone = async (id: string) => (isPseudonym(id) ? undefined : (await this.d.forgottenSince?.([id], kept))?.pseudonym);
    const hostGone = await gone(item.host.id);
    const person: Person = hostGone ? { id: hostGone.id, name: hostGone.name } : item.host;
    const bringerGone = await gone(item.personId);
    const personId = bringerGone?.id ?? item.personId;
    const host: Viewer = { person, role: item.role, keys: [person.id], zone: this.defaultZone, zoneKnown: false };
    const res = await this.logBrought(host, item.occurrenceId, personId, item.fields, kept, isPseudonym(personId), bringerGone && { id: item.personId, as: bringerGone });
    if (res.kind === 'held') throw new Error('storage did not answer while logging a held brought question; kept');
    const outcome = res.kind === 'message' ? res.text : res.kind === 'invalid' ? `Not logged: ${res.notice} Open the agenda and log it again.` : res.notice;
    const content = `You asked to log a brought question as an issue while storage was not answering. ${outcome}`;
    // A host forgotten (here, before or while this ran, or on another instance) is told nothing.
    if (isPseudonym(person.id) || (await gone(person.id))) return;
    await this.d.outbox.enqueue([
      {
        op: 'send',
        // The held key: it names nobody (a keyed hash).
        key: `officehours-held|${entry.key}`,
        to: { kind: 'user', userKey: person.id },
        content,
        fallback: { to: { kind: 'channel', role: 'triage' }, content: `For ${person.name}: ${content}` },
      },
    ]);
  }

  private async logBrought(
    viewer: Viewer,
    occurrenceId: string,
    personId: string,
    fields: IssueFields,
    /** When the host pressed (a held press: when it was kept). */
    pressed = this.d.clock.now(),
    /** A held press whose bringer was forgotten since: their booking, moved to the pseudonym, has no question any more. */
    bringerForgotten = false,
    /** That bringer's id before the forget (another instance's forget): their booking may not be moved yet. */
    former?: { id: string; as: { id: string; name: string } },
  ): Promise<HostResult | { kind: 'invalid'; occurrence: Occurrence; notice: string } | { kind: 'held' }> {
    const o = await this.find(occurrenceId);
    let booking = o ? await this.d.bookings.booking(o.id, personId) : undefined;
    /** The id the booking's row is under (the original's, until the forget moves it). */
    let bookedAs = personId;
    // A forget is recorded (ForgottenKeys) before its office-hours part moves the bookings to the pseudonym: in
    // between, the booking is still under the bringer's id. Logged from it all the same, as the pseudonym and
    // without their words (as if moved); the forget moves it, and the reference, afterwards.
    if (o && !booking && former) {
      const before = await this.d.bookings.booking(o.id, former.id);
      if (before) {
        booking = { ...before, personId: former.as.id, name: former.as.name, question: '' };
        bookedAs = former.id;
      }
    }
    if (!o || !booking || !(booking.question || bringerForgotten)) return { kind: 'message', text: 'That question is no longer on the agenda.' };
    if (booking.issueRef) return { kind: 'agenda', occurrence: o, notice: `Already logged as ${booking.issueRef}.` };
    const reporter = { id: booking.personId, name: booking.name };
    const question = booking.question || FORGOTTEN_QUESTION;
    const outcome = await this.d.issues.report(
      { person: reporter, reporter: { ...reporter, conversationKey: booking.personId }, role: 'staff' },
      {
        title: (fields.title?.trim() || question).slice(0, 120),
        description: `${question}\n\nBrought to ${o.session.title} on ${dateTimeIn(o.start, o.session.zone)} (${o.session.zone}); ${loggedByClause(viewer.person.name)}`,
        location: OFFICE_HOURS_LOCATION,
        category: fields.category ?? '',
        severity: fields.severity ?? '',
        site: fields.site ?? '',
      },
      // One issue per brought question, however often the button is pressed.
      // The host named as who logged it: their `forget`, however much later, finds the issue and its "logged by".
      { requestKey: `officehours|${booking.id}`, checkSimilar: false, loggedBy: { id: viewer.person.id, name: viewer.person.name } },
    );
    if (outcome.kind === 'invalid') {
      return { kind: 'invalid', occurrence: o, notice: Object.values(outcome.errors).filter(Boolean).join(' ') };
    }
    // Logged (by an earlier press, or the first try of this one), then the person was forgotten before the booking
    // took the reference: the issue stands, anonymised. The booking takes it now, under their id or, if forget
    // has moved it already, under the pseudonym's, so pressing again says it is logged; nothing names them.
    const loggedAnonymously = async (ref: string, stand: { id: string; name: string }): Promise<HostResult> => {
      const record = (id: string) => this.d.bookings.update(o.id, id, (b) => (b.issueRef ? undefined : { issueRef: ref }));
      if (!(await record(bookedAs))) await record(stand.id);
      return {
        kind: 'agenda',
        occurrence: o,
        notice: `The person who brought this question asked to be forgotten while it was being logged. It is logged anonymously as ${ref} (reported by ${stand.name}); nothing about it is sent to them.`,
      };
    };
    if (outcome.kind === 'outdated') return loggedAnonymously(outcome.logged.ref, outcome.logged.reporter);
    // The issue log kept the report on disk: the booking must take its reference too (the caller keeps this press).
    if (outcome.kind === 'held') return outcome;
    if (outcome.kind !== 'logged') return { kind: 'message', text: 'The issue could not be logged; try again.' };
    await this.d.bookings.update(o.id, bookedAs, () => ({ issueRef: outcome.issue.ref }));
    // A forget that landed during this press anonymises the issue (and moves the booking, maybe before it took the
    // reference): looked for after the write, so the host is never shown the name of someone forgotten meanwhile.
    // Its issues part may have looked before this issue existed: the issue is anonymised here too (again is harmless).
    if (bringerForgotten) return loggedAnonymously(outcome.issue.ref, reporter);
    const forgotten = await this.d.forgottenSince?.([booking.personId], pressed);
    if (forgotten) {
      await this.d.anonymiseIssues?.({ ids: [booking.personId] }, forgotten.pseudonym);
      return loggedAnonymously(outcome.issue.ref, forgotten.pseudonym);
    }
    return { kind: 'agenda', occurrence: o, notice: `Logged as ${outcome.issue.ref} for ${booking.name}; they follow it in "my issues".` };
  }

  /** From the agenda: a brought question marked as a gap in the guidance (it joins `gaps`), once. */
  async questionGap(viewer: Viewer, occurrenceId: string, personId: string): Promise<HostResult> {
    if (!allows(viewer.role, 'officehours.host')) return { kind: 'message', text: 'That is for the hosts: champions and the rollout team.' };
    const o = await this.find(occurrenceId);
    const booking = o ? await this.d.bookings.booking(o.id, personId) : undefined;
    if (!o || !booking?.question) return { kind: 'message', text: 'That question is no longer on the agenda.' };
    if (booking.gapAt) return { kind: 'agenda', occurrence: o, notice: 'Already marked as a guidance gap.' };
    const now = this.d.clock.now().toISOString();
    const claimed = await this.d.bookings.update(o.id, personId, (b) => (b.gapAt ? undefined : { gapAt: now }));
    if (claimed?.gapAt === now) await this.d.markGap(booking.question, { id: booking.personId, name: booking.name });
    return { kind: 'agenda', occurrence: o, notice: 'Marked as a gap in the guidance: champions see it in "gaps".' };
  }

  // ---- notices --------------------------------------------------------------------------------------

  /**
   * Tells those booked that an occurrence was cancelled or moved, once per change across instances (the
   * seats row records what they were told). Returns how many were told now.
   */
  async tellBooked(o: Occurrence): Promise<number> {
    return (await this.notify(o)).told;
  }

  /**
   * tellBooked, also saying whether another caller holds the notice still to be queued (`held`): the pass then
   * looks again rather than settling. The claim stays pending until the messages are queued: given back if the
   * enqueue fails, taken over once its hold ends if this instance stops first; the next claim queues the same
   * keys, and the outbox sends a key once.
   */
  private async notify(o: Occurrence): Promise<Notified> {
    const start = o.start.toISOString();
    const claim = await this.d.bookings.claimNotice(o.id, start, o.status, o.sequence);
    if (!claim || claim === 'held') return { told: 0, held: claim === 'held' };
    let booked: Booking[];
    try {
      booked = (await this.d.bookings.bookings(o.id)).filter((b) => b.status === 'booked');
      await this.d.outbox.enqueue(
        booked.map((b) => ({
          op: 'send' as const,
          // With the SEQUENCE told: a session back on at a time they were told before (moved there, then taken off
          // the schedule and put back) is a new notice, not a repeat of the old one.
          key: `officehours|notice|${o.id}|${o.status}|${start}|${claim.toldSequence}|${b.personId}`,
          to: { kind: 'user' as const, userKey: b.personId },
          content: this.noticeText(o, b, claim.toldStart, claim.toldStatus === 'cancelled'),
        })),
      );
    } catch (err) {
      // Not queued: the next pass claims it again at once (if this fails too, once its hold ends).
      await this.d.bookings.releaseNotice(o.id, start, o.status, claim.toldSequence).catch(() => undefined);
      throw err;
    }
    await this.d.bookings.noticeQueued(o.id, start, o.status, claim.toldSequence);
    return { told: booked.length, held: false };
  }

  /**
   * The scheduled pass's notices: those booked on an occurrence cancelled or moved (in the file or from Teams), on
   * one no longer in the schedule, or on one put back. Only sessions that changed since the pass last settled
   * (by the digest it keeps of each, ScheduleChanges.known) are looked at, so a pass with nothing changed reads
   * no booking at all; what it saw is settled once all is told (a failed pass is done again, told once by the
   * claims). The first pass of all also looks at bookings of sessions it never saw (taken out before).
   */
  async tellChanges(schedule: Schedule, now: Date): Promise<number> {
    const known = await this.d.changes.known();
    // A session held (its entry in the file can't be served, its id still there) is neither present nor removed: what
    // the pass last saw of it stands, and nothing is told, until its entry is fixed (then compared as usual) or taken out.
    const present = new Set([...schedule.sessions.map((s) => s.id), ...schedule.onHold]);
    const seen: KnownSession[] = [];
    for (const s of schedule.sessions) {
      const k = knownSession(s);
      if (known.sessions.get(s.id)?.digest !== k.digest) seen.push(k);
    }
    for (const [id, k] of known.sessions) if (!present.has(id) && k.digest !== REMOVED) seen.push({ id, digest: REMOVED });
    const touched = new Set(seen.map((k) => k.id));
    // One held before the pass ever saw it (held on the first pass, or added to the file held) is recorded as seen, so
    // taking it out later is a removal, told; fixed, it differs from this and is compared as usual. Not touched now.
    for (const id of schedule.onHold) if (!known.sessions.has(id)) seen.push({ id, digest: HELD_DIGEST });
    // A kept copy left of one already told removed would be served, "back on", should its id come back held.
    // Clean-up only: a failure here must not keep this pass's notices from going.
    await this.d.changes
      .dropKept([...known.sessions].filter(([id, k]) => k.digest === REMOVED && !present.has(id)).map(([id]) => id))
      .catch((err: unknown) => this.d.warn?.({ err }, 'could not drop kept entries of removed sessions; the next pass tries again'));
    if (!seen.length && known.settled) return 0;
    let told = 0;
    // A notice another instance holds, not yet queued: left unsettled, so the next pass looks again (should that
    // instance have stopped).
    let held = false;
    // One notice that cannot be queued does not hold back the others: the pass goes on, then fails unsettled.
    let failed: unknown;
    const add = async (notified: () => Promise<Notified>) => {
      try {
        const n = await notified();
        told += n.told;
        held ||= n.held;
      } catch (err) {
        failed ??= err;
      }
    };
    // Each occurrence is looked at once a pass: one whose change was told here is not looked at again below.
    const looked = new Set<string>();
    for (const s of schedule.sessions) {
      if (!touched.has(s.id)) continue;
      for (const key of new Set(s.changes.map((c) => c.key))) {
        if (!isOccurrenceKey(s, key)) continue;
        const o = occurrence(s, key, lastChange(s.changes, key));
        if ((o.status === 'cancelled' || o.movedFrom) && o.start.getTime() > now.getTime()) {
          looked.add(o.id);
          await add(() => this.notify(o));
        }
      }
    }
    // As far ahead as anything can be booked, and moved on from there (a told move files it under its new start);
    // from MOVE_LIMIT_DAYS back: one booked then, before told moves were filed, may have been moved ahead since (its
    // month row, not marked `told`, keeps the start it was first booked at). Once a pass has settled, only the
    // touched sessions' bookings are read; before, every one.
    const booked = await this.d.bookings.bookedBetween(
      new Date(now.getTime() - MOVE_LIMIT_DAYS * DAY_MS),
      new Date(bookableUntil(now).getTime() + MOVE_LIMIT_DAYS * DAY_MS),
      known.settled ? [...touched] : undefined,
    );
    // The changes made from Teams, read once a pass (by the first occurrence gone from the schedule that needs them).
    let teamsChanges: Promise<Map<string, OccurrenceChange[]>> | undefined;
    const teams = () => (teamsChanges ??= this.d.changes.changes());
    const due = booked.filter(({ occurrenceId }) => {
      if (looked.has(occurrenceId)) return false;
      looked.add(occurrenceId);
      const sessionId = splitOccurrenceId(occurrenceId)?.sessionId ?? '';
      const unseen = !known.settled && !known.sessions.has(sessionId) && !schedule.onHold.includes(sessionId);
      return touched.has(sessionId) || unseen;
    });
    // A few at once: a session taken out may have many booked ahead (and, filed before told moves were, behind).
    await mapLimit(due, NOTICE_READS, (entry) => add(() => this.notifyRemoved(entry, schedule, teams)));
    if (failed !== undefined) throw failed;
    if (!held) await this.d.changes.settle(seen);
    return told;
  }

  /**
   * Tells those booked on an occurrence that is no longer in the schedule (its session taken out of the file,
   * or its date out of the rule) that it is cancelled, once, like a cancel; and, should it come back (put back
   * in the file), that it is back on, their booking standing again (a removal never voided the seats, as a
   * cancel from Teams does not). Nobody told when nothing changed for them, it has started, or they were told
   * already; a notice claimed and not known to be queued is claimed again.
   */
  private async notifyRemoved(
    { occurrenceId, start: bookedStart, told }: MonthEntry,
    schedule: Schedule,
    teams: () => Promise<Map<string, OccurrenceChange[]>>,
  ): Promise<Notified> {
    const none = { told: 0, held: false };
    const o = await this.find(occurrenceId, schedule);
    const now = this.d.clock.now().getTime();
    // The pass reads bookings from a year back (one may have been moved ahead since): one still on the schedule and
    // over has nothing to tell, and no read is made for it; nor for one gone whose row is filed at the start they
    // were told, over (a session taken out or retimed has a year of them). One over in the file whose row is filed
    // ahead (at the start they were told: a told move undone once its first time passed) is read.
    if ((o ? o.start.getTime() <= now : told) && Date.parse(bookedStart) <= now) return none;
    // Every pass comes by each booked one until its day: one point read when there is nothing to tell.
    const seats = await this.d.bookings.seatsOf(occurrenceId);
    if (o && !overWhileToldAhead(o, seats, now)) {
      if (o.start.getTime() <= now) return none;
      const ahead = seats.booked > 0;
      // Told it was cancelled, and it is on: only a session put back in the file gets here unannounced (Teams'
      // "move" of a cancelled one tells them itself).
      const back = o.status === 'scheduled' && seats.toldStatus === 'cancelled';
      // Its notice was claimed and never known to be queued (a failed enqueue, an instance stopped): claimed again.
      const unqueued = seats.noticePending === true && seats.toldStart === o.start.toISOString() && seats.toldStatus === o.status;
      // On, at a time other than the one they were told: a told move undone in the file (its change line deleted, or
      // now ignored as too far): told as a move back, or they keep the wrong time.
      const retimed = o.status === 'scheduled' && seats.toldStart !== undefined && seats.toldStart !== o.start.toISOString();
      return ahead && (back || unqueued || retimed) ? this.notify(o) : none;
    }
    if (seats.booked === 0 || (seats.toldStatus === 'cancelled' && !seats.noticePending)) return none;
    // Over by the start those booked were last told (else the one it was booked at): nothing to tell, and nothing more
    // read. Only a row filed before told moves were comes here past (one read each).
    if (Date.parse(seats.toldStart ?? bookedStart) <= now) return none;
    // Gone, or over in the file while they were told a time still ahead: cancelled at that time, as they know it.
    const gone = await this.removedOccurrence(occurrenceId, { seats, teams: teams() });
    return gone ? this.notify(o?.reason && o.status === 'cancelled' ? { ...gone, reason: o.reason } : gone) : none;
  }

  /**
   * An occurrence gone from the schedule, as a cancelled one built from stored data: the start those booked
   * were last told (or booked at); the title, zone and length of the session as the notice pass last saw it, else
   * as their bookings kept it, else a plain "Cancelled session" of UNKNOWN_MINUTES (a calendar needs an end after
   * the start); and a SEQUENCE above every one they may hold (booked, told, served by the link, seen by the pass,
   * or changed from Teams). Undefined once it has started (a past session taken out of the file was not
   * cancelled) or when nobody holds a booking there. `status` 'scheduled': as those booked were told it (a held
   * session's, for the cancel of a seat).
   */
  private async removedOccurrence(
    occurrenceId: string,
    read: { seats?: Seats; teams?: Promise<Map<string, OccurrenceChange[]>> } = {},
    status: Occurrence['status'] = 'cancelled',
  ): Promise<Occurrence | undefined> {
    const parts = splitOccurrenceId(occurrenceId);
    if (!parts) return undefined;
    // What the caller already read (the notice pass: the seats, and the Teams changes once a pass) is not read again.
    const [seats, bookings, changes, known] = await Promise.all([
      read.seats ?? this.d.bookings.seatsOf(occurrenceId),
      this.d.bookings.bookings(occurrenceId),
      read.teams ?? this.d.changes.changes(),
      this.d.changes.lastKnown(parts.sessionId),
    ]);
    // A booking made before bookings kept title and end has none: another booking of it may.
    const titled = bookings.filter((b) => b.title).at(-1);
    const ended = bookings.filter((b) => b.end).at(-1);
    const kept = titled ?? bookings[0];
    if (!kept) return undefined;
    const start = new Date(seats.toldStart ?? kept.start);
    if (!(start.getTime() > this.d.clock.now().getTime())) return undefined;
    const keptMs = ended?.end ? Date.parse(ended.end) - Date.parse(ended.start) : 0;
    const length = keptMs > 0 ? keptMs : (known?.minutes ?? UNKNOWN_MINUTES) * 60_000;
    // FILE_SEQUENCE: a booking that kept no SEQUENCE may hold the file's change of it; the pass saw the file's
    // count, the changes store holds every count from Teams, and servedSequence adds what the link served.
    const held = Math.max(
      FILE_SEQUENCE,
      ...bookings.map((b) => b.sequence ?? 0),
      known?.versions?.[parts.key] ?? 0,
      lastChange(changes.get(parts.sessionId) ?? [], parts.key)?.version ?? 0,
    );
    const sequence = servedSequence({ start: start.toISOString(), status, sequence: held + 1 }, seats);
    const session: Session = {
      id: parts.sessionId,
      kind: known?.kind ?? 'office-hours',
      title: known?.title ?? kept.title ?? 'Cancelled session',
      start: parts.key,
      zone: known?.zone ?? 'UTC',
      minutes: Math.round(length / 60_000),
      capacity: 0,
      joinUrl: '',
      hosts: [],
      changes: [],
      source: 'file',
    };
    return {
      id: occurrenceId,
      key: parts.key,
      session,
      start,
      end: new Date(start.getTime() + length),
      status,
      ...(status === 'cancelled' ? { reason: 'taken off the schedule' } : {}),
      sequence,
    };
  }

  /**
   * `toldStart`: the start those booked were last told (or booked at after it); what "it was" means to them.
   * `toldCancelled`: they were last told it was cancelled (their booking void): a move puts it back on.
   */
  private noticeText(o: Occurrence, b: Booking, toldStart?: string, toldCancelled = false): string {
    const zone = b.zone || o.session.zone;
    // Everyone booked knows the start they were last told: a second move "was" the first move's time.
    const was = new Date(toldStart ?? b.start);
    // The notice is markdown: the title and reason are shown as typed, never as formatting or a link.
    const why = o.reason ? ` (${escapeText(o.reason)})` : '';
    const title = escapeText(o.session.title);
    if (o.status === 'cancelled') {
      // Named by when it would have met (a moved one keeps its new time when cancelled): the time they expect.
      return `**${title}** on ${dateTimeIn(o.start, zone)} (${zoneLabel(zone, o.start)}) is cancelled${why}. Your booking ${b.id} is void; ${markdownLink('remove it from your calendar', this.calendarLink(b, o))} and type "${listCommand(o.session.kind)}" to book another session.`;
    }
    if (toldCancelled) {
      return `**${title}** is back on${why}: it meets **${spanIn(o, zone)}** (${zoneLabel(zone, o.start)}), after all. Your booking ${b.id} stands again. ${markdownLink('Update your calendar', this.calendarLink(b, o))}.`;
    }
    return `**${title}** has moved${why}: it was ${dateTimeIn(was, zone)}, it is now **${spanIn(o, zone)}** (${zoneLabel(zone, o.start)}). Your seat is kept (${b.id}). ${markdownLink('Update your calendar', this.calendarLink(b, o))}.`;
  }

  // ---- helpers ------------------------------------------------------------------------------------

  private async offer(o: Occurrence, viewer: Viewer, mine?: PersonBooking[]): Promise<Offer> {
    const seats = await this.d.bookings.seatsOf(o.id);
    const entry = mine ? mine.find((b) => b.occurrenceId === o.id && b.status === 'booked') : undefined;
    const booking = mine && !entry ? undefined : await this.d.bookings.booking(o.id, viewer.person.id);
    const offer: Offer = { occurrence: o, seats };
    if (booking?.status === 'booked') {
      offer.mine = booking;
      offer.calendarUrl = this.calendarLink(booking, o);
    }
    return offer;
  }

  /** " The next one with seats: Thu 10 Dec, 14:00." for a refused booking. */
  private async nextHint(viewer: Viewer, o: Occurrence, schedule: Schedule): Promise<string> {
    const now = this.d.clock.now();
    const m = await this.membership(viewer);
    const same = (s: Session) =>
      (o.session.course ? s.course === o.session.course : s.id === o.session.id) && offeredTo(s, m, viewer.role) && !schedule.heldAsWas.includes(s.id);
    // From the refused one on: someone who wanted the 24th is better helped by the 29th than by the 1st. Only as
    // far as the person's list offers: one further ahead could not be booked.
    const from = new Date(Math.max(now.getTime(), o.start.getTime()));
    const to = Math.min(from.getTime() + 90 * DAY_MS, offeredUntil(o.session.kind, now).getTime());
    for (const next of allOccurrences(schedule, from, new Date(to), same)) {
      if (next.id === o.id || next.status !== 'scheduled') continue;
      if ((await this.d.bookings.seatsOf(next.id)).booked < next.session.capacity) {
        return ` The next one with seats: ${spanIn(next, viewer.zone)} (${zoneLabel(viewer.zone, next.start)}) — type "${listCommand(o.session.kind)}" to book it.`;
      }
    }
    return ` Type "${listCommand(o.session.kind)}" to see other sessions.`;
  }
}

/**
 * Why `office hours move` may not take an occurrence to `moveTo` (its new local start), or undefined. By day in the
 * session's zone: the message names a day, and any time of that day is within it.
 * - Up to MOVE_LIMIT_DAYS past the day it was first set for (its original start, which no move changes): a series
 *   running years ahead can still have its time changed, and moving one again and again does not walk it further.
 * - Training that `my training` shows, no further than it shows sessions: those booked on it would no longer find it
 *   there, and its course would read as unscheduled or offer another session to book. (One further ahead already
 *   was never offered, so nobody booked it: the year alone applies.)
 */
function tooFarToMove(o: Occurrence, moveTo: string, now: Date): string | undefined {
  const zone = o.session.zone;
  const day = (t: number) => instantToLocal(new Date(t), zone).slice(0, 10);
  const latest = lastMoveDay(o.movedFrom ?? o.start, zone);
  const shownUntil = offeredUntil('training', now).getTime();
  if (o.session.kind === 'training' && o.start.getTime() < shownUntil) {
    // The last whole day `my training` shows (it shows starts before offeredUntil).
    const shown = day(shownUntil - DAY_MS);
    if (shown < latest && moveTo.slice(0, 10) > shown) {
      return `A training session can be moved up to ${shown} at the latest: as far ahead as "my training" shows sessions, so those booked still find it there. Nothing was changed.`;
    }
  }
  if (moveTo.slice(0, 10) > latest) return `A session can be moved up to a year past the day it was first set for: to ${latest} at the latest. Nothing was changed.`;
  return undefined;
}

/** The change in force for an occurrence: the last one listed (Teams' come after the file's). */
export function lastChange(changes: readonly OccurrenceChange[], key: string): OccurrenceChange | undefined {
  return changes.filter((c) => c.key === key).at(-1);
}

const FIELD_LABEL: Record<string, string> = {
  title: 'Title',
  kind: 'Kind',
  start: 'Date and time',
  date: 'Date and time',
  time: 'Date and time',
  rule: 'Repeat',
  repeat: 'Repeat',
  until: 'Until',
  zone: 'Time zone',
  minutes: 'Length',
  capacity: 'Seats',
  joinUrl: 'Join link',
  cohort: 'Cohort',
  group: 'User group',
  cohortTyped: 'Cohort',
  groupTyped: 'User group',
  topic: 'Topic',
};

/**
 * The most each add-form field takes (characters): the card's own limits where it has them, generous room for the
 * rest. Checked first: a longer one is named with its limit and not shown again, so the form sent back stays one
 * Teams message whatever was pasted or forged (every field at 4,000 characters came back as a 55,000-character card).
 */
const FORM_LIMITS: Record<keyof AddForm, number> = {
  title: 120,
  kind: 20,
  date: 20,
  time: 20,
  zone: 100,
  minutes: 20,
  capacity: 20,
  repeat: 20,
  until: 20,
  joinUrl: JOIN_URL_MAX,
  topic: 300,
  cohort: 60,
  group: 60,
  cohortTyped: 120,
  groupTyped: 120,
};

/** The fields over FORM_LIMITS named with their limit, and the form's values without them; undefined when none is. */
function overLong(values: AddForm): { values: AddForm; error: string } | undefined {
  const chars = (k: keyof AddForm) => Array.from(values[k] ?? '').length;
  const long = (Object.keys(FORM_LIMITS) as (keyof AddForm)[]).filter((k) => (values[k] ?? '').length > FORM_LIMITS[k] && chars(k) > FORM_LIMITS[k]);
  if (!long.length) return undefined;
  return {
    values: Object.fromEntries(Object.entries(values).filter(([k]) => !long.includes(k as keyof AddForm))) as AddForm,
    error: long.map((k) => `${FIELD_LABEL[k]}: at most ${count(FORM_LIMITS[k])} characters (this one has ${count(chars(k))}); it is not shown again.`).join(' '),
  };
}

/** A number typed on the form: digits only (Number() would also read "0x10", "1e2" or "10.0"), within `bounds`. */
function wholeNumber(text: string, bounds: { min: number; max: number }): number | undefined {
  if (!/^\d{1,9}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= bounds.min && n <= bounds.max ? n : undefined;
}

/**
 * The cohort and user group as chosen, with "another…" replaced by the one typed: its id, or its name (any case);
 * something the file does not have is passed on as typed, for checkSession to name.
 */
function typedChoices(v: AddForm, rollout: Pick<Rollout, 'cohorts' | 'groups'>): Pick<AddForm, 'cohort' | 'group'> | string {
  const pick = (chosen: string | undefined, typed: string | undefined, list: readonly { id: string; name: string }[]) => {
    if (chosen !== TYPED_CHOICE) return chosen;
    const t = (typed ?? '').trim();
    if (!t) return undefined;
    return list.find((x) => x.id.toLowerCase() === t.toLowerCase() || x.name.toLowerCase() === t.toLowerCase())?.id ?? t;
  };
  const cohort = pick(v.cohort, v.cohortTyped, rollout.cohorts);
  if (v.cohort === TYPED_CHOICE && cohort === undefined) return 'Cohort: type the id or name of the cohort it is for, or choose Everyone.';
  const group = pick(v.group, v.groupTyped, rollout.groups);
  if (v.group === TYPED_CHOICE && group === undefined) return 'User group: type the id or name of the user group it is for, or choose one listed.';
  return { cohort, group };
}

/** The add form's fields → a schedule entry (then checked like one from the file), or what is wrong. */
function sessionEntry(v: AddForm, host: Person, idSuffix: string): Record<string, unknown> | string {
  if (!v.title) return 'Title: give the session a title.';
  if (!v.date || !v.time) return 'Date and time: give the first session\'s date and time.';
  const minutes = wholeNumber(v.minutes || '60', MINUTES);
  if (minutes === undefined) return `Length: a whole number of minutes from ${MINUTES.min} to ${MINUTES.max}, in digits.`;
  const capacity = wholeNumber(v.capacity ?? '', CAPACITY);
  if (capacity === undefined) return `Seats: a whole number from ${CAPACITY.min} to ${CAPACITY.max}, in digits.`;
  const entry: Record<string, unknown> = {
    id: `${slug(v.title)}-${idSuffix}`,
    kind: v.kind === 'training' ? 'training' : 'office-hours',
    title: v.title,
    start: `${v.date} ${v.time}`,
    minutes,
    capacity,
    joinUrl: v.joinUrl ?? '',
    hosts: [{ id: host.id, name: host.name }],
  };
  if (v.topic) entry.topic = v.topic;
  if (v.zone) entry.zone = v.zone;
  if (v.cohort && v.cohort !== 'everyone') entry.cohort = v.cohort;
  if (v.group && v.group !== 'none') entry.group = v.group;
  if (v.repeat === 'weekly' || v.repeat === 'fortnightly') {
    if (!v.until || !/^\d{4}-\d{2}-\d{2}$/.test(v.until)) return 'Until: a repeating session needs the date of its last one (YYYY-MM-DD).';
    entry.rule = `FREQ=WEEKLY${v.repeat === 'fortnightly' ? ';INTERVAL=2' : ''};UNTIL=${v.until.replace(/-/g, '')}T235900`;
  }
  return entry;
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40)
      .replace(/-+$/, '') || 'session'
  );
}
