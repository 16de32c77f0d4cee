import { randomBytes } from 'node:crypto';
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import { readEntity, retryOnConflict } from '../storage/entities.js';
import { collect, deleteIfThere, isConflict, isNotFound, safeKey, type Tables } from '../storage/tables.js';

/** One person's seat at one occurrence. */
export interface Booking {
  /** Shown to the person ("B-7K3F9Q2M"); never given to another booking, even after a cancel. */
  id: string;
  occurrenceId: string;
  personId: string;
  name: string;
  /** What they want to bring to the session. */
  question: string;
  /** Their time zone when they booked (for their reminder). */
  zone: string;
  status: 'booked' | 'cancelled';
  bookedAt: string;
  /** The occurrence's start when they booked, so a move can be told. */
  start: string;
  attended?: boolean;
  /** Set when the host turned the question into an issue. */
  issueRef?: string;
  /** Set when the host marked the question as a gap in the guidance. */
  gapAt?: string;
  /**
   * How often this person cancelled or booked this occurrence again after their first booking: added to the
   * calendar file's SEQUENCE, so each cancel and re-booking supersedes the entry their calendar holds.
   */
  revision?: number;
  /**
   * The session's title, the occurrence's end (ISO) and SEQUENCE when booked: with `start`, what the calendar
   * link needs to serve a cancel (and those booked to be told) should the session leave the schedule file.
   */
  title?: string;
  end?: string;
  sequence?: number;
}

/** The seat count row of an occurrence; also records what those booked were last told. */
export interface Seats {
  booked: number;
  attended: number;
  /**
   * Bookings whose attendance a host has marked (present or absent): 0 until then, so a session held with nobody
   * marked yet is told from one nobody came to. Absent on rows written before it was kept.
   */
  marked?: number;
  /** The start (ISO) and status those booked were last told of; a differing current one means a notice is due. */
  toldStart?: string;
  toldStatus?: string;
  /** The occurrence's SEQUENCE when last told: a cancel built without the schedule must go above it. */
  toldSequence?: number;
  /**
   * The notice of toldStart/toldStatus/toldSequence was claimed but is not known to be queued (the enqueue failed,
   * or the instance stopped before it): the next claim of the same notice takes it again, under the same keys.
   */
  noticePending?: boolean;
  /** Until when (ms) the caller that claimed the pending notice may still be queueing it. */
  noticeUntil?: number;
  /** What those booked had been told before the pending notice: its "it was" when it is taken again. */
  pendingFromStart?: string;
  pendingFromStatus?: string;
  /**
   * The start, status and SEQUENCE the calendar links last served (the highest): what calendars may hold, also
   * when nobody was told (a file edit fetched before the next pass).
   */
  issuedStart?: string;
  issuedStatus?: string;
  issuedSequence?: number;
}

/**
 * The SEQUENCE to serve for an occurrence as it stands (`start` ISO, `status`, the schedule's `sequence`): never
 * below what those booked were last told or their links last served, and above it once it differs from that (told
 * cancelled, now back on; told scheduled, now gone; moved again in the file, whose changes all count 1). A calendar
 * ignores an entry no newer than the one it holds, and the schedule's own count can go back down (a session put
 * back in the file after its removal's cancel was served).
 */
export function servedSequence(o: { start: string; status: string; sequence: number }, seats: Seats): number {
  let sequence = o.sequence;
  for (const [start, status, n] of [
    [seats.toldStart, seats.toldStatus, seats.toldSequence],
    [seats.issuedStart, seats.issuedStatus, seats.issuedSequence],
  ] as const) {
    if (n === undefined) continue;
    sequence = Math.max(sequence, start === o.start && status === o.status ? n : n + 1);
  }
  return sequence;
}

export type BookOutcome =
  | { kind: 'booked'; booking: Booking; seats: Seats }
  | { kind: 'already'; booking: Booking }
  | { kind: 'full'; seats: Seats };

/** A person's line in their own index: enough to list their bookings and training without other reads. */
export interface PersonBooking {
  occurrenceId: string;
  bookingId: string;
  status: Booking['status'];
  start: string;
  attended?: boolean;
}

