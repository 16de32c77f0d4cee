import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import { dayOf, firstDay, forEachDay } from '../storage/day-partitions.js';
import { collect, deleteIfThere, isNotFound, safeKey, type Tables } from '../storage/tables.js';
import { bucketOf, DELIVERIES_TABLE, deliveryRowOf, PAYLOADS_TABLE } from './deliveries.js';
import type { OutboundMessage } from './message.js';

/*
 * Table `OutboundByDay`: every message the worker took from the queue, by the UTC day it took it, so the
 * delivery rows (and large messages' payload rows) can be found by age and by recipient without a scan:
 *   PK <yyyy-mm-dd>|<bucket 00–63 of the queue message>  RK `u:<recipient>|<message key>` (a 1:1 message) or
 *   `-|<message key>` (anything else)
 *   → pk / rk of the delivery row, `to` (the recipient), `at`, `payload` (a large message's row exists).
 * One transaction per queue message (its messages share a partition): a 10,000-recipient broadcast packed 50 to
 * a queue message costs 200 writes, a single notice one. A day is spread over 64 partitions so that its writes
 * do not all land on one partition (Azure's guidance against an append-only hot partition; on Azurite, whose
 * point writes scan their partition, a 10,000-row day partition made each pack's transaction take ≈ 250 ms).
 * A day is read as the range of its partitions, which also holds rows of the earlier layout (PK <yyyy-mm-dd>).
 * A message put back on the queue alone may be filed again under another bucket: reads return it once, with
 * both index rows, so that `forget` and retention delete both.
 */
export const DELIVERY_INDEX_TABLE = 'OutboundByDay';

type IndexRow = {
  partitionKey: string;
  rowKey: string;
  pk: string;
  rk: string;
  to: string;
  at: string;
  payload: boolean;
};

/** A message's delivery as indexed: where its rows are. */
export interface IndexedDelivery {
  /** Its index rows (`OutboundByDay`): usually one; a message filed again alone has one more. */
  indexRows: { partition: string; key: string }[];
  /** The delivery row (`Outbound`). */
  pk: string;
  rk: string;
  to: string;
  at: string;
  payload: boolean;
}

/** A day's partitions: `<day>` (earlier layout) and `<day>|00` … `<day>|63` ('|' < '}'). */
const dayRange = (day: string) => odata`PartitionKey ge ${day} and PartitionKey lt ${`${day}}`}`;
const partitionOf = (day: string, messages: readonly OutboundMessage[]) =>
  `${day}|${String(bucketOf(messages[0]?.key ?? '')).padStart(2, '0')}`;

const who = (m: OutboundMessage) => (m.op === 'send' && m.to.kind === 'user' ? `u:${safeKey(m.to.userKey)}` : '-');

export class DeliveryIndex {
  private constructor(
    private readonly index: TableClient,
    private readonly rows: TableClient,
    private readonly payloads: TableClient,
    private readonly clock: Clock,
  ) {}

  static async open(tables: Tables, clock: Clock): Promise<DeliveryIndex> {
    const [index, rows, payloads] = await Promise.all([
      tables.table(DELIVERY_INDEX_TABLE),
      tables.table(DELIVERIES_TABLE),
      tables.table(PAYLOADS_TABLE),
    ]);
    return new DeliveryIndex(index, rows, payloads, clock);
  }

  /** Files the messages of one queue message under today (idempotent: taken again, written again alike). */
  async record(messages: readonly OutboundMessage[], payloadKey?: string): Promise<void> {
    const now = this.clock.now();
    const partitionKey = partitionOf(dayOf(now), messages);
    const rows = new Map<string, IndexRow>();
    for (const m of messages) {
      const delivery = deliveryRowOf(m);
      const key = `${who(m)}|${delivery.rowKey}`;
      rows.set(key, {
        partitionKey,
        rowKey: key,
        pk: delivery.partitionKey,
        rk: delivery.rowKey,
        to: m.op === 'send' && m.to.kind === 'user' ? m.to.userKey : '',
        at: now.toISOString(),
        payload: m.key === payloadKey,
      });
    }
    const actions = [...rows.values()].map((r): TransactionAction => ['upsert', r, 'Replace']);
    for (let i = 0; i < actions.length; i += 100) await this.index.submitTransaction(actions.slice(i, i + 100));
  }

  /** The 1:1 messages to any of these keys: one range read per day since the first (bounded by retention). */
  async toRecipient(keys: readonly string[]): Promise<IndexedDelivery[]> {
    const first = await firstDay(this.index);
    if (!first || !keys.length) return [];
    const ranges = keys.map((k) => odata`(RowKey ge ${`u:${safeKey(k)}|`} and RowKey lt ${`u:${safeKey(k)}}`})`);
    const out: IndexedDelivery[] = [];
    await forEachDay(first, dayOf(this.clock.now()), async (day) => {
      const rows = await collect(
        this.index.listEntities<IndexRow>({ queryOptions: { filter: `${dayRange(day)} and (${ranges.join(' or ')})` } }),
      );
      // The range can also hold a longer key starting with this one: `to` says whose it is.
      out.push(...rows.filter((r) => keys.includes(String(r.to))).map(plain));
    });
    return once(out).sort((a, b) => a.at.localeCompare(b.at));
  }

  /** The delivery row as stored (state, tries, when), for `my data`. */
  async delivery(d: IndexedDelivery): Promise<Record<string, unknown> | undefined> {
    try {
      const e = await this.rows.getEntity<Record<string, unknown>>(d.pk, d.rk);
      return { message: d.rk, state: e.state, attempts: e.attempt, at: e.at, conversation: e.conversationId ?? null };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Deletes a delivery's rows, its index row last (a run cut short is finished by the next). */
  async drop(d: IndexedDelivery): Promise<void> {
    await deleteIfThere(this.rows, d.pk, d.rk);
    if (d.payload) await deleteIfThere(this.payloads, 'payload', d.rk);
    for (const row of d.indexRows) await deleteIfThere(this.index, row.partition, row.key);
  }

  /**
   * Retention: deletes up to `limit` deliveries taken before `before`: whole days before its day as a range of
   * partitions (oldest first), then that day's rows older than `before`.
   */
  async expireBefore(before: Date, limit: number): Promise<number> {
    const day = dayOf(before);
    const due = await collect(this.index.listEntities<IndexRow>({ queryOptions: { filter: odata`PartitionKey lt ${day}` } }), limit);
    if (due.length < limit) {
      due.push(
        ...(await collect(
          this.index.listEntities<IndexRow>({ queryOptions: { filter: `${dayRange(day)} and ${odata`at lt ${before.toISOString()}`}` } }),
          limit - due.length,
        )),
      );
    }
    const deliveries = once(due.map(plain));
    for (const d of deliveries) await this.drop(d);
    return deliveries.length;
  }
}

/** One entry per delivery row (a message filed twice is one delivery, with both index rows). */
function once(rows: IndexedDelivery[]): IndexedDelivery[] {
  const byRow = new Map<string, IndexedDelivery>();
  for (const d of rows) {
    const key = `${d.pk}\n${d.rk}`;
    const first = byRow.get(key);
    if (first) first.indexRows.push(...d.indexRows);
    else byRow.set(key, { ...d, indexRows: [...d.indexRows] });
  }
  return [...byRow.values()];
}

function plain(r: IndexRow): IndexedDelivery {
  return {
    indexRows: [{ partition: String(r.partitionKey), key: String(r.rowKey) }],
    pk: String(r.pk),
    rk: String(r.rk),
    to: String(r.to ?? ''),
    at: String(r.at ?? ''),
    payload: r.payload === true,
  };
}
