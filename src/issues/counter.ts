import { createHash } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import { isStorageUnavailable } from '../storage/call-policy.js';
import { fromSafeKey, isConflict, isNotFound, isPreconditionFailed } from '../storage/tables.js';
import { conflictPauseMs, readEntity, retryOnConflict } from '../storage/entities.js';

/**
 * Reference numbers: one counter row per prefix in the `Issues` table (PartitionKey `~meta`,
 * RowKey = prefix), incremented under its ETag, so concurrent reports never share a number.
 *
 * Idempotency rows (`idem~<prefix>~<sha256 of the key>`) sit in the same partition, and the increment and the key
 * row are written in one transaction: a request key gets exactly one number, with no window in which a
 * crash leaves a number allocated but unclaimed, and no pending state to time out. The new issue's
 * index-repair marker rides in the same transaction (see index-writer.ts).
 * The key is hashed: it holds the chat's id (`<conversation id>|<activity id>`), which reaches the person and
 * would tie them to the issue's number after `forget` made the issue theirs no more (rows written before keep
 * the key in the clear until `hashLegacyKeys`).
 */

export const META_PARTITION = '~meta';
const COUNTER_PARTITION = META_PARTITION;
const MAX_ATTEMPTS = 60;

interface CounterRow {
  n: number;
  since: string;
}

export interface Allocation {
  number: number;
  /** False when the idempotency key already had a number: this is a retry of an earlier request. */
  fresh: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const idemPrefix = (prefix: string) => `idem~${prefix}~`;
const HASHED = /^[0-9a-f]{64}$/;

/** Keys over 200 characters were hashed alike before every key was: their rows are found as they were. */
function idemRowKey(prefix: string, key: string): string {
  return `${idemPrefix(prefix)}${createHash('sha256').update(key).digest('hex')}`;
}

export type MetaRow = { partitionKey: string; rowKey: string } & Record<string, string | number>;

export class RefCounter {
  /**
   * The counter as this instance last wrote it. The next allocation tries it without reading first
   * (one round trip less on every report); if another instance moved the counter, the ETag fails (412)
   * and the loop reads the real value.
   */
  private cached: { n: number; etag: string } | null = null;
  /**
   * This instance's allocations, one after another: concurrent reports on one instance would otherwise all
   * try the same cached ETag, all but one get 412, re-read and retry (calls growing with the square of the
   * burst, each retry after a back-off). In turn, each allocation is one transaction on the cached ETag;
   * only other instances' allocations still cost a 412 and a re-read.
   */
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  /** When storage did not answer an allocation: the ones already waiting behind it fail at once, not one by one. */
  private unavailable: { upTo: number; err: unknown } | undefined;

  constructor(
    private readonly table: TableClient,
    private readonly prefix: string,
  ) {}

  private async read(): Promise<(CounterRow & { etag: string }) | null> {
    const e = await readEntity<CounterRow>(this.table, COUNTER_PARTITION, this.prefix);
    return e ? { n: Number(e.n), since: String(e.since ?? ''), etag: e.etag } : null;
  }

  /** The number an idempotency key was given, null when it has none yet. */
  async claimed(key: string): Promise<number | null> {
    const e = await readEntity<{ n: number }>(this.table, COUNTER_PARTITION, idemRowKey(this.prefix, key));
    return e ? Number(e.n) : null;
  }

  /**
   * The next number, or the number this idempotency key already got. Retries on 412 with jitter.
   * `withNumber` adds rows of this partition to the same transaction (the new issue's repair marker).
   */
  allocate(now: Date, idempotencyKey?: string, withNumber?: (n: number) => MetaRow[]): Promise<Allocation> {
    const seq = ++this.queued;
    const turn = this.tail.then(async () => {
      if (this.unavailable && seq <= this.unavailable.upTo) throw this.unavailable.err;
      try {
        return await this.allocateNow(now, idempotencyKey, withNumber);
      } catch (err) {
        if (isStorageUnavailable(err)) this.unavailable = { upTo: this.queued, err };
        throw err;
      }
    });
    this.tail = turn.catch(() => {});
    return turn;
  }