/** A claimed notice: what those booked were told before it, and the SEQUENCE its messages are keyed by. */
export interface NoticeClaim {
  toldStart?: string;
  toldStatus?: string;
  toldSequence: number;
}

type Row<T> = T & { partitionKey: string; rowKey: string; etag?: string };

/**
 * A booked occurrence by its month row. `told`: its `start` is the start those booked were last told (rows written
 * since re-filing on a told move); a row without it (written before) may have been moved ahead since, untold by it.
 */
export interface MonthEntry {
  occurrenceId: string;
  start: string;
  told?: true;
}

const SEATS = 'seats';
/** Up to this many sessions, bookedBetween queries each one's rows; above, one read of all is fewer requests. */
const SESSION_QUERIES = 10;
/** How long a claimed notice is left to its claimer to queue before another caller takes it (an instance stopped). */
export const NOTICE_HOLD_MS = 5 * 60_000;
const personRow = (personId: string) => `p|${safeKey(personId)}`;

/*
 * Table `OfficeHoursSeats`: PK = occurrence id. RK 'seats' → the count (and what was last told); RK `p|<person>` →
 *   that person's booking. Booking and cancelling change both rows in ONE transaction guarded by both ETags, so
 *   the count never passes capacity under concurrent bookings and one person holds one seat.
 * Table `OfficeHoursBookingIds`: PK = booking id → its occurrence and person. Created before the booking, so an
 *   id is given once; rows are never deleted.
 * Table `OfficeHoursPeople`: PK `p|<person>`, RK = occurrence id → the person's bookings and attendance
 *   (one partition read for "my bookings" and "my training"); PK `m|<yyyymm of the start>`, RK = occurrence id
 *   → every booked occurrence by month, written at its first booking (and moved to its new start's month when a
 *   change is told), so retention and the notice pass find them without a scan.
 */
export class BookingStore {
  private constructor(
    private readonly seats: TableClient,
    private readonly ids: TableClient,
    private readonly people: TableClient,
    private readonly clock: Clock,
  ) {}

  static async open(tables: Tables, clock: Clock): Promise<BookingStore> {
    return new BookingStore(
      await tables.table('OfficeHoursSeats'),
      await tables.table('OfficeHoursBookingIds'),
      await tables.table('OfficeHoursPeople'),
      clock,
    );
  }

  /** Takes a seat if one is left and the person has none; `start` is the occurrence's current start. */
  async book(
    occurrenceId: string,
    capacity: number,
    person: { id: string; name: string },
    details: { question: string; zone: string; start: string; title?: string; end?: string; sequence?: number },
  ): Promise<BookOutcome> {
    const pk = safeKey(occurrenceId);
    let bookingId: string | undefined;
    const outcome = await retryOnConflict(
      async (): Promise<BookOutcome> => {
        const [seatRow, mine] = await Promise.all([
          readEntity<Row<Seats>>(this.seats, pk, SEATS),
          readEntity<Row<Booking>>(this.seats, pk, personRow(person.id)),
        ]);
        if (mine?.status === 'booked') return { kind: 'already', booking: plainBooking(mine) };
        const seats = plainSeats(seatRow);
        if (seats.booked >= capacity) return { kind: 'full', seats };
        // The occurrence's first booking files it under its month, for retention (`expireBefore`).
        if (!seatRow) await this.people.upsertEntity(monthEntry(occurrenceId, details.start), 'Merge');
        bookingId ??= await this.newId(occurrenceId, person.id);
        const booking: Booking = {
          id: bookingId,
          occurrenceId,
          personId: person.id,
          name: person.name,
          question: details.question,
          zone: details.zone,
          status: 'booked',
          bookedAt: this.clock.now().toISOString(),
          start: details.start,
        };
        if (details.title !== undefined) booking.title = details.title;
        if (details.end !== undefined) booking.end = details.end;
        if (details.sequence !== undefined) booking.sequence = details.sequence;
        // Booking again after a cancel: a newer calendar entry than the cancel they may have downloaded.
        if (mine) booking.revision = (mine.revision ?? 0) + 1;
        const next: Seats = { ...seats, booked: seats.booked + 1 };
        // A first booking is what those booked are "told" of: later moves are measured from it.
        next.toldStart ??= details.start;
        next.toldStatus ??= 'scheduled';
        await this.seats.submitTransaction([
          write({ partitionKey: pk, rowKey: SEATS, ...next }, seatRow?.etag),
          write({ partitionKey: pk, rowKey: personRow(person.id), ...booking }, mine?.etag),
        ]);
        return { kind: 'booked', booking, seats: next };
      },
      { attempts: 60, what: 'Booking this session' },
    );
    if (outcome.kind !== 'full') await this.index(outcome.booking);
    return outcome;
  }

