import { odata, type TableClient } from '@azure/data-tables';
import { isConflict, isNotFound, isPreconditionFailed, safeKey, type Tables } from '../storage/tables.js';
import { updateIfUnchanged } from '../storage/entities.js';
import { type DeliveryResult, type OutboundMessage, WITHDRAWN } from './message.js';

/*
 * Table `Outbound`: one row per message key, written before its request leaves, so a message is sent once
 * however often it is enqueued or delivered by the queue.
 *   PK <bucket 00–63 of the key>|<topic or '-'>  RK <message key>  → state, attempt, holder, deadline, result
 * A topic's rows are spread over 64 partitions (a broadcast of 10,000 writes them all within minutes) and read
 * back with one query per partition.
 *
 * Table `OutboundPayloads`: a message too large for a queue message, in ≤ 30,000-character chunks.
 *   PK 'payload' RK <message key>
 */
export const DELIVERIES_TABLE = 'Outbound';
export const PAYLOADS_TABLE = 'OutboundPayloads';

export type DeliveryState = 'pending' | 'sending' | DeliveryResult['state'];

export interface DeliveryRow {
  state: DeliveryState;
  attempt: number;
  /** The worker holding a `sending` attempt, and until when (ms) it may still be sending. */
  holder?: string;
  until?: number;
  activityId?: string;
  reason?: string;
  conversationId?: string;
  at?: string;
  /** ms from the connector's answer to this row saying so (the window a SIGKILL could fall into). */
  recordMs?: number;
  /** A `sending` attempt's request never leaves before this (ms): with its holder's send lease, what settles a kill. */
  slot?: number;
  etag: string;
}

export type Claim =
  /** This worker holds the attempt: send now. */
  | { kind: 'claimed'; etag: string; attempt: number }
  /** Already settled: do the follow-ups again (idempotent) and drop the queue message. */
  | { kind: 'settled'; row: DeliveryRow }
  /** Another worker holds an attempt until `until` (the row: its holder and slot); look again then. */
  | { kind: 'busy'; until: number; row?: DeliveryRow }
  /** An attempt was cut off (its worker stopped) before it recorded an answer: the request may have left. */
  | { kind: 'cutOff'; row: DeliveryRow };

const TERMINAL = new Set<DeliveryState>(['sent', 'updated', 'skipped', 'notInstalled', 'blocked', 'failed']);
/** The row says how its message ended (not pending, nor an attempt under way). */
export const hasEnded = (row: Pick<DeliveryRow, 'state'>) => TERMINAL.has(row.state);
const CHUNK = 30_000;

const BUCKETS = 64;
const topicOf = (m: OutboundMessage) => safeKey((m.op === 'send' ? m.topic : undefined) ?? '-');
const bucketKey = (bucket: number, topic: string) => `${String(bucket).padStart(2, '0')}|${topic}`;
const partition = (m: OutboundMessage) => bucketKey(bucketOf(m.key), topicOf(m));
/** Where a message's delivery row is (for its index, delivery-index.ts). */
export const deliveryRowOf = (m: OutboundMessage) => ({ partitionKey: partition(m), rowKey: safeKey(m.key) });

/** A stable bucket (0–63) for a key (FNV-1a); also the delivery index's partition of a pack. */
export function bucketOf(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) % BUCKETS;
}

/** The answer a settled row holds, as listeners are told it (again, for a message taken after it ended). */
export function resultOf(row: { state: string; activityId?: string; reason?: string }): DeliveryResult {
  switch (row.state) {
    case 'sent':
      return { state: 'sent', activityId: row.activityId ?? '' };
    case 'updated':
      return { state: 'updated' };
    case 'skipped':
      return { state: 'skipped', reason: row.reason ?? '' };
    case 'notInstalled':
      return { state: 'notInstalled' };
    case 'blocked':
      return { state: 'blocked' };
    default:
      return { state: 'failed', reason: row.reason ?? '' };
  }
}

/** A row's fields saying how its message ended (merged into the row, or the whole row when it has none). */
function settledRow(m: OutboundMessage, result: DeliveryResult, extra: { conversationId?: string; recordMs?: number } = {}) {
  return {
    partitionKey: partition(m),
    rowKey: safeKey(m.key),
    state: result.state,
    activityId: result.state === 'sent' ? result.activityId : '',
    reason: 'reason' in result ? result.reason : '',
    until: 0,
    at: new Date().toISOString(),
    ...(extra.conversationId ? { conversationId: extra.conversationId } : {}),
    ...(extra.recordMs !== undefined ? { recordMs: extra.recordMs } : {}),
  };
}

