import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { readEntity } from '../storage/entities.js';
import { deleteIfThere, isConflict, safeKey, type Tables } from '../storage/tables.js';
import { DELIVERY_STATES, type Delivery, type DeliveryState, failedUnconfirmed, type Recipient } from './model.js';

/*
 * Table `BroadcastDeliveries`: one row per recipient of a send, written before the message is handed to
 * the outbound path, so a restart knows who is still owed it and nobody is handed it twice.
 *   PK <send id>  RK <recipient key>  → state (pending → sent / failed / blocked / notInstalled / cancelled),
 *                                       waiting, chunk, queuedAt, heldUntil, attempt, reason,
 *                                       conversation (a channel row: the channel it was posted in)
 * One send's rows are one partition: the progress tally, the report and "resend to failed" read only it.
 *
 * Table `BroadcastAcks`: "Got it", once per person and message.
 *   PK <send id the acknowledgement counts toward>  RK <user key>  → at, name
 */
export const DELIVERIES_TABLE = 'BroadcastDeliveries';
export const ACKS_TABLE = 'BroadcastAcks';

type Row = Omit<Delivery, 'key'> & { partitionKey: string; rowKey: string };

export interface Tally {
  byState: Record<DeliveryState, number>;
  /** Pending rows held for working hours. */
  held: number;
  /** Pending rows handed to the outbound path, answer not back yet. */
  queued: number;
  /** Pending rows not handed over yet. */
  waiting: number;
  /** Failed rows whose copy may have reached the person (failedUnconfirmed): "Resend to failed" leaves them out. */
  unconfirmed: number;
  total: number;
}

const emptyTally = (): Tally => ({
  byState: Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as Record<DeliveryState, number>,
  held: 0,
  queued: 0,
  waiting: 0,
  unconfirmed: 0,
  total: 0,
});

function fromRow(e: Record<string, unknown>): Delivery {
  return {
    key: String(e.key ?? e.rowKey),
    kind: e.kind === 'channel' ? 'channel' : 'user',
    state: String(e.state) as DeliveryState,
    reason: String(e.reason ?? ''),
    attempt: Number(e.attempt ?? 1),
    waiting: e.waiting === true,
    chunk: Number(e.chunk ?? -1),
    queuedAt: String(e.queuedAt ?? ''),
    heldUntil: String(e.heldUntil ?? ''),
    at: String(e.at ?? ''),
    ...(e.conversation ? { conversation: String(e.conversation) } : {}),
    ...(typeof e.shownBefore === 'boolean' ? { shownBefore: e.shownBefore } : {}),
  };
}

export class DeliveryRows {
  private constructor(private readonly table: TableClient) {}

  static async open(tables: Tables): Promise<DeliveryRows> {
    return new DeliveryRows(await tables.table(DELIVERIES_TABLE));
  }

  /** Writes every recipient as pending and waiting (a repeat of the same send rewrites the same rows). */
  async writeAll(sendId: string, recipients: readonly Recipient[], at: string): Promise<void> {
    await this.batch(
      sendId,
      recipients.map((r) => ({
        key: r.key,
        kind: r.kind,
        state: 'pending',
        reason: '',
        attempt: 1,
        waiting: true,
        chunk: -1,
        queuedAt: '',
        heldUntil: '',
        at,
      })),
      'Replace',
    );
  }

  /** Merges changes into rows (each with its key), in transactions of up to 100. */
  async batch(sendId: string, rows: readonly (Partial<Delivery> & { key: string })[], mode: 'Merge' | 'Replace' = 'Merge'): Promise<void> {
    const pk = safeKey(sendId);
    for (let i = 0; i < rows.length; i += 100) {
      const actions: TransactionAction[] = rows
        .slice(i, i + 100)
        .map((r) => ['upsert', { ...r, partitionKey: pk, rowKey: safeKey(r.key) }, mode]);
      await this.table.submitTransaction(actions);
    }
  }

