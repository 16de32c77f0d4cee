import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { odata, type TableClient } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import { isConflict, isNotFound, isPreconditionFailed, type Tables } from './tables.js';
import { mentionsAny } from '../text/mentions.js';

/*
 * Table `Dedupe`: PK = 2 hex chars of the key's hash (spreads load), RK = the key's SHA-256 (no chat id kept).
 * A row marks "already seen" until `expiresAt`; a later claim of an expired key wins it again.
 * Expired rows are deleted by the expiry job (`sweepExpired`), a bounded number a run.
 * What the first handling answered, so a retry of the same activity gets the same answer: `resultText`
 * (JSON, when it fits a string property: 32K UTF-16 characters) or else `result` (gzipped JSON, Edm.Binary, up
 * to RESULT_MAX_BYTES: a property holds at most 64 KiB). Most answers are cards of a few KB: stored as text,
 * no compression on the turn's path.
 * A saved answer may hold what its person wrote or their name, so the row names whose activity it answered:
 * `owner0` / `owner1`, hashes of that person's ids (Entra and Teams id), written with the answer in the same
 * update (an index row per owner cost two more writes on every card action). `forget` finds them with a
 * filtered read of the table, which holds a day of answers and is read a few times a year; `forgetOwner`
 * replaces their answers with the `placeholder` saved with them (a plain "already handled"), keeping the
 * claim so a retry is still not handled twice.
 */
export const RESULT_MAX_BYTES = 60_000;
const RESULT_TEXT_MAX_CHARS = 32_000;

interface DedupeRow {
  expiresAt: string;
  resultText?: string;
  result?: Uint8Array;
  /** What a retry gets instead once the owner is forgotten (JSON, short, nothing personal). */
  placeholderText?: string;
  /** Hashes of the ids of the person whose activity this answered (see `ownerHash`). */
  owner0?: string;
  owner1?: string;
}

/** At most this many owner ids per saved answer (the person's Entra id and Teams id). */
const OWNERS_MAX = 2;
const PLACEHOLDER_MAX_CHARS = 1_000;

/** A claim: the first for its key, or a repeat with what the first one answered (once it is known). */
export type Claim = { first: true } | { first: false; result?: unknown };

export class DedupeStore {
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
  async saveResult(key: string, result: unknown, opts: { owners?: readonly (string | undefined)[]; placeholder?: unknown } = {}): Promise<boolean> {
    const json = JSON.stringify(result);
    let saved: { resultText: string } | { result: Uint8Array };
    if (json.length <= RESULT_TEXT_MAX_CHARS) saved = { resultText: json };
    else {
      const bytes = gzipSync(json);
      if (bytes.length > RESULT_MAX_BYTES) return false;
      saved = { result: new Uint8Array(bytes) };
    }
    const placeholderText = opts.placeholder === undefined ? undefined : JSON.stringify(opts.placeholder);
    const { partitionKey, rowKey } = keysOf(key);
    try {
      const [owner0, owner1] = [...new Set((opts.owners ?? []).flatMap((o) => (o ? [ownerHash(o)] : [])))].slice(0, OWNERS_MAX);
      const owners = { ...(owner0 ? { owner0 } : {}), ...(owner1 ? { owner1 } : {}) };
      const placeholder = placeholderText && placeholderText.length <= PLACEHOLDER_MAX_CHARS ? { placeholderText } : {};
      await this.table.updateEntity({ partitionKey, rowKey, ...saved, ...placeholder, ...owners }, 'Merge');
      return true;
    } catch (err) {
      if (isNotFound(err)) return false; // the claim was given back meanwhile
      throw err;
    }
  }

  /** The answers kept for a person (any of their ids), still holding what was answered. */
  async ownedBy(ids: readonly string[]): Promise<{ key: string; expiresAt: string }[]> {
    const found: { key: string; expiresAt: string }[] = [];
    for await (const row of this.rowsOwnedBy(ids)) found.push({ key: `${row.partitionKey}|${row.rowKey}`, expiresAt: row.expiresAt });
    return found;
  }

