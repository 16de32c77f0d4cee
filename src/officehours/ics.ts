import { getVtimezoneComponent } from '@touch4it/ical-timezones';
import ical, { ICalCalendarMethod, ICalEventStatus } from 'ical-generator';
import { DateTime } from 'luxon';
import type { Booking } from './bookings.js';
import type { Occurrence } from './model.js';

/**
 * The ORGANIZER of every invite and cancel: RFC 5546 (iTIP) asks for one in PUBLISH, REQUEST and CANCEL, and
 * some calendar apps ignore a cancel without it; the same one in both, so the cancel matches the entry. No
 * mailbox is configured for the bot (nobody reads replies to it), so the address is in `.invalid` (RFC 2606):
 * a calendar that tries to reply reaches no one rather than a stranger's inbox.
 */
const ICS_ORGANIZER = { name: 'Rollout Desk', email: 'noreply@invalid' } as const;

/**
 * The calendar file of one booked occurrence (RFC 5545, made by ical-generator). Its UID is the occurrence's
 * own (session id + original start), and SEQUENCE is the occurrence's change count plus the person's own
 * cancels and re-bookings of it, so when the occurrence is moved, or they cancel their seat, the same calendar
 * entry is updated (or removed) rather than ignored as no newer or a second one added. Times carry the session's
 * zone (with its VTIMEZONE; UTC for a zone without one), so calendars show them right wherever the person is.
 */
export function occurrenceIcs(o: Occurrence, booking: Pick<Booking, 'question' | 'status' | 'revision'>, now: Date, systemName: string): string {
  // A zone the timezone package has no VTIMEZONE for (a newer IANA name such as Europe/Kyiv or America/Nuuk):
  // its TZID would be undefined in the file, read as floating time (the wrong hour elsewhere) or refused. UTC
  // times put the session at the right moment in every calendar.
  const zone = getVtimezoneComponent(o.session.zone) ? o.session.zone : 'utc';
  const cancelled = o.status === 'cancelled' || booking.status === 'cancelled';
  const cal = ical({
    prodId: { company: 'Rollout Desk', product: 'Office hours', language: 'EN' },
    method: cancelled ? ICalCalendarMethod.CANCEL : ICalCalendarMethod.PUBLISH,
  });
  // The zone goes on each event; naming none for the calendar keeps DTSTAMP in UTC as RFC 5545 asks.
  cal.timezone({ name: null, generator: getVtimezoneComponent });
  const lines = [
    o.session.topic ?? '',
    // A session taken out of the schedule is served from what its bookings kept: no join link.
    o.session.joinUrl ? `Join the Teams meeting: ${o.session.joinUrl}` : '',
    booking.question ? `Your question: ${booking.question}` : '',
    o.reason ? `Note: ${o.reason}` : '',
  ].filter(Boolean);
  cal.createEvent({
    id: occurrenceUid(o),
    sequence: o.sequence + (booking.revision ?? 0),
    stamp: DateTime.fromJSDate(now, { zone: 'utc' }),
    start: DateTime.fromJSDate(o.start, { zone }),
    end: DateTime.fromJSDate(o.end, { zone }),
    ...(zone === 'utc' ? {} : { timezone: zone }),
    summary: `${o.session.title} (${systemName})`,
    description: lines.join('\n'),
    // No link (set aside as bad, or a session taken out): no place either. "Microsoft Teams meeting" with nothing to
    // join would send people looking for a link; no later notice updates the entry when the link is fixed.
    ...(o.session.joinUrl ? { location: 'Microsoft Teams meeting', url: o.session.joinUrl } : {}),
    organizer: { ...ICS_ORGANIZER },
    status: cancelled ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
  });
  return cal.toString();
}

/** Stable per occurrence, across moves: `<session id>-<original local start>@rollout-desk`. */
export function occurrenceUid(o: Pick<Occurrence, 'session' | 'key'>): string {
  return `${o.session.id}-${o.key.replace(/[-:]/g, '')}@rollout-desk`;
}
