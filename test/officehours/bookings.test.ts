import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { BookingStore } from '../../src/officehours/bookings.js';
import { safeKey } from '../../src/storage/tables.js';
import { testTables } from '../support/storage.js';

const OCC = 'office-hours|2027-01-05T14:00';
const details = { question: '', zone: 'Africa/Lusaka', start: '2027-01-05T12:00:00.000Z' };
const person = (i: number) => ({ id: `aad-${i}`, name: `Person ${i}` });

async function store() {
  return BookingStore.open(testTables(), new ManualClock('2027-01-01T08:00:00Z'));
}

describe('booking seats on Azure Tables', () => {
  it('never passes capacity under many concurrent bookings: exactly the capacity are booked, the rest told it is full', async () => {
    const s = await store();
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => s.book(OCC, 7, person(i), details)));
    expect(results.filter((r) => r.kind === 'booked')).toHaveLength(7);
    expect(results.filter((r) => r.kind === 'full')).toHaveLength(23);
    expect((await s.seatsOf(OCC)).booked).toBe(7);
    const booked = (await s.bookings(OCC)).filter((b) => b.status === 'booked');
    expect(booked).toHaveLength(7);
    expect(new Set(booked.map((b) => b.id)).size).toBe(7);
  });

  it('one seat per person: the same person booking many times at once holds one seat', async () => {
    const s = await store();
    const results = await Promise.all(Array.from({ length: 8 }, () => s.book(OCC, 5, person(1), details)));
    expect(results.filter((r) => r.kind === 'booked')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'already')).toHaveLength(7);
    expect((await s.seatsOf(OCC)).booked).toBe(1);
  });

  it('a cancel frees the seat for someone else; booking again gets a new booking id, the old one is never reused', async () => {
    const s = await store();
    const first = await s.book(OCC, 1, person(1), { ...details, question: 'How do I sync?' });
    expect(first.kind).toBe('booked');
    expect((await s.book(OCC, 1, person(2), details)).kind).toBe('full');
    const cancelled = await s.cancel(OCC, 'aad-1');
    expect(cancelled?.status).toBe('cancelled');
    expect(await s.cancel(OCC, 'aad-1')).toBeUndefined();
    expect((await s.book(OCC, 1, person(2), details)).kind).toBe('booked');
    await s.cancel(OCC, 'aad-2');
    const again = await s.book(OCC, 1, person(1), details);
    if (again.kind !== 'booked' || first.kind !== 'booked') throw new Error('expected bookings');
    expect(again.booking.id).not.toBe(first.booking.id);
    expect(again.booking.id).toMatch(/^B-[0-9A-Z]{8}$/);
    expect(await s.byId(first.booking.id)).toBeUndefined(); // the old id no longer opens anything
    expect((await s.byId(again.booking.id))?.personId).toBe('aad-1');
    expect((await s.ofPerson('aad-1')).map((p) => [p.bookingId, p.status])).toEqual([[again.booking.id, 'booked']]);
  });

  it('marks attendance: present and absent per booked person, the count kept with it', async () => {
    const s = await store();
    for (const i of [1, 2, 3]) await s.book(OCC, 10, person(i), details);
    const marked = await s.markAttendance(OCC, new Set(['aad-1', 'aad-3']));
    expect(marked.map((b) => [b.personId, b.attended])).toEqual([
      ['aad-1', true],
      ['aad-2', false],
      ['aad-3', true],
    ]);
    expect(await s.seatsOf(OCC)).toMatchObject({ booked: 3, attended: 2 });
    expect((await s.ofPerson('aad-2'))[0]?.attended).toBe(false);
  });

  it('marks attendance among the people shown only: the others keep their mark, and the count covers everyone', async () => {
    const s = await store();
    for (const i of [1, 2, 3, 4]) await s.book(OCC, 10, person(i), details);
    await s.markAttendance(OCC, new Set(['aad-1', 'aad-2']), new Set(['aad-1', 'aad-2']));
    // A second page: 3 and 4 shown, 3 present. A forged id (not booked) and one from the other page are ignored.
    const marked = await s.markAttendance(OCC, new Set(['aad-3', 'aad-1', 'aad-9']), new Set(['aad-3', 'aad-4', 'aad-9']));
    expect(marked.map((b) => [b.personId, b.attended])).toEqual([
      ['aad-1', true],
      ['aad-2', true],
      ['aad-3', true],
      ['aad-4', false],
    ]);
    expect(await s.seatsOf(OCC)).toMatchObject({ booked: 4, attended: 3 });
    expect(await s.booking(OCC, 'aad-9')).toBeUndefined();
    expect(await s.ofPerson('aad-9')).toEqual([]);
    expect((await s.ofPerson('aad-1'))[0]?.attended).toBe(true);
  });

  it('a change of start is claimed for a notice once, however many instances ask at once', async () => {
    const s = await store();
    await s.book(OCC, 10, person(1), details);
    expect(await s.claimNotice(OCC, details.start, 'scheduled', 1)).toBe(false); // nothing changed
    const claims = await Promise.all(Array.from({ length: 6 }, () => s.claimNotice(OCC, '2027-01-06T12:00:00.000Z', 'scheduled', 1)));
    expect(claims.filter((c) => typeof c === 'object')).toHaveLength(1);
    expect(claims.filter((c) => c === 'held')).toHaveLength(5); // the claimer is still queueing it
    const sequence = (claims.find((c) => typeof c === 'object') as { toldSequence: number }).toldSequence;
    await s.noticeQueued(OCC, '2027-01-06T12:00:00.000Z', 'scheduled', sequence);
    expect(await s.claimNotice(OCC, '2027-01-06T12:00:00.000Z', 'scheduled', 1)).toBe(false);
  });
});