  async get(sendId: string, key: string): Promise<Delivery | undefined> {
    const e = await readEntity<Row>(this.table, safeKey(sendId), safeKey(key));
    return e ? fromRow(e) : undefined;
  }

  /** Records how a recipient's message ended (idempotent: the same answer twice writes the same row). */
  async record(sendId: string, key: string, changes: Partial<Delivery>): Promise<void> {
    await this.table.upsertEntity({ ...changes, partitionKey: safeKey(sendId), rowKey: safeKey(key) }, 'Merge');
  }

  /** Up to `n` rows waiting to be handed over, after `afterKey` in key order. */
  nextWaiting(sendId: string, afterKey: string, n: number): Promise<Delivery[]> {
    return this.waiting(sendId, afterKey ? odata`RowKey gt ${safeKey(afterKey)}` : '', n);
  }

  /** Up to `n` rows still waiting at or before `key`: a batch claimed (the cursor moved past it) and never handed over. */
  waitingUpTo(sendId: string, key: string, n: number): Promise<Delivery[]> {
    return this.waiting(sendId, odata`RowKey le ${safeKey(key)}`, n);
  }

  private async waiting(sendId: string, range: string, n: number): Promise<Delivery[]> {
    const conds = [odata`PartitionKey eq ${safeKey(sendId)}`, `waiting eq true`];
    if (range) conds.push(range);
    const out: Delivery[] = [];
    const pages = this.table
      .listEntities<Row>({ queryOptions: { filter: conds.join(' and ') } })
      .byPage({ maxPageSize: Math.min(1000, n) });
    for await (const page of pages) {
      for (const e of page) out.push(fromRow(e));
      if (out.length >= n) break;
    }
    return out.slice(0, n);
  }

  /** Every row of a send, optionally only some states. */
  async *rows(sendId: string, states?: readonly DeliveryState[]): AsyncGenerator<Delivery> {
    const conds = [odata`PartitionKey eq ${safeKey(sendId)}`];
    if (states?.length) conds.push(`(${states.map((s) => odata`state eq ${s}`).join(' or ')})`);
    for await (const e of this.table.listEntities<Row>({ queryOptions: { filter: conds.join(' and ') } })) {
      yield fromRow(e);
    }
  }

  /** Deletes one recipient's row (privacy: `forget`); nothing when it is gone already. */
  async remove(sendId: string, key: string): Promise<void> {
    await deleteIfThere(this.table, safeKey(sendId), safeKey(key));
  }

  /** Deletes up to `limit` rows of a send (retention); returns how many. */
  async removeSome(sendId: string, limit: number): Promise<number> {
    return removeFromPartition(this.table, safeKey(sendId), limit);
  }

  /** Whether any row of the send is still pending (stops at the first found). */
  async anyPending(sendId: string): Promise<boolean> {
    const pages = this.table
      .listEntities({ queryOptions: { filter: odata`PartitionKey eq ${safeKey(sendId)} and state eq ${'pending'}`, select: ['RowKey'] } })
      .byPage({ maxPageSize: 1 });
    for await (const page of pages) if (page.length) return true;
    return false;
  }

  /** The people a send reached 1:1 (user keys): the acknowledged share's base, and who a reminder is for. */
  async reachedUsers(sendId: string): Promise<string[]> {
    const out: string[] = [];
    for await (const d of this.rows(sendId, ['sent'])) if (d.kind === 'user') out.push(d.key);
    return out;
  }

  /** The row keys of the people a send reached 1:1, in key order (the order acknowledgements are stored in). */
  async *reachedKeys(sendId: string): AsyncGenerator<string> {
    const filter = odata`PartitionKey eq ${safeKey(sendId)} and state eq ${'sent'} and kind eq ${'user'}`;
    for await (const e of this.table.listEntities({ queryOptions: { filter, select: ['RowKey'] } })) yield String(e.rowKey);
  }