  /** Gives the seat back; undefined when the person holds none. */
  async cancel(occurrenceId: string, personId: string): Promise<Booking | undefined> {
    const pk = safeKey(occurrenceId);
    let given: Booking | undefined;
    const cancelled = await retryOnConflict(
      async () => {
        const [seatRow, mine] = await Promise.all([
          readEntity<Row<Seats>>(this.seats, pk, SEATS),
          readEntity<Row<Booking>>(this.seats, pk, personRow(personId)),
        ]);
        if (mine && mine.status !== 'booked') given = plainBooking(mine);
        if (!mine || mine.status !== 'booked' || !seatRow) return undefined;
        const seats = plainSeats(seatRow);
        const booking: Booking = { ...plainBooking(mine), status: 'cancelled', revision: (mine.revision ?? 0) + 1 };
        await this.seats.submitTransaction([
          write({ partitionKey: pk, rowKey: SEATS, ...seats, booked: Math.max(0, seats.booked - 1) }, seatRow.etag),
          write({ partitionKey: pk, rowKey: personRow(personId), ...booking }, mine.etag),
        ]);
        return booking;
      },
      { attempts: 60, what: 'Cancelling this booking' },
    );
    if (cancelled) await this.index(cancelled);
    // A seat already given back: its line in the person's list may not have heard (a fault after the
    // transaction, "booked" in "my training"); pressing Cancel again puts it right.
    else if (given) await this.index(given);
    return cancelled;
  }

  /**
   * The host's attendance list: among the booked people in `shown` (those on the card's page; all booked
   * when absent), each in `attended` is marked present and the others absent. Anyone else — on another page,
   * or not booked at all — keeps what they had. Written with the count (over everyone booked) in one
   * transaction when a page's worth. Returns every booking as marked.
   */
  async markAttendance(occurrenceId: string, attended: ReadonlySet<string>, shown?: ReadonlySet<string>): Promise<Booking[]> {
    const pk = safeKey(occurrenceId);
    const changed: Booking[] = [];
    const marked = await retryOnConflict(
      async () => {
        changed.length = 0;
        const rows = await this.rows(occurrenceId);
        const seatRow = rows.seats;
        const booked = rows.bookings.filter((b) => b.status === 'booked');
        const actions: TransactionAction[] = [];
        const out = booked.map((row) => {
          const b = plainBooking(row);
          if (shown && !shown.has(b.personId)) return b;
          const next = { ...b, attended: attended.has(b.personId) };
          changed.push(next);
          actions.push(write({ partitionKey: pk, rowKey: personRow(b.personId), ...next }, row.etag));
          return next;
        });
        // Nobody shown is booked (a forged or stale list): nothing to write.
        if (!actions.length) return out;
        const seats = plainSeats(seatRow);
        actions.unshift(write({ partitionKey: pk, rowKey: SEATS, ...seats, attended: out.filter((b) => b.attended).length, marked: out.filter((b) => typeof b.attended === 'boolean').length }, seatRow?.etag));
        // A transaction holds at most 100 operations: a page is far below; the whole list of a large session
        // (an old card, capacity up to 1000) is marked in steps by the same call on the rest.
        for (let i = 0; i < actions.length; i += 100) await this.seats.submitTransaction(actions.slice(i, i + 100));
        return out;
      },
      { what: 'Marking attendance' },
    );
    for (const b of changed) await this.index(b);
    return marked;
  }

