import { type FileHandle, open, readFile, rename, truncate } from 'node:fs/promises';
import path from 'node:path';

/*
 * Files that survive a crash at any point: JSON lines appended and synced before the caller hears back,
 * a torn last line (a crash mid-append) cut off when the file is opened again, and whole-file
 * replacement by write-sync-rename. Used by the storage journal and the disk outbox.
 */

/** An append-only file of JSON lines. `append` resolves once the lines are on disk (fdatasync). */
export class DurableLog {
  private queue: { buf: Buffer; resolve: () => void; reject: (err: Error) => void }[] = [];
  private flushing: Promise<void> | undefined;
  private broken: Error | undefined;

  private constructor(
    readonly file: string,
    private readonly fh: FileHandle,
    private bytes: number,
  ) {}

  /** Opens (or creates) `file` for appending, after cutting off a torn tail. */
  static async open(file: string): Promise<DurableLog> {
    await repairTail(file);
    const fh = await open(file, 'a');
    const { size } = await fh.stat();
    if (size === 0) await syncDir(path.dirname(file)); // a new file's name must survive a crash too
    return new DurableLog(file, fh, size);
  }

  /** Bytes in the file, counting appends not yet synced. */
  get size(): number {
    return this.bytes + this.queue.reduce((n, q) => n + q.buf.length, 0);
  }

  /**
   * Appends one JSON line per value. Appends made while a sync is running share the next write and sync
   * (group commit), and land in call order.
   */
  append(values: unknown[]): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    const buf = Buffer.from(values.map((v) => `${JSON.stringify(v)}\n`).join(''));
    return new Promise((resolve, reject) => {
      this.queue.push({ buf, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /** Resolves when every append made so far is on disk (or has failed). */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0);
      try {
        if (this.broken) throw this.broken;
        const buf = Buffer.concat(batch.map((b) => b.buf));
        for (let off = 0; off < buf.length; ) off += (await this.fh.write(buf, off)).bytesWritten;
        await this.fh.datasync();
        this.bytes += buf.length;
        for (const b of batch) b.resolve();
      } catch (err) {
        // A failed write may have left part of a line: nothing more may follow it until the file is reopened.
        this.broken ??= new Error(`cannot write ${this.file}: ${(err as Error).message}`, { cause: err });
        for (const b of batch) b.reject(this.broken);
      }
    }
    this.flushing = undefined;
  }

  async close(): Promise<void> {
    await this.idle();
    await this.fh.close();
  }
}

/** The JSON values of a file of lines, in order; a torn or unreadable line and all after it are left out. */
export async function readJsonLines(file: string): Promise<unknown[]> {
  return (await readGoodLines(file)).values;
}

async function readGoodLines(file: string): Promise<{ values: unknown[]; goodBytes: number; size: number }> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { values: [], goodBytes: 0, size: 0 };
    throw err;
  }
  const values: unknown[] = [];
  let start = 0;
  while (start < buf.length) {
    const end = buf.indexOf(0x0a, start);
    if (end < 0) break; // no newline: a torn append
    try {
      values.push(JSON.parse(buf.subarray(start, end).toString('utf8')));
    } catch {
      break; // garbage after a crash: nothing after it was ever confirmed
    }
    start = end + 1;
  }
  return { values, goodBytes: start, size: buf.length };
}

/** Cuts a file back to its last whole, readable line (what a crash mid-append leaves). */
export async function repairTail(file: string): Promise<void> {
  const { goodBytes, size } = await readGoodLines(file);
  if (goodBytes < size) await truncate(file, goodBytes);
}

/** Replaces `file` with `content` so that a crash leaves either the old or the new file, whole. */
export async function replaceFileDurably(file: string, content: string): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await syncDir(path.dirname(file));
}

/** Flushes a file (e.g. one written by another process) or a directory's entries to disk. */
async function syncPath(p: string): Promise<void> {
  const fh = await open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Makes a directory's entries (created, renamed, removed files) survive a power loss. */
export const syncDir = (dir: string) => syncPath(dir);
/** Flushes a file written by another process (Azurite's database) to disk. */
export const syncFile = (file: string) => syncPath(file);
