import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DurableLog, readJsonLines, replaceFileDurably } from './durable-file.js';

/*
 * A disk outbox for work that must not be lost while storage is down (an issue report, a booking): the
 * user hears "saved, it will be filed in a moment" once the item is on disk, and `drain` hands it to the
 * real store when storage is back.
 *
 * One file of JSON lines: `{"add":{key,item,at}}` when an item is kept, `{"done":key}` once its handler
 * succeeded, `{"replace":{key,item,at}}` when a pending item was rewritten (`forget` anonymising it). A crash at any point loses no item that `add` confirmed: a torn last line is cut off on
 * opening; an item whose handler succeeded but whose "done" line was not yet written is handled again, so
 * the handler must be idempotent by key (e.g. the request id). When nothing is pending, or before
 * the file would outgrow its limit, it is rewritten with only the pending items (write, sync, rename).
 * One process uses one outbox file.
 */

export class OutboxFullError extends Error {
  override readonly name = 'OutboxFullError';
}

export interface OutboxEntry<T> {
  key: string;
  item: T;
  /** When it was kept (ISO). */
  at: string;
}

export interface DrainResult {
  handled: number;
  /** The first item whose handler failed; it and those after it stay pending, in order. */
  failed?: { key: string; error: unknown };
}

type Line<T> = { add: OutboxEntry<T> } | { done: string } | { replace: OutboxEntry<T> };

export class DiskOutbox<T> {
  private readonly pending = new Map<string, OutboxEntry<T>>();
  private compacting: Promise<void> | undefined;
  private draining: Promise<DrainResult> | undefined;
  /** The item a drain's handler is working on, and its handling. */
  private inFlight: { key: string; handling: Promise<void> } | undefined;
  /** "done" lines in the file: worth a rewrite. */
  private doneLines = 0;

  private constructor(
    readonly file: string,
    private log: DurableLog,
    private readonly maxBytes: number,
  ) {}

  /** Opens the outbox at `file` (created if missing), with what a previous run left pending. */
  static async open<T>(file: string, opts: { maxBytes?: number } = {}): Promise<DiskOutbox<T>> {
    await mkdir(path.dirname(file), { recursive: true });
    const lines = (await readJsonLines(file)) as Line<T>[];
    const outbox = new DiskOutbox<T>(file, await DurableLog.open(file), opts.maxBytes ?? 8 * 1024 * 1024);
    for (const line of lines) {
      if ('add' in line) {
        if (!outbox.pending.has(line.add.key)) outbox.pending.set(line.add.key, line.add);
      } else if ('done' in line) {
        outbox.pending.delete(line.done);
        outbox.doneLines++;
      } else if ('replace' in line) {
        // Only a still-pending item is rewritten (Map.set keeps its place in the order).
        if (outbox.pending.has(line.replace.key)) outbox.pending.set(line.replace.key, line.replace);
        outbox.doneLines++;
      }
    }
    if (outbox.doneLines) await outbox.compact();
    return outbox;
  }

  /** Items kept and not yet handled, oldest first. */
  list(): OutboxEntry<T>[] {
    return [...this.pending.values()];
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Keeps `item` on disk; resolves once it is there. False if an item with this key is already pending
   * (a retried request). Throws `OutboxFullError` when the file would exceed its limit.
   */
  async add(key: string, item: T, at = new Date()): Promise<boolean> {
    const entry: OutboxEntry<T> = { key, item, at: at.toISOString() };
    const bytes = Buffer.byteLength(JSON.stringify({ add: entry })) + 1;
    for (;;) {
      while (this.compacting) await this.compacting;
      if (this.pending.has(key)) return false;
      if (this.log.size + bytes <= this.maxBytes) break;
      if (!this.doneLines) {
        throw new OutboxFullError(
          `the outbox is full (${this.pending.size} items waiting, limit ${this.maxBytes} bytes): storage has been unavailable too long`,
        );
      }
      await this.compactNow();
    }
    // No await between the checks above and the append: a rewrite cannot start in between.
    this.pending.set(key, entry);
    try {
      await this.log.append([{ add: entry }]);
    } catch (err) {
      this.pending.delete(key);
      throw err;
    }
    return true;
  }

  /**
   * Takes a pending item out unhandled (`forget` of the person it names): a "done" line, as if handled. False
   * when it is not pending. An item a drain is handling right now is handled all the same.
   */
  async remove(key: string): Promise<boolean> {
    while (this.compacting) await this.compacting;
    if (!this.pending.has(key)) return false;
    await this.log.append([{ done: key }]);
    this.doneLines++;
    this.pending.delete(key);
    return true;
  }

  /**
   * Rewrites a pending item in place, under the same key and in the same place in the order (`forget` anonymising
   * it): one line, so a crash leaves either the old item or the new. False when it is not pending. An item a drain
   * is handling right now is handled as it was.
   */
  async replace(key: string, item: T): Promise<boolean> {
    while (this.compacting) await this.compacting;
    const old = this.pending.get(key);
    if (!old) return false;
    const entry: OutboxEntry<T> = { key, item, at: old.at };
    await this.log.append([{ replace: entry }]);
    this.doneLines++;
    if (this.pending.has(key)) this.pending.set(key, entry);
    // The old item is rewritten out of the file now, not at some later rewrite: it may name the person.
    await this.compactNow();
    return true;
  }

  /** Resolves once a drain's handling of `key`, if one is under way, has ended (well or not). */
  async handled(key: string): Promise<void> {
    if (this.inFlight?.key === key) await this.inFlight.handling.catch(() => {});
  }

  /**
   * Hands pending items to `handler` in order (with when each was kept), each removed once its handler succeeded; stops at the first
   * failure (it stays first). Items added meanwhile are handled too. One drain runs at a time.
   */
  drain(handler: (item: T, key: string, entry: OutboxEntry<T>) => Promise<void>): Promise<DrainResult> {
    this.draining ??= this.drainAll(handler).finally(() => (this.draining = undefined));
    return this.draining;
  }

  private async drainAll(handler: (item: T, key: string, entry: OutboxEntry<T>) => Promise<void>): Promise<DrainResult> {
    let handled = 0;
    for (;;) {
      const next = this.pending.values().next();
      if (next.done) break;
      const entry = next.value;
      const handling = handler(entry.item, entry.key, entry);
      this.inFlight = { key: entry.key, handling };
      try {
        await handling;
      } catch (error) {
        return { handled, failed: { key: entry.key, error } };
      } finally {
        this.inFlight = undefined;
      }
      while (this.compacting) await this.compacting;
      await this.log.append([{ done: entry.key }]);
      this.doneLines++;
      this.pending.delete(entry.key);
      handled++;
    }
    if (this.doneLines) await this.compactNow();
    return { handled };
  }

  private compactNow(): Promise<void> {
    this.compacting ??= this.compact().finally(() => (this.compacting = undefined));
    return this.compacting;
  }

  /** Rewrites the file with only the pending items. */
  private async compact(): Promise<void> {
    await this.log.close();
    const content = this.list()
      .map((add) => `${JSON.stringify({ add })}\n`)
      .join('');
    await replaceFileDurably(this.file, content);
    this.log = await DurableLog.open(this.file);
    this.doneLines = 0;
  }

  async close(): Promise<void> {
    await this.draining?.catch(() => {});
    while (this.compacting) await this.compacting;
    await this.log.close();
  }
}