  /** Changes one booking's own fields (issue logged, gap marked), ETag-guarded; undefined when absent. */
  async update(occurrenceId: string, personId: string, change: (b: Booking) => Partial<Booking> | undefined): Promise<Booking | undefined> {
    const pk = safeKey(occurrenceId);
    return retryOnConflict(async () => {
      const row = await readEntity<Row<Booking>>(this.seats, pk, personRow(personId));
      if (!row) return undefined;
      const current = plainBooking(row);
      const patch = change(current);
      if (!patch) return current;
      const next = { ...current, ...patch };
      await this.seats.updateEntity({ partitionKey: pk, rowKey: personRow(personId), ...next }, 'Replace', { etag: row.etag });
      return next;
    });
  }

  async seatsOf(occurrenceId: string): Promise<Seats> {
    return plainSeats(await readEntity<Row<Seats>>(this.seats, safeKey(occurrenceId), SEATS));
  }

  /** Everyone who booked (and cancelled) an occurrence: one partition read. */
  async bookings(occurrenceId: string): Promise<Booking[]> {
    return (await this.rows(occurrenceId)).bookings.map(plainBooking);
  }

  async booking(occurrenceId: string, personId: string): Promise<Booking | undefined> {
    const row = await readEntity<Row<Booking>>(this.seats, safeKey(occurrenceId), personRow(personId));
    return row ? plainBooking(row) : undefined;
  }

  /** A booking by its id (the calendar link carries it). */
  async byId(bookingId: string): Promise<Booking | undefined> {
    if (!/^B-[0-9A-Z]{8}$/.test(bookingId)) return undefined;
    const ref = await readEntity<{ occurrenceId: string; personId: string }>(this.ids, bookingId, 'b');
    if (!ref) return undefined;
    const b = await this.booking(ref.occurrenceId, ref.personId);
    return b?.id === bookingId ? b : undefined;
  }

  /** A person's bookings, any status (one partition read). */
  async ofPerson(personId: string): Promise<PersonBooking[]> {
    const rows = await collect(
      this.people.listEntities<PersonBooking>({ queryOptions: { filter: odata`PartitionKey eq ${personRow(personId)}` } }),
    );
    return rows.map((r) => {
      const p: PersonBooking = { occurrenceId: r.occurrenceId, bookingId: r.bookingId, status: r.status, start: r.start };
      if (typeof r.attended === 'boolean') p.attended = r.attended;
      return p;
    });
  }

  /**
   * Claims the notice of a change for those booked: for exactly one caller per new start/status
   * (ETag-guarded), so a move or cancel is told once across instances. The claim carries the start those
   * booked were told before (a second move is "it was" that time, not the first one) and the SEQUENCE its
   * messages are keyed by. It stays pending until `noticeQueued`; one given back (`releaseNotice`, its enqueue
   * failed) or held past NOTICE_HOLD_MS (its instance stopped) is claimed again by the next caller, with what it
   * was claimed with, so its messages get the same keys. False: nothing to tell; 'held': another caller holds it.
   */
  async claimNotice(occurrenceId: string, start: string, status: string, sequence: number): Promise<false | 'held' | NoticeClaim> {
    const pk = safeKey(occurrenceId);
    // A write lost to a seat change is tried again; one lost to another claim finds it held.
    return retryOnConflict(
      async () => {
        const row = await readEntity<Row<Seats>>(this.seats, pk, SEATS);
        if (!row || row.booked === 0) return false;
        const again = row.toldStart === start && row.toldStatus === status;
        if (again && !row.noticePending) return false;
        const now = this.clock.now().getTime();
        if (again && Number(row.noticeUntil ?? 0) > now) return 'held';
        // A pending notice replaced by a newer change was never known to be queued: those booked are measured from
        // what they were told before it (its own "it was"), not from a time or a cancel they may never have heard of.
        const from =
          again || row.noticePending === true ? { start: row.pendingFromStart, status: row.pendingFromStatus } : { start: row.toldStart, status: row.toldStatus };
        // Above what was told before (see servedSequence): a cancel undone by putting the session back in the file
        // has the schedule's lower SEQUENCE, which calendars that applied the cancel would ignore.
        const next = again ? (row.toldSequence ?? sequence) : servedSequence({ start, status, sequence }, plainSeats(row));
        // A new start is filed under its month before it is told (bookedBetween finds it by the start they know): one
        // moved a year out after it was booked is still found once its first start is more than a year back.
        if (!again && row.toldStart !== start) await this.refile(occurrenceId, row.toldStart, start);
        const hold = { noticePending: true, noticeUntil: now + NOTICE_HOLD_MS };
        // '' clears what an earlier pending notice left (a Merge keeps properties it is not given).
        const told = again
          ? hold
          : { toldStart: start, toldStatus: status, toldSequence: next, ...hold, pendingFromStart: from.start ?? '', pendingFromStatus: from.status ?? '' };
        await this.seats.updateEntity({ partitionKey: pk, rowKey: SEATS, ...told }, 'Merge', { etag: row.etag });
        return { ...(from.start ? { toldStart: from.start } : {}), ...(from.status ? { toldStatus: from.status } : {}), toldSequence: next };
      },
      { what: 'Claiming the notice of a change' },
    );
  }

