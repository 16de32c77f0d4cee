import type { TableClient, TableEntityResult } from '@azure/data-tables';
import { isConflict, isNotFound, isPreconditionFailed, isStorableKey } from './tables.js';

/** The store helpers every table-backed store shares: point reads, ETag retry loops, JSON columns. */

/**
 * A point read that answers undefined for a missing row (other errors are thrown). A key Table storage cannot
 * hold (ids from card data are written by the client) names no row: undefined, without asking (storage would
 * answer 400).
 */
export async function readEntity<T extends object>(
  table: TableClient,
  partitionKey: string,
  rowKey: string,
): Promise<TableEntityResult<T> | undefined> {
  if (!isStorableKey(partitionKey) || !isStorableKey(rowKey)) return undefined;
  try {
    return await table.getEntity<T>(partitionKey, rowKey);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * An update guarded by the ETag the caller read: the new ETag, or undefined when someone wrote the row since
 * (412: re-read and decide again). Other errors are thrown.
 */
export async function updateIfUnchanged(
  table: TableClient,
  entity: { partitionKey: string; rowKey: string } & Record<string, unknown>,
  mode: 'Merge' | 'Replace',
  etag: string,
): Promise<string | undefined> {
  try {
    return (await table.updateEntity(entity, mode, { etag })).etag ?? '';
  } catch (err) {
    if (isPreconditionFailed(err)) return undefined;
    throw err;
  }
}

/** A single JSON value stored in one string column (for small values; larger ones go over several: putChunks). */
export function toJsonColumn(value: unknown): string {
  return JSON.stringify(value);
}

export function fromJsonColumn<T>(value: unknown, fallback: T): T {
  if (typeof value !== 'string' || !value) return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

/** Azure caps a string property at 64 KiB (32K UTF-16 units): long JSON is split over numbered properties. */
const CHUNK = 30_000;

/** `value` as JSON in `target`'s columns `<name>0`, `<name>1`… and `<name>Parts`; its length in characters. */
export function putChunks(target: Record<string, string | number>, name: string, value: unknown): number {
  const json = JSON.stringify(value);
  let parts = 0;
  for (let i = 0; i < json.length || parts === 0; i += CHUNK) {
    target[`${name}${parts}`] = json.slice(i, i + CHUNK);
    parts++;
  }
  target[`${name}Parts`] = parts;
  return json.length;
}

/** What putChunks stored under `name`; `fallback` when nothing is (bad JSON throws). */
export function getChunks<T>(source: Record<string, unknown>, name: string, fallback: T): T {
  const parts = Number(source[`${name}Parts`] ?? 0);
  if (!parts) return fallback;
  let json = '';
  for (let i = 0; i < parts; i++) json += String(source[`${name}${i}`] ?? '');
  return JSON.parse(json) as T;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs an optimistic read-modify-write until it lands: `attempt` reads, decides and writes with the ETag it
 * read; a 412 (someone wrote first) or a 409 (someone created first) runs it again after a short jittered
 * pause. `attempt` returns its result, or throws to stop.
 */
export async function retryOnConflict<T>(
  attempt: (n: number) => Promise<T>,
  opts: { attempts?: number; what?: string } = {},
): Promise<T> {
  const max = opts.attempts ?? 12;
  for (let n = 0; ; n++) {
    const started = Date.now();
    try {
      return await attempt(n);
    } catch (err) {
      if (!(isPreconditionFailed(err) || isConflict(err))) throw err;
      if (n + 1 >= max) {
        throw new Error(`${opts.what ?? 'A change'} kept conflicting with other writers; try again.`, { cause: err });
      }
      await sleep(conflictPauseMs(n, Date.now() - started));
    }
  }
}

/**
 * How long to wait before try `n + 1` of a change that lost to another writer, when a try took `tookMs`: random
 * (so two writers part), over a span that grows with the tries and with the time a try takes. Spans shorter than
 * a try (slow storage, a loaded machine) leave two writers meeting again at every retry until both give up.
 */
export function conflictPauseMs(n: number, tookMs: number): number {
  // At most 1 s a pause: these retries run inside users' turns, which Teams ends at about 15 s.
  return Math.random() * Math.min(1_000, Math.max(5, tookMs) * 2 ** Math.min(n, 3));
}
