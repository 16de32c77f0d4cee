import { mkdir, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { DurableLog, readJsonLines, syncDir } from './durable-file.js';
import { KeyLocks } from './key-locks.js';

/*
 * The write journal of embedded storage. Azurite keeps tables in memory (LokiJS) and writes them to disk
 * only every 5 s, so a killed Azurite forgets the writes of its last seconds. Every table write that
 * succeeded is appended here, on disk, before the caller hears back; on start and after a restart of
 * Azurite the recent records are written again (replay.ts), and records are dropped once Azurite has
 * certainly saved them (embedded.ts).
 *
 * Records are normalised to set-operations (put with Merge or Replace, delete), which replay without
 * conditions: see replay.ts for why that converges. Files are segments named by their first sequence
 * number; whole segments are deleted when trimmed.
 */

export type EncodedValue = string | number | boolean | null | { value: string | number | boolean; type: string };
export type EncodedEntity = { partitionKey: string; rowKey: string } & Record<string, EncodedValue>;

export type PutOp = { k: 'put'; mode: 'Merge' | 'Replace'; e: EncodedEntity };
export type DeleteOp = { k: 'del'; pk: string; rk: string };
export type JournalOp = { k: 'table' } | PutOp | DeleteOp | { k: 'tx'; ops: (PutOp | DeleteOp)[] };

export interface JournalRecord {
  /** Sequence number: the order writes were answered in. */
  s: number;
  /** Table name (with its prefix). */
  t: string;
  o: JournalOp;
}

/** Start a new segment after this many bytes (the supervisor also starts one at each look), so trimming can drop whole files. */
const SEGMENT_BYTES = 256 * 1024;
const NAME = /^(\d{16})\.jsonl$/;

const segmentName = (firstSeq: number) => `${String(firstSeq).padStart(16, '0')}.jsonl`;

export class TableJournal {
  /** One per journal, so every client writing through it orders writes to an entity the same way. */
  readonly locks = new KeyLocks();
  private seq: number;
  private log: DurableLog;
  private segmentStart: number;
  /** Segments closed for writing, by first sequence number. */
  private readonly closed: number[];
  private rotating: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    seq: number,
    log: DurableLog,
    closed: number[],
  ) {
    this.seq = seq;
    this.log = log;
    this.segmentStart = seq + 1;
    this.closed = closed;
  }

  static async open(dir: string): Promise<TableJournal> {
    await mkdir(dir, { recursive: true });
    const firsts = await segments(dir);
    let last = 0;
    for (const first of firsts) {
      last = Math.max(last, first - 1);
      for (const r of (await readJsonLines(path.join(dir, segmentName(first)))) as JournalRecord[]) {
        last = Math.max(last, r.s);
      }
    }
    // Never append to a file a crash may have torn: each opening starts a segment of its own.
    const log = await DurableLog.open(path.join(dir, segmentName(last + 1)));
    return new TableJournal(dir, last, log, firsts.filter((f) => f !== last + 1));
  }

  /** The sequence number of the last write answered (journaled or being journaled). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Appends one write; resolves once it is on disk. Records land in the order of the calls. */
  async append(table: string, op: JournalOp): Promise<void> {
    while (this.rotating) await this.rotating;
    const record: JournalRecord = { s: ++this.seq, t: table, o: op };
    const written = this.log.append([record]);
    if (this.log.size >= SEGMENT_BYTES) {
      this.rotating ??= this.rotate().finally(() => (this.rotating = undefined));
    }
    await written;
  }

  /** Every record not yet trimmed, in order. Waits for appends in flight. */
  async records(): Promise<JournalRecord[]> {
    while (this.rotating) await this.rotating;
    await this.log.idle();
    const out: JournalRecord[] = [];
    for (const first of [...this.closed, this.segmentStart]) {
      out.push(...((await readJsonLines(path.join(this.dir, segmentName(first)))) as JournalRecord[]));
    }
    return out.filter((r) => r && typeof r.s === 'number').sort((a, b) => a.s - b.s);
  }

  /** Deletes the closed segments whose records all have sequence numbers ≤ `seq`; returns how many. */
  async trimThrough(seq: number): Promise<number> {
    let dropped = 0;
    while (this.closed.length) {
      const next = this.closed[1] ?? this.segmentStart;
      if (next - 1 > seq) break;
      const first = this.closed.shift()!;
      await unlink(path.join(this.dir, segmentName(first))).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      dropped++;
    }
    if (dropped) await syncDir(this.dir);
    return dropped;
  }

  /** Segment files on disk (closed and current), for tests and tools. */
  get segmentCount(): number {
    return this.closed.length + 1;
  }

  /** Starts a new segment if the current one holds any record (so they can be trimmed); appends wait for it. */
  async rotateIfUsed(): Promise<void> {
    if (this.log.size > 0) {
      this.rotating ??= this.rotate().finally(() => (this.rotating = undefined));
    }
    await this.rotating;
  }

  private async rotate(): Promise<void> {
    const old = this.log;
    // Appends already queued on the old file finish there; they all have lower numbers than the new file's.
    await old.close();
    const first = this.seq + 1;
    this.log = await DurableLog.open(path.join(this.dir, segmentName(first)));
    this.closed.push(this.segmentStart);
    this.segmentStart = first;
  }

  async close(): Promise<void> {
    if (this.rotating) await this.rotating;
    await this.log.close();
  }
}

async function segments(dir: string): Promise<number[]> {
  return (await readdir(dir))
    .map((n) => NAME.exec(n)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}
