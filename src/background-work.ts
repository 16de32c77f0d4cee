import type { TableClient } from '@azure/data-tables';
import type { Clock } from './clock.js';
import { readEntity, updateIfUnchanged } from './storage/entities.js';
import { isNotFound } from './storage/tables.js';

/**
 * Work a feature starts after the user's turn (not awaited by it), tracked so tests and shutdown can wait for it.
 * The durable jobs (`forget`, `my data`, large figure imports) keep their state in Tables; this only holds what
 * runs in this process.
 */
export class BackgroundWork {
  private readonly running = new Set<Promise<unknown>>();
  /** Set by `stop`: a job checks it between steps and leaves the rest to another instance. */
  stopping = false;
  /** Told when `stop` is called: the steps `untilStop` waits for. */
  private readonly onStop = new Set<() => void>();

  /** Tracks `p`, which must not reject (callers log their own failures). */
  track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
    return p;
  }

  /**
   * What `p` settles to, or undefined once `stop` is called first: a step with no point to check `stopping` at is no
   * longer waited for then (its work goes on, unwatched). Leaves nothing behind once settled.
   */
  untilStop<T>(p: Promise<T>): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      const stopped = () => resolve(undefined);
      if (this.stopping) stopped();
      else this.onStop.add(stopped);
      // Observed either way: a step that fails after it stopped being waited for is no unhandled rejection.
      p.then(resolve, reject).finally(() => this.onStop.delete(stopped));
    });
  }

  /** Resolves when the work started so far, and any it started in turn, is done. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  /** Shutdown: nothing new is started; resolves when what runs has reached a point another instance resumes from. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const stopped of this.onStop) stopped();
    await this.idle();
  }
}

/** What a durable job's row says of its claim, as read, with the ETag its next change is guarded by. */
export interface Claimed {
  holder: string;
  claimedUntil: number;
  etag: string;
}

/** The claim columns a take writes: this instance, until when. */
export interface ClaimColumns {
  holder: string;
  claimedUntil: number;
}

/** A row's key in a job table. */
export interface JobRowKey {
  partitionKey: string;
  rowKey: string;
}

/** This instance's hold on one job while it runs: the row's ETag as last written, or lost (another took it, or it went). */
export interface Hold {
  etag: string;
  lost: boolean;
}

/** How long a claim holds without renewal unless a job says otherwise: longer than any one step of a job takes. */
export const DEFAULT_CLAIM_MS = 3 * 60_000;

/**
 * One instance's claims on the rows of a durable job's table (`forget`, `my data`, large figure imports): a row is run
 * by the instance it names as `holder` until `claimedUntil`, renewed while the job works; every write of the claim is
 * guarded by the ETag last read or written, so only one instance ever believes it holds a job. Once a claim lapses
 * (its instance stopped), the job's upkeep resumes the job elsewhere.
 */
export class JobClaims {
  /** How long a claim holds without renewal. */
  readonly ms: number;

  constructor(
    private readonly table: TableClient,
    private readonly o: { holderId: string; clock: Clock; claimMs?: number; log: { warn(obj: object, msg: string): void } },
  ) {
    this.ms = o.claimMs ?? DEFAULT_CLAIM_MS;
  }

  get holderId(): string {
    return this.o.holderId;
  }

  private get nowMs(): number {
    return this.o.clock.now().getTime();
  }

  /** When a claim taken or renewed now lapses (held `ms`: by default, as long as a claim holds). */
  until(ms = this.ms): number {
    return this.nowMs + ms;
  }

  /** The claim columns a row is taken (or created) with now, held `ms` (by default, as long as a claim holds). */
  columns(ms = this.ms): ClaimColumns {
    return { holder: this.o.holderId, claimedUntil: this.until(ms) };
  }

  /** Whether a claim written until `claimedUntil` (a row as listed; missing is lapsed) has run out. */
  lapsed(claimedUntil: unknown): boolean {
    return Number(claimedUntil ?? 0) <= this.nowMs;
  }

  /**
   * Takes the job for this instance: free, lapsed, or already ours (renewed). `read` reads the row; `runnable` says
   * whether it is still work to do; `take` writes the claim columns (and whatever else goes with them) guarded by the
   * row's ETag (told whether the claim it found had lapsed), answering undefined when someone wrote first: the row is
   * read again and the choice made again.
   * Undefined when the job is gone, done, or another instance's.
   */
  async claim<J extends Claimed>(
    key: JobRowKey,
    read: () => Promise<J | undefined>,
    opts: { runnable?: (job: J) => boolean; take?: (job: J, claim: ClaimColumns, lapsed: boolean) => Promise<J | undefined> } = {},
  ): Promise<J | undefined> {
    const take =
      opts.take ??
      (async (job: J, claim: ClaimColumns) => {
        const etag = await updateIfUnchanged(this.table, { ...key, ...claim }, 'Merge', job.etag);
        return etag === undefined ? undefined : { ...job, holder: claim.holder, etag };
      });
    for (;;) {
      const job = await read();
      if (!job || (opts.runnable && !opts.runnable(job))) return undefined;
      const lapsed = this.lapsed(job.claimedUntil);
      if (job.holder !== this.o.holderId && !lapsed) return undefined;
      const taken = await take(job, this.columns(), lapsed);
      if (taken) return taken;
    }
  }

  /**
   * Renews the claim only if the row is as this instance last wrote it (`hold.etag`): a row changed meanwhile was
   * taken over by another instance (the claim had lapsed) or deleted (`forget`), and the job is not ours any more.
   * Storage busy: logged, and the next renewal tries again (if the claim lapses meanwhile, that one finds it taken).
   */
  async renew(key: JobRowKey, hold: Hold, what: string): Promise<void> {
    if (hold.lost) return;
    try {
      const etag = await updateIfUnchanged(this.table, { ...key, ...this.columns() }, 'Merge', hold.etag);
      if (etag === undefined) hold.lost = true;
      else hold.etag = etag;
    } catch (err) {
      if (isNotFound(err)) hold.lost = true;
      else this.o.log.warn({ err }, `could not renew the claim on ${what}`);
    }
  }

  /**
   * Lets the claim go (shutdown between steps), if the row is as this instance last wrote it: another instance resumes
   * the job at its next upkeep rather than after the claim runs out. The new ETag, or undefined when the row changed
   * or is gone (`forget`): then it is not ours to release.
   */
  async release(key: JobRowKey, etag: string): Promise<string | undefined> {
    try {
      return await updateIfUnchanged(this.table, { ...key, claimedUntil: 0 }, 'Merge', etag);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Lets the claim go if this instance holds it (a job its staging claimed, never run here: shutdown had begun). The
   * row is read for its ETag, so a row another instance took meanwhile is left as it is.
   */
  async releaseIfOurs(key: JobRowKey): Promise<void> {
    const row = await readEntity<{ holder?: string; claimedUntil?: number }>(this.table, key.partitionKey, key.rowKey);
    if (!row || row.holder !== this.o.holderId || this.lapsed(row.claimedUntil)) return;
    await this.release(key, row.etag);
  }
}
