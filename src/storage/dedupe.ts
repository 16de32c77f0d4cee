import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import { isConflict, isPreconditionFailed, safeKey, type Tables } from './tables.js';

/*
 * Table `Dedupe`: PK = 2 hex chars of the key's hash (spreads load), RK = the key.
 * A row marks "already seen" until `expiresAt`; a later claim of an expired key wins it again.
 */
export class DedupeStore {
  private constructor(
    private readonly table: TableClient,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  static async open(tables: Tables, clock: Clock, ttlMs = 24 * 3600_000): Promise<DedupeStore> {
    return new DedupeStore(await tables.table('Dedupe'), clock, ttlMs);
  }

  /** True the first time `key` is claimed within the TTL; false for a repeat (e.g. Teams' retry). */
  async claim(key: string): Promise<boolean> {
    const { partitionKey, rowKey } = keysOf(key);
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.ttlMs).toISOString();
    try {
      await this.table.createEntity({ partitionKey, rowKey, expiresAt });
      return true;
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
    const existing = await this.table.getEntity<{ expiresAt: string }>(partitionKey, rowKey);
    if (new Date(existing.expiresAt) > now) return false;
    try {
      await this.table.updateEntity({ partitionKey, rowKey, expiresAt }, 'Replace', { etag: existing.etag });
      return true;
    } catch (err) {
      if (isPreconditionFailed(err)) return false; // someone else re-claimed it first
      throw err;
    }
  }

  /** Gives a claim back (its work failed), so a retry of the same activity is handled rather than dropped. */
  async release(key: string): Promise<void> {
    const { partitionKey, rowKey } = keysOf(key);
    await this.table.deleteEntity(partitionKey, rowKey).catch(() => {});
  }
}

function keysOf(key: string): { partitionKey: string; rowKey: string } {
  return {
    partitionKey: createHash('sha1').update(key).digest('hex').slice(0, 2),
    rowKey: safeKey(key).slice(0, 512),
  };
}