  private async allocateNow(
    now: Date,
    idempotencyKey?: string,
    withNumber?: (n: number) => MetaRow[],
  ): Promise<Allocation> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const started = Date.now();
      const current = this.cached ?? (await this.read());
      this.cached = null;
      const n = (current?.n ?? 0) + 1;
      const counter = { partitionKey: COUNTER_PARTITION, rowKey: this.prefix, n };
      const rows: MetaRow[] = withNumber ? withNumber(n) : [];
      if (idempotencyKey) {
        rows.push({
          partitionKey: COUNTER_PARTITION,
          rowKey: idemRowKey(this.prefix, idempotencyKey),
          n,
          at: now.toISOString(),
        });
      }
      try {
        const res = await this.table.submitTransaction([
          current
            ? ['update', counter, 'Merge', { etag: current.etag }]
            : ['create', { ...counter, since: now.toISOString() }],
          ...rows.map((r) => ['create', r] as ['create', MetaRow]),
        ]);
        // Sub-responses come in action order; an update's carries no row key, so take the first.
        const etag = res.subResponses[0]?.etag;
        if (etag) this.cached = { n, etag };
        return { number: n, fresh: true };
      } catch (err) {
        // 409 is either the key row (a retry) or, when creating the counter, a concurrent first report.
        if (isConflict(err) && idempotencyKey) {
          const earlier = await this.claimed(idempotencyKey);
          if (earlier !== null) return { number: earlier, fresh: false };
        }
        if (!isPreconditionFailed(err) && !isConflict(err)) throw err;
      }
      // A stale cache costs one retry without waiting; real contention backs off with jitter.
      if (attempt > 0) await sleep(conflictPauseMs(attempt - 1, Date.now() - started));
    }
    throw new Error(`Could not allocate an issue reference after ${MAX_ATTEMPTS} attempts (contention).`);
  }

  /**
   * Moves the idempotency rows of these numbers (a forgotten person's issues) that an earlier version wrote with
   * the key in the clear to the key's hash: a retry still finds its number, and no row names the chat. One
   * filtered read of the counter's partition per 50 numbers. Returns how many rows were moved.
   */
  async hashLegacyKeys(numbers: readonly number[]): Promise<number> {
    const from = idemPrefix(this.prefix);
    let moved = 0;
    for (let i = 0; i < numbers.length; i += 50) {
      const ns = numbers.slice(i, i + 50).map((n) => odata`n eq ${n}`);
      const rows = this.table.listEntities<{ n: number; at?: string }>({
        queryOptions: { filter: `${odata`PartitionKey eq ${COUNTER_PARTITION} and RowKey gt ${from} and RowKey lt ${`${from}~~`}`} and (${ns.join(' or ')})` },
      });
      for await (const row of rows) {
        const rowKey = String(row.rowKey);
        const key = rowKey.slice(from.length);
        if (!rowKey.startsWith(from) || HASHED.test(key)) continue;
        const hashed = { partitionKey: COUNTER_PARTITION, rowKey: idemRowKey(this.prefix, fromSafeKey(key)), n: Number(row.n), at: String(row.at ?? '') };
        const drop = ['delete', { partitionKey: COUNTER_PARTITION, rowKey }] as const;
        try {
          await this.table.submitTransaction([['upsert', hashed, 'Replace'], [...drop]]);
        } catch (err) {
          if (!isNotFound(err)) throw err; // moved meanwhile (a second forget): nothing left to do
        }
        moved++;
      }
    }
    return moved;
  }

  /** The last number given out (0 before the first): a reference at or below it named an issue once. */
  async issued(): Promise<number> {
    return (await this.read())?.n ?? 0;
  }

  /** When the first reference was allocated (the archive walks back no further), or null if none was. */
  async since(): Promise<string | null> {
    return (await this.read())?.since || null;
  }

  /** For bulk loads: moves the counter to at least `n`, keeping the earliest `since`. */
  async raiseTo(n: number, since: string): Promise<void> {
    this.cached = null;
    await retryOnConflict(
      async () => {
        const current = await this.read();
        if (!current) {
          await this.table.createEntity({ partitionKey: COUNTER_PARTITION, rowKey: this.prefix, n, since });
          return;
        }
        const earliest = current.since && current.since < since ? current.since : since;
        await this.table.updateEntity(
          { partitionKey: COUNTER_PARTITION, rowKey: this.prefix, n: Math.max(n, current.n), since: earliest },
          'Merge',
          { etag: current.etag },
        );
      },
      { attempts: MAX_ATTEMPTS, what: 'Raising the issue counter' },
    );
  }
}
