import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { DELIVERY_INDEX_TABLE, DeliveryIndex } from '../../src/outbound/delivery-index.js';
import { DELIVERIES_TABLE, deliveryRowOf } from '../../src/outbound/deliveries.js';
import type { OutboundMessage } from '../../src/outbound/message.js';
import { testTables } from '../support/storage.js';

const toUser = (key: string, user: string): OutboundMessage => ({
  op: 'send',
  key,
  to: { kind: 'user', userKey: user },
  content: `hello ${user}`,
  topic: 'plan:launch',
});

/** A pack of a broadcast's messages, as the worker takes one queue message. */
const pack = (n: number, from: number) => Array.from({ length: n }, (_, i) => toUser(`plan:launch:u${from + i}`, `u${from + i}`));

async function setUp() {
  const tables = testTables();
  const clock = new ManualClock('2026-11-30T09:00:00Z');
  const index = await DeliveryIndex.open(tables, clock);
  const rows = await tables.table(DELIVERIES_TABLE);
  const raw = await tables.table(DELIVERY_INDEX_TABLE);
  /** Writes the delivery row the worker would have written before sending. */
  const delivered = (m: OutboundMessage) => rows.upsertEntity({ ...deliveryRowOf(m), state: 'sent', attempt: 1 });
  return { tables, clock, index, rows, raw, delivered };
}

describe('DeliveryIndex', () => {
  it('spreads a day over partitions, one per pack, and still finds what was sent to a person that day', async () => {
    const { index, raw, delivered } = await setUp();
    const packs = Array.from({ length: 8 }, (_, p) => pack(5, p * 5));
    for (const p of packs) {
      await index.record(p);
      for (const m of p) await delivered(m);
    }
    const partitions = new Set<string>();
    for await (const e of raw.listEntities({ queryOptions: { select: ['PartitionKey'] } })) partitions.add(String(e.partitionKey));
    expect(partitions.size).toBeGreaterThan(1);
    for (const pk of partitions) expect(pk).toMatch(/^2026-11-30\|\d\d$/);

    const found = await index.toRecipient(['u7', 'u33']);
    expect(found.map((d) => d.rk)).toEqual(['plan:launch:u7', 'plan:launch:u33']);
    expect((await index.delivery(found[0]!))?.state).toBe('sent');
  });

  it('finds rows filed under the earlier one-partition-per-day layout, and a message filed twice once', async () => {
    const { index, raw, clock, delivered } = await setUp();
    const m = toUser('notice:R-1:amina', 'amina');
    await delivered(m);
    const { partitionKey, rowKey } = deliveryRowOf(m);
    await raw.createEntity({
      partitionKey: '2026-11-29',
      rowKey: `u:amina|${rowKey}`,
      pk: partitionKey,
      rk: rowKey,
      to: 'amina',
      at: '2026-11-29T10:00:00.000Z',
      payload: false,
    });
    // Taken again the next day, alone (e.g. put back after a 429): filed again.
    await index.record([m]);
    const again = toUser('notice:R-2:amina', 'amina');
    await delivered(again);
    await index.record([toUser('other', 'bo'), again]);
    const found = await index.toRecipient(['amina']);
    expect(found.map((d) => d.rk)).toEqual([rowKey, 'notice:R-2:amina']);

    // Retention takes the old layout's day and every copy of a message's index rows.
    clock.set('2026-12-31T12:00:00Z');
    expect(await index.expireBefore(new Date('2026-12-01T00:00:00Z'), 100)).toBe(3);
    expect(await index.toRecipient(['amina', 'bo'])).toEqual([]);
  });

  it('deletes every index row of a message filed again alone when the person is forgotten', async () => {
    const { index, raw, delivered } = await setUp();
    const first = pack(5, 0);
    await index.record(first);
    for (const m of first) await delivered(m);
    // u3's message came back alone (a 429) and was filed again, under its own bucket.
    await index.record([first[3]!]);
    const found = await index.toRecipient(['u3']);
    expect(found).toHaveLength(1);
    for (const d of found) await index.drop(d);
    const left = [];
    for await (const e of raw.listEntities<{ to: string }>()) if (e.to === 'u3') left.push(e.rowKey);
    expect(left).toEqual([]);
    expect(await index.toRecipient(['u3'])).toEqual([]);
    expect(await index.toRecipient(['u2'])).toHaveLength(1);
  });

  it('expires only the rows of the cut-off day that are older than the cut-off', async () => {
    const { index, clock, delivered } = await setUp();
    const early = pack(3, 0);
    await index.record(early);
    clock.advance(6 * 3_600_000);
    const late = pack(3, 100);
    await index.record(late);
    for (const m of [...early, ...late]) await delivered(m);
    expect(await index.expireBefore(new Date('2026-11-30T12:00:00Z'), 100)).toBe(3);
    expect((await index.toRecipient(['u0', 'u100'])).map((d) => d.to)).toEqual(['u100']);
  });
});
