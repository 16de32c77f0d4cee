import type { TableClient } from '@azure/data-tables';
import { BackgroundWork, JobClaims, type JobRowKey } from './background-work.js';
import type { Clock } from './clock.js';

/** What every durable job class is given: what its claims need (JobClaims) and a log. */
export interface DurableJobsDeps {
  clock: Clock;
  /** This instance, as a claim names it. */
  holderId: string;
  log: { warn(obj: object, msg: string): void };
  /** How long a claim holds without renewal (default DEFAULT_CLAIM_MS). */
  claimMs?: number;
}

/**
 * The lifecycle the durable jobs (`forget`, `my data`, large figure imports, a curated answer's askers) share: their
 * table and claims on its rows, the runs started after a turn (tracked, so tests can wait for them and shutdown stops
 * them at a point another instance resumes from), and the upkeep's part that resumes jobs whose claim lapsed. What a
 * job's rows hold and what its steps do is each job's own.
 */
export abstract class DurableJobs<D extends DurableJobsDeps> {
  protected readonly work = new BackgroundWork();
  /** Jobs running in this instance: a second run of one here starts nothing. */
  protected readonly active = new Set<string>();
  protected readonly claims: JobClaims;

  protected constructor(
    protected readonly table: TableClient,
    protected readonly d: D,
  ) {
    this.claims = new JobClaims(table, d);
  }

  protected get nowMs(): number {
    return this.d.clock.now().getTime();
  }

  /** Runs job `key` to its end, or to a point another instance resumes it from. Safe to run twice, or on two instances. */
  abstract run(key: string): Promise<unknown>;

  /** How a run that failed is logged: the message, and the log field that names the job (none where its key names a person). */
  protected abstract readonly failure: { msg: string; field?: string };

  /** Runs the job after the turn (not awaited by it); a failure is logged, and the upkeep resumes the job once its claim lapses. */
  start(key: string): void {
    void this.kick(() => this.run(key), this.failure.field ? { [this.failure.field]: key } : {}, this.failure.msg);
  }

  /** Runs `fn` off the caller's turn, tracked so tests and shutdown can wait for it: what it returns, or undefined when it failed (logged). */
  protected kick<T>(fn: () => Promise<T>, fields: object, msg: string): Promise<T | undefined> {
    return this.work.track(
      fn().catch((err: unknown) => {
        this.d.log.warn({ err, ...fields }, msg);
        return undefined;
      }),
    );
  }

  /** Resolves when the work started so far is done. */
  idle(): Promise<void> {
    return this.work.idle();
  }

  /** Shutdown: nothing new is started; resolves when each run under way has stopped at a point another instance resumes from. */
  stop(): Promise<void> {
    return this.work.stop();
  }

  /**
   * Runs `fn` as job `key`'s run here, unless one is under way here already or shutdown began. Shutdown begun, the
   * claim this instance may hold on the job's `row` (its staging wrote one) is let go, so another instance resumes the
   * job at its next upkeep rather than once the claim runs out.
   */
  protected async alone(key: string, row: JobRowKey, fn: () => Promise<void>): Promise<void> {
    if (this.active.has(key)) return;
    if (this.work.stopping) {
      await this.claims.releaseIfOurs(row);
      return;
    }
    this.active.add(key);
    try {
      await fn();
    } finally {
      this.active.delete(key);
    }
  }

  /**
   * A point between a job's steps: shutting down, the claim (on the row as this instance last wrote it, `etag`) is let
   * go, so another instance resumes the job at its next upkeep rather than once the claim runs out. Whether the run
   * ends here.
   */
  protected async stopsHere(key: JobRowKey, etag: string): Promise<boolean> {
    if (!this.work.stopping) return false;
    await this.claims.release(key, etag);
    return true;
  }

  /** The upkeep's part: starts every listed job whose claim lapsed (its instance stopped). How many it took up. */
  protected async resumeLapsed<R extends { claimedUntil?: unknown }>(rows: Iterable<R> | AsyncIterable<R>, keyOf: (row: R) => string): Promise<number> {
    let taken = 0;
    for await (const r of rows) {
      if (!this.claims.lapsed(r.claimedUntil)) continue;
      this.start(keyOf(r));
      taken++;
    }
    return taken;
  }
}
