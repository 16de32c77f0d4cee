import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import { readEntity } from '../storage/entities.js';
import { isConflict, type Tables } from '../storage/tables.js';

/**
 * Signed, expiring links to one booking's calendar file: `<booking id>.<expiry, unix seconds>.<HMAC>`. Only the
 * server can make one (the key never leaves Storage), so nobody reads someone else's invite by guessing, and
 * a link stops working at its expiry. The key is made once per Storage account (table `OfficeHoursKeys`), so
 * every instance signs and checks alike.
 */
export class CalendarLinks {
  private constructor(
    private readonly key: Buffer,
    private readonly clock: Clock,
  ) {}

  static async open(tables: Tables, clock: Clock): Promise<CalendarLinks> {
    return new CalendarLinks(await signingKey(await tables.table('OfficeHoursKeys')), clock);
  }

  /** A token for `bookingId` valid until `expires`. */
  sign(bookingId: string, expires: Date): string {
    const exp = Math.floor(expires.getTime() / 1000);
    return `${bookingId}.${exp}.${this.mac(`${bookingId}.${exp}`)}`;
  }

  /** The booking id a token names, or undefined when it is forged, malformed or expired. */
  verify(token: string): string | undefined {
    const m = /^(B-[0-9A-Z]{8})\.(\d{1,12})\.([\w-]{43})$/.exec(token);
    if (!m) return undefined;
    const [, bookingId = '', exp = '', sig = ''] = m;
    const expected = Buffer.from(this.mac(`${bookingId}.${exp}`));
    const given = Buffer.from(sig);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    if (Number(exp) * 1000 <= this.clock.now().getTime()) return undefined;
    return bookingId;
  }

  private mac(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }
}

async function signingKey(table: TableClient): Promise<Buffer> {
  const existing = await readEntity<{ key: string }>(table, 'key', 'calendar');
  if (existing) return Buffer.from(existing.key, 'base64');
  try {
    const key = randomBytes(32);
    await table.createEntity({ partitionKey: 'key', rowKey: 'calendar', key: key.toString('base64') });
    return key;
  } catch (err) {
    if (!isConflict(err)) throw err;
    // Another instance made it first: use theirs.
    const made = await readEntity<{ key: string }>(table, 'key', 'calendar');
    if (!made) throw err;
    return Buffer.from(made.key, 'base64');
  }
}
