import type { Response } from 'restify';

/** How many turns run at once, and how long one may wait for its turn before it is turned away. */
export interface AdmissionLimits {
  /** Turns handled at the same time; more wait in line (first come, first served). */
  concurrent: number;
  /** A turn that waited this long without starting is answered 503 + Retry-After instead. */
  maxWaitMs: number;
  /** At most this many wait; one more is answered 503 at once (memory stays bounded under a flood). */
  maxWaiting: number;
}

/** Unbounded: every request runs at once (what the class did before it had limits). */
const UNBOUNDED: AdmissionLimits = { concurrent: Number.POSITIVE_INFINITY, maxWaitMs: Number.POSITIVE_INFINITY, maxWaiting: Number.POSITIVE_INFINITY };

/** Seconds a turned-away caller is told to wait before trying again. */
const RETRY_AFTER_SECONDS = 2;

/**
 * Counts the requests being handled, so shutdown can wait for them, and bounds them.
 *
 * Under more load than the instance serves, turns started at once all share the CPU and storage and all
 * slow down together, until they pass Teams' ~15 s and Teams gives up on them (the user sees an error, the
 * work still runs, and Teams' retry comes on top). With a bound, the turns in progress finish at the
 * instance's pace; the others wait in line, and one that cannot start within `maxWaitMs` is answered 503
 * with Retry-After at once: nothing of it was done (not even the retry guard's claim), so Teams' retry of
 * it, or the user's second try, is handled as new.
 *
 * Once draining, a new request is answered 503 with `Connection: close`: Teams retries it, and another
 * instance (or this one, restarted) takes it.
 */
export class InFlightRequests {
  private count = 0;
  private draining = false;
  private waiters: (() => void)[] = [];
  private readonly line: { start: () => void; timer: NodeJS.Timeout }[] = [];

  constructor(private readonly limits: AdmissionLimits = UNBOUNDED) {}

  /** Runs `handle` for a request when a place is free; answers 503 when shutting down or when it waited too long. */
  async run(res: Response, handle: () => Promise<void>): Promise<void> {
    if (this.draining) {
      res.setHeader('connection', 'close');
      res.setHeader('retry-after', '5');
      res.status(503);
      res.json({ error: 'ShuttingDown', message: 'this instance is shutting down; retry shortly' });
      return;
    }
    if (this.count < this.limits.concurrent) this.count++;
    else if (!(await this.place())) {
      res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
      res.status(503);
      res.json({ error: 'Busy', message: 'this instance is answering as many requests as it can; retry shortly' });
      return;
    }
    try {
      await handle();
    } finally {
      this.count--;
      this.next();
      if (this.count === 0) for (const w of this.waiters.splice(0)) w();
    }
  }

  /**
   * Waits in line for a free place: true once it is this request's turn (the place already counted as
   * taken), false when it waited too long or the line is full.
   */
  private place(): Promise<boolean> {
    if (this.line.length >= this.limits.maxWaiting) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const entry = {
        start: () => {
          clearTimeout(entry.timer);
          resolve(true);
        },
        timer: setTimeout(() => {
          this.line.splice(this.line.indexOf(entry), 1);
          resolve(false);
        }, this.limits.maxWaitMs),
      };
      this.line.push(entry);
    });
  }

  /** A place came free: the longest-waiting request takes it (counted here, so a newcomer cannot overtake it). */
  private next(): void {
    if (this.count >= this.limits.concurrent) return;
    const first = this.line.shift();
    if (!first) return;
    this.count++;
    first.start();
  }

  get size(): number {
    return this.count;
  }

  /** Turns new requests away and resolves when the last one in flight has finished. */
  drain(): Promise<void> {
    this.draining = true;
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