  /** Files a booked occurrence under the month of its new start (`from`: the start it was filed under, when known). */
  private async refile(occurrenceId: string, from: string | undefined, start: string): Promise<void> {
    const pk = safeKey(occurrenceId);
    await this.people.upsertEntity(monthEntry(occurrenceId, start), 'Merge');
    if (from && monthRow(from) !== monthRow(start)) await deleteIfThere(this.people, monthRow(from), pk);
  }

  /** The claimed notice (start, status, SEQUENCE) is queued: no later claim takes it again. */
  async noticeQueued(occurrenceId: string, start: string, status: string, sequence: number): Promise<void> {
    await this.settleNotice(occurrenceId, { start, status, sequence }, { noticePending: false, noticeUntil: 0 });
  }

  /** The claimed notice could not be queued: the next caller claims it at once rather than after NOTICE_HOLD_MS. */
  async releaseNotice(occurrenceId: string, start: string, status: string, sequence: number): Promise<void> {
    await this.settleNotice(occurrenceId, { start, status, sequence }, { noticeUntil: 0 });
  }

  /** Changes a pending notice's state while it is still this one (not queued by another caller, nor superseded). */
  private async settleNotice(occurrenceId: string, notice: { start: string; status: string; sequence: number }, patch: Partial<Seats>): Promise<void> {
    const pk = safeKey(occurrenceId);
    await retryOnConflict(
      async () => {
        const row = await readEntity<Row<Seats>>(this.seats, pk, SEATS);
        if (!row?.noticePending || row.toldStart !== notice.start || row.toldStatus !== notice.status || row.toldSequence !== notice.sequence) return;
        await this.seats.updateEntity({ partitionKey: pk, rowKey: SEATS, ...patch }, 'Merge', { etag: row.etag });
      },
      { what: 'Recording the notice' },
    );
  }

  /**
   * Records what a calendar link served (see servedSequence), when it is newer than what was recorded: a write on
   * the first download after a change only.
   */
  async recordIssued(occurrenceId: string, issued: { start: string; status: string; sequence: number }): Promise<void> {
    const pk = safeKey(occurrenceId);
    await retryOnConflict(
      async () => {
        const row = await readEntity<Row<Seats>>(this.seats, pk, SEATS);
        if (!row || (typeof row.issuedSequence === 'number' && row.issuedSequence >= issued.sequence)) return;
        const entity = { partitionKey: pk, rowKey: SEATS, issuedStart: issued.start, issuedStatus: issued.status, issuedSequence: issued.sequence };
        await this.seats.updateEntity(entity, 'Merge', { etag: row.etag });
      },
      { what: 'Recording the calendar entry served' },
    );
  }