  /** Counts by state (one partition read): the progress card and the report. */
  async tally(sendId: string): Promise<Tally> {
    const t = emptyTally();
    for await (const d of this.rows(sendId)) {
      t.total++;
      t.byState[d.state] = (t.byState[d.state] ?? 0) + 1;
      if (failedUnconfirmed(d)) t.unconfirmed++;
      if (d.state !== 'pending') continue;
      if (d.heldUntil) t.held++;
      else if (d.waiting) t.waiting++;
      else t.queued++;
    }
    return t;
  }
}

export class AckStore {
  private constructor(private readonly table: TableClient) {}

  static async open(tables: Tables): Promise<AckStore> {
    return new AckStore(await tables.table(ACKS_TABLE));
  }

  /** Records "Got it" once; returns when the person first acknowledged (now, or earlier). */
  async acknowledge(sendId: string, userKey: string, name: string, at: string): Promise<{ fresh: boolean; at: string }> {
    try {
      await this.table.createEntity({ partitionKey: safeKey(sendId), rowKey: safeKey(userKey.toLowerCase()), at, name });
      return { fresh: true, at };
    } catch (err) {
      if (!isConflict(err)) throw err;
      const first = await this.when(sendId, userKey);
      return { fresh: false, at: first ?? at };
    }
  }

  async when(sendId: string, userKey: string): Promise<string | undefined> {
    const e = await readEntity<{ at: string }>(this.table, safeKey(sendId), safeKey(userKey.toLowerCase()));
    return e ? String(e.at) : undefined;
  }

  /** Deletes one person's acknowledgement (privacy: `forget`). */
  async remove(sendId: string, userKey: string): Promise<void> {
    await deleteIfThere(this.table, safeKey(sendId), safeKey(userKey.toLowerCase()));
  }

  /** Deletes up to `limit` acknowledgements of a send (retention); returns how many. */
  async removeSome(sendId: string, limit: number): Promise<number> {
    return removeFromPartition(this.table, safeKey(sendId), limit);
  }

  /** The row keys of those who acknowledged a send, in key order. */
  async *keys(sendId: string): AsyncGenerator<string> {
    for await (const e of this.table.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${safeKey(sendId)}`, select: ['RowKey'] },
    })) {
      yield String(e.rowKey);
    }
  }

  async who(sendId: string): Promise<Set<string>> {
    const out = new Set<string>();
    for await (const e of this.table.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${safeKey(sendId)}`, select: ['RowKey'] },
    })) {
      out.add(String(e.rowKey));
    }
    return out;
  }
}

/**
 * Whether anyone a send reached has not acknowledged it, walking both key-ordered lists side by side and stopping
 * at the first such person (a user key is lower-cased in both tables, so the same person has the same row key):
 * a Remind press reads a page or two when someone is left, not the whole send. Also how many it reached, which is
 * known only when it walked them all (everyone acknowledged).
 */
export async function anyoneUnacknowledged(reached: AsyncIterable<string>, acked: AsyncIterable<string>): Promise<{ any: boolean; reached: number }> {
  const acks = acked[Symbol.asyncIterator]();
  let ack = await acks.next();
  let count = 0;
  try {
    for await (const key of reached) {
      count++;
      while (!ack.done && ack.value < key) ack = await acks.next();
      if (ack.done || ack.value !== key) return { any: true, reached: count };
    }
    return { any: false, reached: count };
  } finally {
    await acks.return?.();
  }
}

/** Deletes up to `limit` rows of one partition, in transactions of up to 100; returns how many. */
async function removeFromPartition(table: TableClient, pk: string, limit: number): Promise<number> {
  const keys: string[] = [];
  const pages = table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${pk}`, select: ['RowKey'] } }).byPage({ maxPageSize: Math.min(1000, limit) });
  for await (const page of pages) {
    for (const e of page) keys.push(String(e.rowKey));
    if (keys.length >= limit) break;
  }
  const some = keys.slice(0, limit);
  for (let i = 0; i < some.length; i += 100) {
    await table.submitTransaction(some.slice(i, i + 100).map((rk): TransactionAction => ['delete', { partitionKey: pk, rowKey: rk }]));
  }
  return some.length;
}