export class DeliveryStore {
  private constructor(
    private readonly rows: TableClient,
    private readonly payloads: TableClient,
  ) {}

  static async open(tables: Tables): Promise<DeliveryStore> {
    return new DeliveryStore(await tables.table(DELIVERIES_TABLE), await tables.table(PAYLOADS_TABLE));
  }

  /**
   * Takes the message for one attempt whose request will not leave before `slot`, unless it is settled or
   * someone else's attempt is still live.
   */
  async claim(m: OutboundMessage, holder: string, now: number, holdMs: number, slot: number): Promise<Claim> {
    const pk = partition(m);
    const rk = safeKey(m.key);
    const sending = { state: 'sending', holder, until: now + holdMs, at: new Date(now).toISOString(), slot };
    try {
      const res = await this.rows.createEntity({ partitionKey: pk, rowKey: rk, op: m.op, attempt: 1, ...sending });
      return { kind: 'claimed', etag: res.etag ?? '', attempt: 1 };
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
    for (let tries = 0; tries < 5; tries++) {
      const row = await this.read(m);
      if (!row) throw new Error(`delivery row ${m.key} vanished`);
      if (hasEnded(row)) return { kind: 'settled', row };
      if (row.state === 'sending') {
        if ((row.until ?? 0) > now) return { kind: 'busy', until: row.until ?? now, row };
        return { kind: 'cutOff', row };
      }
      const attempt = row.attempt + 1;
      try {
        const res = await this.rows.updateEntity(
          { partitionKey: pk, rowKey: rk, attempt, ...sending },
          'Merge',
          { etag: row.etag },
        );
        return { kind: 'claimed', etag: res.etag ?? '', attempt };
      } catch (err) {
        if (!isPreconditionFailed(err)) throw err;
      }
    }
    return { kind: 'busy', until: now + 1_000 };
  }

  /**
   * Takes over an attempt that was cut off and provably never left (send-lease.ts): the next attempt, held by
   * `holder`. Undefined when the row changed since it was read (look again).
   */
  async takeOver(
    m: OutboundMessage,
    row: DeliveryRow,
    holder: string,
    now: number,
    holdMs: number,
    slot: number,
  ): Promise<Extract<Claim, { kind: 'claimed' }> | undefined> {
    const attempt = row.attempt + 1;
    const entity = {
      partitionKey: partition(m),
      rowKey: safeKey(m.key),
      state: 'sending',
      holder,
      until: now + holdMs,
      at: new Date(now).toISOString(),
      slot,
      attempt,
      reason: 'the earlier attempt was cut off before its slot',
    };
    const etag = await updateIfUnchanged(this.rows, entity, 'Merge', row.etag);
    return etag === undefined ? undefined : { kind: 'claimed', etag, attempt };
  }

  /**
   * A held attempt will leave later than its claim says: the row says so, so a kill meanwhile leaves it
   * provably unsent. Undefined when the row is no longer ours as we left it.
   */
  moveSlot(m: OutboundMessage, etag: string, slot: number): Promise<string | undefined> {
    return updateIfUnchanged(this.rows, { partitionKey: partition(m), rowKey: safeKey(m.key), slot }, 'Merge', etag);
  }

  /**
   * Records how it ended. Unconditional: the worker that saw the connector's answer knows best, even if its
   * hold ran out meanwhile and another worker marked the attempt cut off.
   */
  async settle(
    m: OutboundMessage,
    result: DeliveryResult,
    extra: { conversationId?: string; recordMs?: number } = {},
  ): Promise<void> {
    await this.rows.upsertEntity(settledRow(m, result, extra), 'Merge');
  }

  /**
   * Records how a message ended unless its row says it ended already (the same message taken twice: the first
   * record stands); false then. One write where it has no row yet (the usual case), a read and a write where it has.
   */
  async settleUnlessEnded(m: OutboundMessage, result: DeliveryResult): Promise<boolean> {
    if (await this.createSettled(m, result)) return true;
    const row = await this.read(m);
    if (row && hasEnded(row)) return false;
    await this.settle(m, result);
    return true;
  }

  /** Creates the message's row already settled; false when it has a row (create-only: never overwrites one). */
  private async createSettled(m: OutboundMessage, result: DeliveryResult): Promise<boolean> {
    try {
      await this.rows.createEntity(settledRow(m, result));
      return true;
    } catch (err) {
      if (!isConflict(err)) throw err;
      return false;
    }
  }

  /**
   * Withdraws a send (Outbox.withdraw): its row is created settled as withdrawn (create-only: a claim creates or
   * ETag-guards the same row, so one of the two wins), or a row pending again after a failed try is settled so,
   * guarded by its ETag. Returns how the message ended: withdrawn, or the answer its row already holds; undefined
   * while an attempt is under way (its worker records the answer).
   */
  async withdraw(m: OutboundMessage): Promise<DeliveryResult | undefined> {
    const withdrawn: DeliveryResult = { state: 'failed', reason: WITHDRAWN };
    for (let tries = 0; tries < 5; tries++) {
      if (await this.createSettled(m, withdrawn)) return withdrawn;
      const row = await this.read(m);
      if (!row) continue; // deleted meanwhile (retention): create it again
      if (hasEnded(row)) return resultOf(row);
      if (row.state === 'sending') return undefined;
      if ((await updateIfUnchanged(this.rows, settledRow(m, withdrawn), 'Merge', row.etag)) !== undefined) return withdrawn;
    }
    return undefined;
  }

  /**
   * The attempt did not get through (throttled, 5xx, timeout): back to pending, to be tried again. `attempt`
   * rewrites the count (a claim given back unused does not count as a try).
   */
  async release(m: OutboundMessage, etag: string, reason: string, attempt?: number): Promise<void> {
    try {
      await this.rows.updateEntity(
        {
          partitionKey: partition(m),
          rowKey: safeKey(m.key),
          state: 'pending',
          until: 0,
          reason,
          ...(attempt !== undefined ? { attempt } : {}),
        },
        'Merge',
        { etag },
      );
    } catch (err) {
      // Someone else settled it meanwhile; their record stands.
      if (!isPreconditionFailed(err)) throw err;
    }
  }

  /** An update (no `sending` claim: replacing a message twice is harmless) failed `attempt` times so far. */
  async noteRetry(m: OutboundMessage, attempt: number, reason: string): Promise<void> {
    await this.rows.upsertEntity(
      { partitionKey: partition(m), rowKey: safeKey(m.key), op: m.op, state: 'pending', attempt, reason },
      'Merge',
    );
  }

  async read(m: OutboundMessage): Promise<DeliveryRow | undefined> {
    try {
      const e = await this.rows.getEntity<Omit<DeliveryRow, 'etag'>>(partition(m), safeKey(m.key));
      return {
        state: e.state,
        attempt: Number(e.attempt ?? 0),
        holder: e.holder,
        until: e.until === undefined ? undefined : Number(e.until),
        activityId: e.activityId || undefined,
        reason: e.reason || undefined,
        conversationId: e.conversationId,
        at: e.at,
        recordMs: e.recordMs === undefined ? undefined : Number(e.recordMs),
        slot: e.slot === undefined || e.slot === null ? undefined : Number(e.slot),
        etag: e.etag,
      };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** One topic's rows by state (a broadcast's progress): one query per partition of the topic. */
  async tally(topic: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    await Promise.all(
      Array.from({ length: BUCKETS }, async (_, bucket) => {
        const rows = this.rows.listEntities<{ state: string; reason?: string }>({
          queryOptions: { filter: odata`PartitionKey eq ${bucketKey(bucket, safeKey(topic))}`, select: ['state', 'reason'] },
        });
        for await (const e of rows) {
          const key = e.state === 'failed' && e.reason?.startsWith('unconfirmed') ? 'failed (unconfirmed)' : e.state;
          counts[key] = (counts[key] ?? 0) + 1;
        }
      }),
    );
    return counts;
  }

  /** Keeps a large message's JSON by its key (rewritten identically when a retried turn enqueues it again). */
  async savePayload(key: string, json: string): Promise<void> {
    const entity: Record<string, unknown> = { partitionKey: 'payload', rowKey: safeKey(key) };
    const chunks = Math.ceil(json.length / CHUNK);
    entity.chunks = chunks;
    for (let i = 0; i < chunks; i++) entity[`p${i}`] = json.slice(i * CHUNK, (i + 1) * CHUNK);
    await this.payloads.upsertEntity(entity as { partitionKey: string; rowKey: string }, 'Replace');
  }

  async loadPayload(key: string): Promise<string | undefined> {
    try {
      const e = await this.payloads.getEntity<Record<string, unknown>>('payload', safeKey(key));
      let json = '';
      for (let i = 0; i < Number(e.chunks); i++) json += String(e[`p${i}`] ?? '');
      return json;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
