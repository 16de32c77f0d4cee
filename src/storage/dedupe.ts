import { createHash } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import { isConflict, isNotFound, isPreconditionFailed, safeKey, type Tables } from './tables.js';

/*
 * Table `Dedupe`: PK = 2 hex chars of the key's hash (spreads load), RK = the key.
 * A row marks "already seen" until `expiresAt`; a later claim of an expired key wins it again.
 * Expired rows are deleted by the expiry job (`sweepExpired`), one partition at a time.
 */
const PARTITIONS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export class DedupeStore {
  /** Where the last sweep stopped, so the next one goes on from there. */
  private sweepCursor = 0;

  private constructor(
    private readonly table: TableClient,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  static async open(tables: Tables, clock: Clock, ttlMs = 24 * 3600_000): Promise<DedupeStore> {
    return new DedupeStore(await tables.table('Dedupe'), clock, ttlMs);
  }

  readonly name = 'dedupe';

  /** True the first time `key` is claimed within the TTL; false for a repeat (e.g. Teams' retry). */
  async claim(key: string): Promise<boolean> {
    const { partitionKey, rowKey } = keysOf(key);
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.ttlMs).toISOString();
    // Two rounds at most: an expired row may be swept away between our read and our update.
    for (let round = 0; round < 2; round++) {
      try {
        await this.table.createEntity({ partitionKey, rowKey, expiresAt });
        return true;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
      let existing: { expiresAt: string; etag: string };
      try {
        existing = await this.table.getEntity<{ expiresAt: string }>(partitionKey, rowKey);
      } catch (err) {
        if (isNotFound(err)) continue; // swept just now: create it
        throw err;
      }
      if (new Date(existing.expiresAt) > now) return false;
      try {
        await this.table.updateEntity({ partitionKey, rowKey, expiresAt }, 'Replace', { etag: existing.etag });
        return true;
      } catch (err) {
        if (isPreconditionFailed(err)) return false; // someone else re-claimed it first
        if (!isNotFound(err)) throw err;
      }
    }
    return false;
  }

  /** Gives a claim back (its work failed), so a retry of the same activity is handled rather than dropped. */
  async release(key: string): Promise<void> {
    const { partitionKey, rowKey } = keysOf(key);
    await this.table.deleteEntity(partitionKey, rowKey).catch(() => {});
  }

  /**
   * Deletes up to `limit` claims that expired before `now`, partition by partition from where the last
   * sweep stopped. Each delete is conditional on the row's ETag, so a key re-claimed meanwhile stays.
   */
  async sweepExpired(now: Date, limit: number): Promise<number> {
    let deleted = 0;
    for (let visited = 0; visited < PARTITIONS.length && deleted < limit; visited++) {
      const pk = PARTITIONS[this.sweepCursor]!;
      const rows = this.table.listEntities<{ expiresAt: string }>({
        queryOptions: {
          filter: odata`PartitionKey eq ${pk} and expiresAt lt ${now.toISOString()}`,
          select: ['RowKey', 'expiresAt'],
        },
      });
      let more = false;
      for await (const row of rows) {
        if (deleted >= limit) {
          more = true;
          break;
        }
        try {
          await this.table.deleteEntity(pk, row.rowKey!, { etag: row.etag });
          deleted++;
        } catch (err) {
          if (!isPreconditionFailed(err) && !isNotFound(err)) throw err;
        }
      }
      if (!more) this.sweepCursor = (this.sweepCursor + 1) % PARTITIONS.length;
    }
    return deleted;
  }
}

function keysOf(key: string): { partitionKey: string; rowKey: string } {
  return {
    partitionKey: createHash('sha1').update(key).digest('hex').slice(0, 2),
    rowKey: safeKey(key).slice(0, 512),
  };
}
