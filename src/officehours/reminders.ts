import { odata, type TableClient } from '@azure/data-tables';
import type { AdaptiveCard } from '../cards/template.js';
import type { Destination, OutboundMessage, Outbox } from '../outbound/message.js';
import { escapeText, markdownLink } from '../cards/template.js';
import { collect, deleteIfThere, isConflict, safeKey, type Tables } from '../storage/tables.js';
import type { AgendaBuilder, AgendaView } from './agenda.js';
import type { Booking, BookingStore, Seats } from './bookings.js';
import { spanIn, zoneLabel } from './display.js';
import type { Occurrence } from './model.js';
import { allOccurrences } from './rules.js';
import type { OfficeHoursService } from './service.js';

/**
 * The scheduled work of office hours, run by the scheduler on the instance holding its lease:
 * - `remind`: a configurable time before each session, a reminder in the support channel (office hours) and
 *   1:1 to everyone booked;
 * - `agenda`: a configurable time before, the agenda card to the hosts (1:1; to the triage channel when no host
 *   can be reached);
 * - notices to those booked of a cancelled or moved occurrence (also one changed in the file), and of one no
 *   longer in the schedule (its session taken out of the file): told like a cancel.
 * Each (occurrence, kind) is claimed once in `OfficeHoursMarks` before anything is enqueued, so with several
 * instances, or a run repeated, it goes out once; the outbound keys make a retried enqueue send once too.
 * A reminder is also claimed per booking, and every pass until the start reminds the bookings not yet
 * claimed: someone who books after the reminder went out is still reminded, once.
 */

export type MarkKind = 'remind' | 'agenda';

/** A local start and a UTC instant differ by up to 14 hours: a day of margin. */
const DAY_MS = 24 * 3600_000;

/** Which marks are due for an occurrence at `now` (pure): each lead is counted back from the start. */
export function dueKinds(o: Pick<Occurrence, 'start' | 'status'>, now: Date, leads: Record<MarkKind, number>): MarkKind[] {
  if (o.status !== 'scheduled' || o.start.getTime() <= now.getTime()) return [];
  const left = o.start.getTime() - now.getTime();
  return (Object.keys(leads) as MarkKind[]).filter((k) => left <= leads[k] * 60_000);
}

/** Where the hosts' agenda goes: 1:1 to each host who can be reached, else the triage channel. */
export function agendaDestinations(hostIds: readonly string[], reachable: ReadonlySet<string>): Destination[] {
  const people = hostIds.filter((id) => reachable.has(id));
  return people.length ? people.map((userKey) => ({ kind: 'user', userKey }) as const) : [{ kind: 'channel', role: 'triage' }];
}

/**
 * What a mark (and the outbound keys of what it sends) is claimed as: the kind, and for a moved occurrence
 * also its new start. A reminder sent for the old time must not stand for the new one (nor the next move).
 */
export function slot(o: Pick<Occurrence, 'start' | 'movedFrom'>, kind: MarkKind): string {
  return o.movedFrom ? `${kind}@${o.start.toISOString()}` : kind;
}

/**
 * Table `OfficeHoursMarks`: PK = occurrence id, RK = `slot` (the kind, with the start when moved), or
 * `<slot>|<booking id>` for one booking's reminder (the booking id, not the person: nothing personal is kept
 * here). Created once; a 409 means someone already sent it.
 */
export class ReminderMarks {
  constructor(private readonly table: TableClient) {}

  static async open(tables: Tables): Promise<ReminderMarks> {
    return new ReminderMarks(await tables.table('OfficeHoursMarks'));
  }

  async claim(occurrenceId: string, kind: string, now: Date): Promise<boolean> {
    try {
      await this.table.createEntity({ partitionKey: safeKey(occurrenceId), rowKey: kind, at: now.toISOString() });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /** The marks of an occurrence (one partition read). */
  async claimed(occurrenceId: string): Promise<Set<string>> {
    const out = new Set<string>();
    const pk = safeKey(occurrenceId);
    for (const row of await collect(this.table.listEntities<{ rowKey: string }>({ queryOptions: { filter: odata`PartitionKey eq ${pk}`, select: ['RowKey'] } }))) {
      out.add(row.rowKey);
    }
    return out;
  }

  /**
   * Retention: deletes the marks of occurrences that started more than a day before `before` (by the local
   * start in the occurrence id, or the new start a moved one's mark carries): no pass looks at those again.
   * Up to `limit` rows a run.
   */
  async expireBefore(before: Date, limit: number): Promise<number> {
    const cutoff = new Date(before.getTime() - DAY_MS).toISOString().slice(0, 16);
    const rows = await collect(
      this.table.listEntities<{ partitionKey: string; rowKey: string }>({
        queryOptions: { filter: odata`at lt ${before.toISOString()}`, select: ['PartitionKey', 'RowKey'] },
      }),
    );
    let deleted = 0;
    for (const row of rows) {
      if (deleted >= limit) break;
      const started = row.partitionKey.slice(row.partitionKey.lastIndexOf('|') + 1);
      const moved = /@(\d{4}-\d\d-\d\dT\d\d:\d\d)/.exec(row.rowKey)?.[1] ?? '';
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(started) || started >= cutoff || moved >= cutoff) continue;
      await deleteIfThere(this.table, row.partitionKey, row.rowKey);
      deleted++;
    }
    return deleted;
  }

  async release(occurrenceId: string, kind: string): Promise<void> {
    await deleteIfThere(this.table, safeKey(occurrenceId), kind);
  }
}

export interface ReminderDeps {
  service: OfficeHoursService;
  bookings: Pick<BookingStore, 'bookings' | 'seatsOf'>;
  agenda: AgendaBuilder;
  agendaCard: (view: AgendaView) => AdaptiveCard;
  marks: ReminderMarks;
  outbox: Outbox;
  reachable: (userKey: string) => Promise<boolean>;
  leads: Record<MarkKind, number>;
}

export class OfficeHoursReminders {
  constructor(private readonly d: ReminderDeps) {}