describe('retention and a month row left at the start first booked (a move told before told moves were re-filed)', () => {
  it('the stale row is filed under the start they were told: it no longer holds up retention, and the moved booking is kept', async () => {
    const tables = testTables();
    const s = await BookingStore.open(tables, new ManualClock('2026-11-30T08:00:00Z'));
    const moved = 'clinic|2026-11-10T14:00';
    const past = 'clinic|2026-11-20T14:00';
    await s.book(moved, 5, person(1), { ...details, start: '2026-11-10T12:00:00.000Z' });
    await s.book(past, 5, person(2), { ...details, start: '2026-11-20T12:00:00.000Z' });
    // Told it moved to February; the row its first booking filed in November is left there, as before re-filing.
    await s.claimNotice(moved, '2027-02-09T12:00:00.000Z', 'scheduled', 1);
    const people = await tables.table('OfficeHoursPeople');
    await people.upsertEntity({ partitionKey: 'm|202611', rowKey: safeKey(moved), occurrenceId: moved, start: '2026-11-10T12:00:00.000Z' });
    // One booking a run: the stale row comes first each time.
    for (let run = 0; run < 3; run++) await s.expireBefore(new Date('2026-11-30T00:00:00Z'), 1);
    expect(await s.bookings(past)).toEqual([]);
    expect((await s.bookings(moved)).map((b) => b.status)).toEqual(['booked']);
    expect(await s.bookedBetween(new Date('2026-11-01T00:00:00Z'), new Date('2027-03-01T00:00:00Z'))).toEqual([
      { occurrenceId: moved, start: '2027-02-09T12:00:00.000Z', told: true },
    ]);
  });
});

describe('a storage fault between a booking change and the person’s own list', () => {
  it('pressing Cancel again after a fault puts "my training" right: the cancelled seat no longer shows as booked', async () => {
    const tables = testTables();
    const open = tables.table.bind(tables);
    let failIndex = false;
    tables.table = async (name: string) => {
      const client = await open(name);
      if (name !== 'OfficeHoursPeople') return client;
      const upsert = client.upsertEntity.bind(client);
      client.upsertEntity = (async (...args: Parameters<typeof upsert>) => {
        if (failIndex) throw Object.assign(new Error('storage did not answer'), { statusCode: 503 });
        return upsert(...args);
      }) as typeof upsert;
      return client;
    };
    const s = await BookingStore.open(tables, new ManualClock('2027-01-01T08:00:00Z'));
    await s.book(OCC, 5, person(1), details);
    failIndex = true;
    await expect(s.cancel(OCC, person(1).id)).rejects.toThrow(/did not answer/); // the seat went back; the person's list did not hear
    failIndex = false;
    expect(await s.cancel(OCC, person(1).id)).toBeUndefined(); // "You have no seat at that session"
    expect((await s.ofPerson(person(1).id)).map((b) => b.status)).toEqual(['cancelled']);
    expect((await s.seatsOf(OCC)).booked).toBe(0);
  });
});