  /**
   * The occurrences booked (any status) whose start at their first booking (or as last told) is in [from, to), by
   * the month rows `book` files them under (a told move re-files them): a few partitions, filtered by that start. With `sessionIds`, those of these sessions
   * only: a query each (their rows are a range of row keys, `<session>|…`) while they are few, else one read of all.
   */
  async bookedBetween(from: Date, to: Date, sessionIds?: readonly string[]): Promise<MonthEntry[]> {
    const range = odata`PartitionKey ge ${monthRow(from.toISOString())} and PartitionKey le ${monthRow(to.toISOString())} and start ge ${from.toISOString()} and start lt ${to.toISOString()}`;
    const read = async (filter: string) =>
      (await collect(this.people.listEntities<MonthEntry>({ queryOptions: { filter } }))).map(
        (r): MonthEntry => ({ occurrenceId: r.occurrenceId, start: r.start, ...(r.told === true ? { told: true } : {}) }),
      );
    if (!sessionIds) return read(range);
    if (sessionIds.length > SESSION_QUERIES) {
      const wanted = new Set(sessionIds);
      return (await read(range)).filter((r) => wanted.has(r.occurrenceId.slice(0, r.occurrenceId.indexOf('|'))));
    }
    const out: MonthEntry[] = [];
    // '}' follows '|': the row keys of one session's occurrences, and no other session's (ids have no '|').
    for (const id of sessionIds) out.push(...(await read(`${range} and ${odata`RowKey gt ${`${safeKey(id)}|`} and RowKey lt ${`${safeKey(id)}}`}`}`)));
    return out;
  }

  // ---- privacy (src/officehours/privacy.ts) -------------------------------------------------------------

  /**
   * Moves a booking to a forgotten person's stand-in: the seat, the count and the attendance stay (the
   * rollout's measures), their name, question and time zone go. False when there is no such booking (a
   * re-run). One transaction in the occurrence's partition.
   */
  async anonymise(occurrenceId: string, personId: string, stand: { id: string; name: string }): Promise<boolean> {
    const pk = safeKey(occurrenceId);
    const row = await readEntity<Row<Booking>>(this.seats, pk, personRow(personId));
    const next: Booking | undefined = row && { ...plainBooking(row), personId: stand.id, name: stand.name, question: '', zone: '' };
    if (next) {
      await this.seats.submitTransaction([
        // The SDK's transactions take no ETag on a delete: the stand-in's row is what was just read.
        ['delete', { partitionKey: pk, rowKey: personRow(personId) }],
        ['upsert', { partitionKey: pk, rowKey: personRow(stand.id), ...next }, 'Replace'],
      ]);
      await this.ids.updateEntity({ partitionKey: next.id, rowKey: 'b', personId: stand.id }, 'Merge').catch(ignoreMissing);
    }
    await deleteIfThere(this.people, personRow(personId), pk);
    return next !== undefined;
  }

  /**
   * Retention: deletes the bookings of occurrences that started before `before` (up to about `limit`
   * bookings a run): their seats partition, each person's index line, and the person in the booking id's
   * row (the id itself stays taken). Occurrences are found through the month rows `book` files them under.
   */
  async expireBefore(before: Date, limit: number): Promise<number> {
    const due = await collect(
      this.people.listEntities<{ occurrenceId: string; start: string }>({
        queryOptions: {
          filter: odata`PartitionKey ge 'm|' and PartitionKey le ${monthRow(before.toISOString())} and start lt ${before.toISOString()}`,
        },
      }),
      limit,
    );
    let deleted = 0;
    for (const entry of due) {
      if (deleted >= limit) break;
      const { seats, bookings } = await this.rows(entry.occurrenceId);
      // Moved to a later time after it was filed (told before told moves were re-filed): not over yet by its current
      // start. Filed there now (a second row of it, left by a later move, is taken out), so no run comes by it again.
      if (seats?.toldStart && seats.toldStart >= before.toISOString()) {
        await this.refile(entry.occurrenceId, entry.start, seats.toldStart);
        continue;
      }
      const pk = safeKey(entry.occurrenceId);
      for (const b of bookings) {
        await deleteIfThere(this.people, personRow(b.personId), pk);
        if (b.id) await this.ids.updateEntity({ partitionKey: b.id, rowKey: 'b', personId: '' }, 'Merge').catch(ignoreMissing);
      }
      const keys = [...(seats ? [SEATS] : []), ...bookings.map((b) => String(b.rowKey))];
      for (let i = 0; i < keys.length; i += 100) {
        await this.seats.submitTransaction(keys.slice(i, i + 100).map((rowKey) => ['delete', { partitionKey: pk, rowKey }]));
      }
      await deleteIfThere(this.people, String(entry.partitionKey), String(entry.rowKey));
      deleted += bookings.length;
    }
    return deleted;
  }