  /** One pass: reminders and agendas now due, then notices of changes. Returns what it sent, for the log. */
  async run(now: Date): Promise<{ reminders: number; agendas: number; notices: number }> {
    // The pass, not a person's turn, waits for the served sessions to be kept.
    await this.d.service.keepServed();
    const schedule = await this.d.service.current();
    const lead = Math.max(...Object.values(this.d.leads)) * 60_000;
    let reminders = 0;
    let agendas = 0;
    for (const o of allOccurrences(schedule, now, new Date(now.getTime() + lead + 1))) {
      for (const kind of dueKinds(o, now, this.d.leads)) {
        if (kind === 'remind') {
          if (await this.remind(o, now)) reminders++;
          continue;
        }
        const mark = slot(o, kind);
        if (!(await this.d.marks.claim(o.id, mark, now))) continue;
        try {
          await this.d.outbox.enqueue(await this.agenda(o));
          agendas++;
        } catch (err) {
          await this.d.marks.release(o.id, mark); // not queued: the next run tries again
          throw err;
        }
      }
    }
    // Only sessions changed (or taken out) since the last pass are looked at: nothing changed, nothing read.
    const notices = await this.d.service.tellChanges(schedule, now);
    return { reminders, agendas, notices };
  }

  /**
   * The reminders of an occurrence still to go: the channel's (once per occurrence) and each booking's not yet
   * claimed, so a late booking is reminded on the next pass. Whatever is claimed and not queued is given back.
   */
  private async remind(o: Occurrence, now: Date): Promise<boolean> {
    const mark = slot(o, 'remind');
    const [done, all] = await Promise.all([this.d.marks.claimed(o.id), this.d.bookings.bookings(o.id)]);
    const claimed: string[] = [];
    const out: OutboundMessage[] = [];
    try {
      if (!done.has(mark) && (await this.d.marks.claim(o.id, mark, now))) {
        claimed.push(mark);
        if (o.session.kind === 'office-hours') {
          const seats = await this.d.bookings.seatsOf(o.id);
          out.push({ op: 'send', key: `officehours|${mark}|${o.id}|channel`, to: { kind: 'channel', role: 'support' }, content: channelReminder(o, seats) });
        }
      }
      for (const b of all) {
        const own = `${mark}|${safeKey(b.id)}`;
        if (b.status !== 'booked' || done.has(own) || !(await this.d.marks.claim(o.id, own, now))) continue;
        claimed.push(own);
        // Keyed by the person: one who cancels and books again has a new booking, but is sent this once.
        out.push({ op: 'send', key: `officehours|${mark}|${o.id}|${b.personId}`, to: { kind: 'user', userKey: b.personId }, content: personalReminder(o, b) });
      }
      if (out.length) await this.d.outbox.enqueue(out);
    } catch (err) {
      for (const m of claimed) await this.d.marks.release(o.id, m); // not queued: the next run tries again
      throw err;
    }
    return out.length > 0;
  }

  private async agenda(o: Occurrence): Promise<OutboundMessage[]> {
    const card = this.d.agendaCard(await this.d.agenda.view(o));
    const reachable = new Set<string>();
    for (const h of o.session.hosts) if (await this.d.reachable(h.id)) reachable.add(h.id);
    return agendaDestinations(o.session.hosts.map((h) => h.id), reachable).map((to) => ({
      op: 'send',
      key: `officehours|${slot(o, 'agenda')}|${o.id}|${to.kind === 'user' ? to.userKey : 'triage'}`,
      to,
      content: card,
    }));
  }
}

function hostsText(o: Occurrence): string {
  return o.session.hosts.length ? ` Hosts: ${o.session.hosts.map((h) => escapeText(h.name)).join(', ')}.` : '';
}

export function channelReminder(o: Occurrence, seats: Seats): string {
  const zone = o.session.zone;
  const left = Math.max(0, o.session.capacity - seats.booked);
  return `**${escapeText(o.session.title)}** starts soon: ${spanIn(o, zone)} (${zoneLabel(zone, o.start)}).${hostsText(o)} ${left} of ${o.session.capacity} seats left: type "office hours" to book one and send your question ahead${o.session.joinUrl ? `, or ${markdownLink('join the meeting', o.session.joinUrl)}` : ''}.`;
}

export function personalReminder(o: Occurrence, b: Booking): string {
  const zone = b.zone || o.session.zone;
  const question = b.question ? ` Your question: "${escapeText(b.question)}".` : '';
  // A session whose join link the schedule file left off (schedule.ts: setAside) has none to give.
  const join = o.session.joinUrl ? `${markdownLink('Join the meeting', o.session.joinUrl)} (booking ${b.id}).` : `Booking ${b.id}.`;
  return `Reminder: **${escapeText(o.session.title)}** starts soon: ${spanIn(o, zone)} (${zoneLabel(zone, o.start)}).${question} ${join}`;
}
