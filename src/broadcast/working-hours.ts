import { DateTime, IANAZone } from 'luxon';

/**
 * Working hours for 1:1 messages: a message to someone whose time zone Teams told us is held until their
 * next working hour. `BROADCAST_WORKING_HOURS`, e.g. "Mon-Fri 08:00-18:00" or "Mon,Tue,Thu 07:30-16:00".
 */
export interface WorkingHours {
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  days: number[];
  /** Minutes after local midnight: start inclusive, end exclusive. */
  start: number;
  end: number;
}

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** Reads "Mon-Fri 08:00-18:00"; throws with a message saying what is wrong. */
export function parseWorkingHours(text: string): WorkingHours {
  const m = /^\s*([A-Za-z,-]+)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(text);
  if (!m) throw new Error('must look like "Mon-Fri 08:00-18:00"');
  const days = new Set<number>();
  for (const part of m[1]!.toLowerCase().split(',')) {
    const [a, b] = part.split('-');
    const from = DAY_NAMES.indexOf((a ?? '').slice(0, 3));
    const to = b === undefined ? from : DAY_NAMES.indexOf(b.slice(0, 3));
    if (from < 0 || to < 0) throw new Error(`"${part}" is not a day or range of days (Mon, Tue, … Sun)`);
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d + 1);
      if (d === to) break;
    }
  }
  const start = Number(m[2]) * 60 + Number(m[3]);
  const end = Number(m[4]) * 60 + Number(m[5]);
  if (Number(m[2]) > 23 || Number(m[4]) > 24 || Number(m[3]) > 59 || Number(m[5]) > 59 || end > 24 * 60)
    throw new Error('times must be between 00:00 and 24:00');
  if (end <= start) throw new Error('the end of the working day must come after its start');
  return { days: [...days].sort(), start, end };
}

/**
 * When a message to someone in `zone` may go: undefined for now (inside working hours, or the zone is not
 * known), else the start of their next working period.
 */
export function heldUntil(now: Date, zone: string | undefined, hours: WorkingHours): Date | undefined {
  if (!zone || !IANAZone.isValidZone(zone)) return undefined;
  const local = DateTime.fromJSDate(now, { zone });
  const minutes = local.hour * 60 + local.minute;
  if (hours.days.includes(local.weekday) && minutes >= hours.start && minutes < hours.end) return undefined;
  for (let ahead = 0; ahead <= 7; ahead++) {
    const day = local.startOf('day').plus({ days: ahead });
    if (!hours.days.includes(day.weekday)) continue;
    const start = day.set({ hour: Math.floor(hours.start / 60), minute: hours.start % 60 });
    if (start > local) return start.toJSDate();
  }
  return undefined;
}
