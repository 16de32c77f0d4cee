import { odata, type TableClient } from '@azure/data-tables';
import { conflictPauseMs, fromJsonColumn, readEntity, toJsonColumn, updateIfUnchanged } from '../storage/entities.js';
import { isConflict, safeKey, type Tables } from '../storage/tables.js';
import type { Send } from './model.js';

/*
 * Table `BroadcastSends`
 *   PK 'send'    RK <send id>          → one send: content, audience, status, progress (ETag-guarded)
 *   PK 'active'  RK <send id>          → sends not finished yet, so the scheduled job reads only those
 *   PK 'cancel'  RK <plan message id>  → `cancel <id>`: the message's `when` as it was cancelled
 *   PK 'plan'    RK 'last-good'        → the text of the last plan file that passed its checks
 * A plan occurrence's send id is derived from the message and the occurrence, so creating it is the
 * claim that makes it go out once however many instances try at the same moment (409 for the others).
 */
export const SENDS_TABLE = 'BroadcastSends';

type Row = Record<string, unknown> & { etag?: string };

const PLAN_CHUNK = 30_000;
const JSON_FIELDS = ['content', 'audience', 'requestedBy', 'cancelledBy', 'counts'] as const;

function toRow(send: Omit<Send, 'etag'>): Record<string, unknown> {
  const row: Record<string, unknown> = { partitionKey: 'send', rowKey: safeKey(send.id) };
  for (const [k, v] of Object.entries(send)) {
    row[k] = (JSON_FIELDS as readonly string[]).includes(k) ? toJsonColumn(v) : v;
  }
  return row;
}

function fromRow(e: Row): Send {
  const s = { ...e } as Record<string, unknown>;
  for (const k of JSON_FIELDS) s[k] = fromJsonColumn(e[k], null);
  for (const k of ['partitionKey', 'rowKey', 'timestamp', 'odata.etag'] as const) delete s[k];
  return { ...(s as unknown as Send), etag: String(e.etag ?? '') };
}

export class SendStore {
  private constructor(private readonly table: TableClient) {}

  static async open(tables: Tables): Promise<SendStore> {
    return new SendStore(await tables.table(SENDS_TABLE));
  }

