import type { Response } from 'restify';

/**
 * Counts the requests being handled, so shutdown can wait for them. Once draining, a new request is answered
 * 503 with `Connection: close`: Teams retries it, and another instance (or this one, restarted) takes it.
 */
export class InFlightRequests {
  private count = 0;
  private draining = false;
  private waiters: (() => void)[] = [];

  /** Runs `handle` for a request, or answers 503 when shutting down. */
  async run(res: Response, handle: () => Promise<void>): Promise<void> {
    if (this.draining) {
      res.setHeader('connection', 'close');
      res.setHeader('retry-after', '5');
      res.status(503);
      res.json({ error: 'ShuttingDown', message: 'this instance is shutting down; retry shortly' });
      return;
    }
    this.count++;
    try {
      await handle();
    } finally {
      this.count--;
      if (this.count === 0) for (const w of this.waiters.splice(0)) w();
    }
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