  private async rows(occurrenceId: string): Promise<{ seats?: Row<Seats>; bookings: Row<Booking>[] }> {
    const rows = await collect(
      this.seats.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${safeKey(occurrenceId)}` } }),
    );
    return {
      seats: rows.find((r) => r.rowKey === SEATS) as Row<Seats> | undefined,
      bookings: rows.filter((r) => String(r.rowKey).startsWith('p|')) as unknown as Row<Booking>[],
    };
  }

  /** A booking id no one has had: its row is created first, and 409 means draw again. */
  private async newId(occurrenceId: string, personId: string): Promise<string> {
    for (;;) {
      const id = `B-${randomId()}`;
      try {
        await this.ids.createEntity({ partitionKey: id, rowKey: 'b', occurrenceId, personId, at: this.clock.now().toISOString() });
        return id;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
  }

  private async index(b: Booking): Promise<void> {
    const row: PersonBooking & { partitionKey: string; rowKey: string } = {
      partitionKey: personRow(b.personId),
      rowKey: safeKey(b.occurrenceId),
      occurrenceId: b.occurrenceId,
      bookingId: b.id,
      status: b.status,
      start: b.start,
    };
    if (typeof b.attended === 'boolean') row.attended = b.attended;
    await this.people.upsertEntity(row, 'Replace');
  }
}

/** The month row an occurrence is filed under for retention (`m|202701`), from its start (ISO). */
const monthRow = (startIso: string) => `m|${startIso.slice(0, 4)}${startIso.slice(5, 7)}`;

/** A month row as written now: filed at the start those booked were told (at a first booking, or re-filed on a told move). */
const monthEntry = (occurrenceId: string, start: string) => ({ partitionKey: monthRow(start), rowKey: safeKey(occurrenceId), occurrenceId, start, told: true });

function ignoreMissing(err: unknown): void {
  if (!isNotFound(err)) throw err;
}

/** A create when there was no row, else an update guarded by the ETag read. */
function write(entity: { partitionKey: string; rowKey: string; [k: string]: unknown }, etag: string | undefined): TransactionAction {
  return etag ? ['update', entity, 'Replace', { etag }] : ['create', entity];
}

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32: no I, L, O, U to misread
function randomId(): string {
  return [...randomBytes(8)].map((b) => ALPHABET[b % 32]).join('');
}

function plainSeats(row: Partial<Seats> | undefined): Seats {
  const s: Seats = { booked: Number(row?.booked ?? 0), attended: Number(row?.attended ?? 0) };
  if (row?.toldStart) s.toldStart = row.toldStart;
  if (row?.toldStatus) s.toldStatus = row.toldStatus;
  if (typeof row?.toldSequence === 'number') s.toldSequence = row.toldSequence;
  if (typeof row?.marked === 'number') s.marked = row.marked;
  // Kept through the writes that replace the row (book, cancel, attendance), so a pending notice stays pending.
  if (row?.noticePending === true) s.noticePending = true;
  if (typeof row?.noticeUntil === 'number' && row.noticeUntil > 0) s.noticeUntil = row.noticeUntil;
  if (row?.pendingFromStart) s.pendingFromStart = row.pendingFromStart;
  if (row?.pendingFromStatus) s.pendingFromStatus = row.pendingFromStatus;
  if (row?.issuedStart) s.issuedStart = row.issuedStart;
  if (row?.issuedStatus) s.issuedStatus = row.issuedStatus;
  if (typeof row?.issuedSequence === 'number') s.issuedSequence = row.issuedSequence;
  return s;
}


function plainBooking(r: Booking): Booking {
  const b: Booking = {
    id: r.id,
    occurrenceId: r.occurrenceId,
    personId: r.personId,
    name: r.name,
    question: r.question ?? '',
    zone: r.zone,
    status: r.status,
    bookedAt: r.bookedAt,
    start: r.start,
  };
  if (typeof r.attended === 'boolean') b.attended = r.attended;
  if (r.issueRef) b.issueRef = r.issueRef;
  if (r.gapAt) b.gapAt = r.gapAt;
  if (typeof r.revision === 'number') b.revision = r.revision;
  if (r.title) b.title = r.title;
  if (r.end) b.end = r.end;
  if (typeof r.sequence === 'number') b.sequence = r.sequence;
  return b;
}