  /** Creates the send and marks it active; false when a send with this id exists (someone claimed it). */
  async create(send: Omit<Send, 'etag'>): Promise<boolean> {
    try {
      await this.table.createEntity(toRow(send) as { partitionKey: string; rowKey: string });
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
    await this.table.upsertEntity({ partitionKey: 'active', rowKey: safeKey(send.id) }, 'Replace');
    return true;
  }

  async get(id: string): Promise<Send | undefined> {
    const e = await readEntity<Row>(this.table, 'send', safeKey(id));
    return e ? fromRow(e) : undefined;
  }

  /** An ETag-guarded change; undefined when someone changed the send first (re-read and decide again). */
  async update(send: Send, changes: Partial<Omit<Send, 'id' | 'etag'>>): Promise<Send | undefined> {
    const row = toRow({ ...send, ...changes }) as { partitionKey: string; rowKey: string };
    const etag = await updateIfUnchanged(this.table, row, 'Replace', send.etag);
    return etag === undefined ? undefined : { ...send, ...changes, etag };
  }

  /** Read-modify-write until it lands or `change` says there is nothing to do (returns undefined). */
  async change(id: string, change: (send: Send) => Partial<Omit<Send, 'id' | 'etag'>> | undefined): Promise<Send | undefined> {
    for (let tries = 0; tries < 12; tries++) {
      const started = Date.now();
      const send = await this.get(id);
      if (!send) return undefined;
      const changes = change(send);
      if (!changes) return undefined;
      const saved = await this.update(send, changes);
      if (saved) return saved;
      await new Promise((r) => setTimeout(r, conflictPauseMs(tries, Date.now() - started)));
    }
    throw new Error(`send ${id} kept changing under us; try again`);
  }

  /** Every send, newest first (a rollout has hundreds, not millions: one partition read). */
  async all(): Promise<Send[]> {
    const out: Send[] = [];
    for await (const e of this.table.listEntities<Row>({ queryOptions: { filter: `PartitionKey eq 'send'` } })) {
      out.push(fromRow(e));
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /**
   * The sends whose ids sort from `from` (inclusive) to `to` (exclusive), at most `limit` of them, in id order: a
   * plan message's sends by their id's prefix, a recurring one's around a date (ids end with their time).
   */
  async inRange(from: string, to: string, limit: number): Promise<Send[]> {
    const out: Send[] = [];
    const pages = this.table
      .listEntities<Row>({ queryOptions: { filter: odata`PartitionKey eq 'send' and RowKey ge ${from} and RowKey lt ${to}` } })
      .byPage({ maxPageSize: Math.min(limit, 1000) });
    for await (const page of pages) {
      for (const e of page) out.push(fromRow(e));
      if (out.length >= limit) break;
    }
    return out.slice(0, limit);
  }

  /** Ids of the unfinished sends whose ids sort from `from` to `to` (see inRange), at most `limit`. */
  async activeInRange(from: string, to: string, limit: number): Promise<string[]> {
    const out: string[] = [];
    const pages = this.table
      .listEntities({ queryOptions: { filter: odata`PartitionKey eq 'active' and RowKey ge ${from} and RowKey lt ${to}`, select: ['RowKey'] } })
      .byPage({ maxPageSize: Math.min(limit, 1000) });
    for await (const page of pages) {
      for (const e of page) out.push(String(e.rowKey));
      if (out.length >= limit) break;
    }
    return out.slice(0, limit);
  }

  /**
   * The announcements (`announce`), newest first: their ids only, from their own key range (an announcement's
   * id is "a-" and a hash), not every send.
   */
  async announcements(): Promise<{ id: string; createdAt: string }[]> {
    const out: { id: string; createdAt: string }[] = [];
    for await (const e of this.table.listEntities<Row>({
      queryOptions: { filter: `PartitionKey eq 'send' and RowKey ge 'a-' and RowKey lt 'a.'`, select: ['id', 'source', 'createdAt'] },
    })) {
      if (e.source === 'announce') out.push({ id: String(e.id), createdAt: String(e.createdAt ?? '') });
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Ids of the sends not finished (scheduled, resolving, sending, or cancelled with answers still due). */
  async activeIds(): Promise<string[]> {
    const out: string[] = [];
    for await (const e of this.table.listEntities({ queryOptions: { filter: `PartitionKey eq 'active'`, select: ['RowKey'] } })) {
      out.push(String(e.rowKey));
    }
    return out;
  }

  /** Marks a finished send active again (a resend). */
  async reactivate(id: string): Promise<void> {
    await this.table.upsertEntity({ partitionKey: 'active', rowKey: safeKey(id) }, 'Replace');
  }

  async finish(id: string): Promise<void> {
    await this.table.deleteEntity('active', safeKey(id)).catch(() => {});
  }

  /** Keeps the plan's text in ≤ 30,000-character columns (a string column holds 32K); a huge plan is not kept. */
  async saveGoodPlan(text: string): Promise<void> {
    if (text.length > 400_000) return;
    const row: Record<string, unknown> = { partitionKey: 'plan', rowKey: 'last-good', chunks: Math.ceil(text.length / PLAN_CHUNK) };
    for (let i = 0; i * PLAN_CHUNK < text.length; i++) row[`t${i}`] = text.slice(i * PLAN_CHUNK, (i + 1) * PLAN_CHUNK);
    await this.table.upsertEntity(row as { partitionKey: string; rowKey: string }, 'Replace');
  }

  async lastGoodPlan(): Promise<string | undefined> {
    const e = await readEntity<Record<string, unknown>>(this.table, 'plan', 'last-good');
    if (!e) return undefined;
    let text = '';
    for (let i = 0; i < Number(e.chunks ?? 0); i++) text += String(e[`t${i}`] ?? '');
    return text;
  }

  async markCancelled(messageId: string, whenText: string, by: string): Promise<void> {
    await this.table.upsertEntity({ partitionKey: 'cancel', rowKey: safeKey(messageId), whenText, by }, 'Replace');
  }

  /** Who cancelled each plan message (`cancel <id>`), by message id: privacy's describe and forget. */
  async cancelledBy(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for await (const e of this.table.listEntities<{ by: string }>({ queryOptions: { filter: `PartitionKey eq 'cancel'` } })) {
      out.set(String(e.rowKey), String(e.by ?? ''));
    }
    return out;
  }

  /** Puts someone else (a forgotten person's pseudonym) as who cancelled a plan message. */
  async setCancelledBy(messageId: string, by: string): Promise<void> {
    await this.table.upsertEntity({ partitionKey: 'cancel', rowKey: safeKey(messageId), by }, 'Merge');
  }

  /** Plan messages cancelled with `cancel <id>`, with the `when` they had then. */
  async cancelled(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for await (const e of this.table.listEntities<{ whenText: string }>({
      queryOptions: { filter: `PartitionKey eq 'cancel'` },
    })) {
      out.set(String(e.rowKey), String(e.whenText));
    }
    return out;
  }
}