  /**
   * Replaces every answer kept for the person (any of their ids) with its placeholder, keeping each claim (the
   * placeholder row names no owner). `naming`: also any other kept answer that names them (a champion's card
   * about their question), found in the same read of the table. Idempotent. Returns how many of the person's
   * own answers it replaced.
   */
  async forgetOwner(ids: readonly string[], opts: { naming?: readonly string[] } = {}): Promise<number> {
    const hashes = new Set(ids.filter((id) => id.trim()).map(ownerHash));
    const naming = opts.naming?.filter((n) => n.trim()) ?? [];
    const rows = naming.length ? this.table.listEntities<DedupeRow>() : this.rowsOwnedBy(ids);
    let replaced = 0;
    for await (const row of rows) {
      const own = (row.owner0 !== undefined && hashes.has(row.owner0)) || (row.owner1 !== undefined && hashes.has(row.owner1));
      if (!own && !mentionsAny(JSON.stringify(decode(row) ?? ''), naming)) continue;
      if ((await this.scrubRow(String(row.partitionKey), String(row.rowKey))) && own) replaced++;
    }
    return replaced;
  }

  /** Rows whose saved answer answered the person: a filtered read of the whole table (forget only). */
  private rowsOwnedBy(ids: readonly string[]): AsyncIterable<DedupeRow & { partitionKey?: string; rowKey?: string }> {
    const hashes = [...new Set(ids.filter((id) => id.trim()).map(ownerHash))];
    if (!hashes.length) return (async function* () {})();
    const filter = hashes.map((h) => odata`owner0 eq ${h} or owner1 eq ${h}`).join(' or ');
    return this.table.listEntities<DedupeRow>({ queryOptions: { filter } });
  }

  /** Drops a key's saved answer for its placeholder (ETag-guarded: a claim re-taken meanwhile is read again). */
  private async scrub(key: string): Promise<boolean> {
    const { partitionKey, rowKey } = keysOf(key);
    return this.scrubRow(partitionKey, rowKey);
  }

  private async scrubRow(partitionKey: string, rowKey: string): Promise<boolean> {
    for (let round = 0; round < 3; round++) {
      let row: DedupeRow & { etag: string };
      try {
        row = await this.table.getEntity<DedupeRow>(partitionKey, rowKey);
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
      if ((!row.resultText && !row.result?.length) || (row.placeholderText && row.resultText === row.placeholderText)) return false;
      const placeholder = row.placeholderText ? { resultText: row.placeholderText, placeholderText: row.placeholderText } : {};
      try {
        await this.table.updateEntity({ partitionKey, rowKey, expiresAt: row.expiresAt, ...placeholder }, 'Replace', { etag: row.etag });
        return true;
      } catch (err) {
        if (!isPreconditionFailed(err) && !isNotFound(err)) throw err;
      }
    }
    return false;
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
   * Deletes up to `limit` claims that expired before `now`, found by one query across the table. Each delete is
   * conditional on the row's ETag, so a key re-claimed meanwhile stays. What is left over is still expired
   * next run, so no cursor is kept; one query per partition made 256 round trips a run even with nothing
   * to delete.
   */
  async sweepExpired(now: Date, limit: number): Promise<number> {
    let deleted = 0;
    const rows = this.table.listEntities<{ expiresAt: string }>({
      queryOptions: { filter: odata`expiresAt lt ${now.toISOString()}`, select: ['PartitionKey', 'RowKey', 'expiresAt'] },
    });
    for await (const row of rows) {
      if (deleted >= limit) break;
      try {
        await this.table.deleteEntity(row.partitionKey!, row.rowKey!, { etag: row.etag });
        deleted++;
      } catch (err) {
        if (!isPreconditionFailed(err) && !isNotFound(err)) throw err;
      }
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

/** A person's id, as a saved answer's owner: hashed (the table keeps no ids), case-insensitive like Entra ids. */
function ownerHash(id: string): string {
  return createHash('sha256').update(id.trim().toLowerCase()).digest('hex').slice(0, 32);
}

/**
 * The row of a key: a hash, not the key itself, which holds a chat's id (`<conversation id>|<activity id>`,
 * `welcome|<conversation id>`) — that reaches the person, and would stay for a day after `forget`.
 */
function keysOf(key: string): { partitionKey: string; rowKey: string } {
  return {
    partitionKey: createHash('sha1').update(key).digest('hex').slice(0, 2),
    rowKey: createHash('sha256').update(key).digest('hex'),
  };
}
