import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { odata, type TableClient } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import { isConflict, isNotFound, isPreconditionFailed, safeKey, type Tables } from './tables.js';

/*
 * Table `Dedupe`: PK = 2 hex chars of the key's hash (spreads load), RK = the key.
 * A row marks "already seen" until `expiresAt`; a later claim of an expired key wins it again.
 * Expired rows are deleted by the expiry job (`sweepExpired`), one partition at a time.
 * What the first handling answered, so a retry of the same activity gets the same answer: `resultText`
 * (JSON, when it fits a string property: 32K UTF-16 characters) or else `result` (gzipped JSON, Edm.Binary, up
 * to RESULT_MAX_BYTES: a property holds at most 64 KiB). Most answers are cards of a few KB: stored as text,
 * no compression on the turn's path.
 */
export const RESULT_MAX_BYTES = 60_000;
const RESULT_TEXT_MAX_CHARS = 32_000;

interface DedupeRow {
  expiresAt: string;
  resultText?: string;
  result?: Uint8Array;
}

/** A claim: the first for its key, or a repeat with what the first one answered (once it is known). */
export type Claim = { first: true } | { first: false; result?: unknown };

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
    return (await this.claimWithResult(key)).first;
  }

  /** As `claim`, and a repeat comes with the result saved by the first claimant (if saved yet). */
  async claimWithResult(key: string): Promise<Claim> {
    const { partitionKey, rowKey } = keysOf(key);
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.ttlMs).toISOString();
    // Two rounds at most: an expired row may be swept away between our read and our update.
    for (let round = 0; round < 2; round++) {
      try {
        await this.table.createEntity({ partitionKey, rowKey, expiresAt });
        return { first: true };
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
      let existing: DedupeRow & { etag: string };
      try {
        existing = await this.table.getEntity<DedupeRow>(partitionKey, rowKey);
      } catch (err) {
        if (isNotFound(err)) continue; // swept (or released) just now: create it
        throw err;
      }
      if (new Date(existing.expiresAt) > now) return { first: false, result: decode(existing) };
      try {
        await this.table.updateEntity({ partitionKey, rowKey, expiresAt }, 'Replace', { etag: existing.etag });
        return { first: true };
      } catch (err) {
        if (isPreconditionFailed(err)) return { first: false }; // someone else re-claimed it first
        if (!isNotFound(err)) throw err;
      }
    }
    return { first: false };
  }

  /**
   * Keeps what handling the key produced, for its repeats. A result too large to keep is not kept (a repeat
   * then gets no saved answer); returns whether it was kept.
   */
  async saveResult(key: string, result: unknown): Promise<boolean> {
    const json = JSON.stringify(result);
    let saved: { resultText: string } | { result: Uint8Array };
    if (json.length <= RESULT_TEXT_MAX_CHARS) saved = { resultText: json };
    else {
      const bytes = gzipSync(json);
      if (bytes.length > RESULT_MAX_BYTES) return false;
      saved = { result: new Uint8Array(bytes) };
    }
    const { partitionKey, rowKey } = keysOf(key);
    try {
      await this.table.updateEntity({ partitionKey, rowKey, ...saved }, 'Merge');
      return true;
    } catch (err) {
      if (isNotFound(err)) return false; // the claim was given back meanwhile
      throw err;
    }
  }

  /** The saved result of a claimed key: `pending` while not saved yet, `released` when the claim was given back. */
  async result(key: string): Promise<{ state: 'saved'; result: unknown } | { state: 'pending' | 'released' }> {
    const { partitionKey, rowKey } = keysOf(key);
    try {
      const row = await this.table.getEntity<DedupeRow>(partitionKey, rowKey);
      const result = decode(row);
      return result === undefined ? { state: 'pending' } : { state: 'saved', result };
    } catch (err) {
      if (isNotFound(err)) return { state: 'released' };
      throw err;
    }
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

function decode(row: DedupeRow): unknown {
  try {
    if (row.resultText) return JSON.parse(row.resultText) as unknown;
    if (row.result?.length) return JSON.parse(gunzipSync(row.result).toString('utf8')) as unknown;
  } catch {
    // a damaged saved answer is as good as none
  }
  return undefined;
}

function keysOf(key: string): { partitionKey: string; rowKey: string } {
  return {
    partitionKey: createHash('sha1').update(key).digest('hex').slice(0, 2),
    rowKey: safeKey(key).slice(0, 512),
  };
}
