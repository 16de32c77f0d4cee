/**
 * Updates of one post on this worker: the one applying, and the newest one waiting for it. Two redraws of one card
 * arriving together (kudos pressed at once) found each other's turn on the post (posts.ts `beginUpdate`) and went
 * back to the queue for about a second each; now a newer one waits here, in the process, for the one applying to
 * end, and a waiting one that a newer one overtakes gives way to it (the card then shows the newer content: the
 * older need not be drawn first). Turns on the post are still taken in storage: this only saves the queue's round
 * trip when the update ahead runs on this same worker.
 */

export type WaitOutcome =
  /** The update ahead on this worker ended: ask for the turn again now. */
  | { kind: 'ended' }
  /** It has not ended within the wait asked for: go back to the queue, as before. */
  | { kind: 'timeout' }
  /** A newer update of this post is waiting here for the same turn: this one need not be drawn. */
  | { kind: 'superseded'; by: number }
  /** No older update of this post is applying on this worker (another instance has the turn). */
  | { kind: 'elsewhere' };

interface Waiter {
  version: number;
  settle(outcome: WaitOutcome): void;
}

export class UpdateTurns {
  private readonly applying = new Map<string, { version: number; ended: Promise<void> }>();
  private readonly waiters = new Map<string, Waiter>();

  /** This worker applies `version` of `post` now; the function returned says it ended (call it in a `finally`). */
  begin(post: string, version: number): () => void {
    let end!: () => void;
    const entry = { version, ended: new Promise<void>((r) => (end = r)) };
    this.applying.set(post, entry);
    return () => {
      if (this.applying.get(post) === entry) this.applying.delete(post);
      end();
    };
  }

  /** Waits, at most `ms`, for the older update of `post` applying on this worker to end. */
  wait(post: string, version: number, ms: number): Promise<WaitOutcome> {
    const ahead = this.applying.get(post);
    if (!ahead || ahead.version >= version) return Promise.resolve({ kind: 'elsewhere' });
    const other = this.waiters.get(post);
    if (other && other.version > version) return Promise.resolve({ kind: 'superseded', by: other.version });
    // The same version waiting twice (one message enqueued twice): one delivery row, so only one may settle it.
    if (other && other.version === version) return Promise.resolve({ kind: 'elsewhere' });
    return new Promise<WaitOutcome>((resolve) => {
      const waiter: Waiter = {
        version,
        settle: (outcome) => {
          clearTimeout(timer);
          if (this.waiters.get(post) === waiter) this.waiters.delete(post);
          resolve(outcome);
        },
      };
      const timer = setTimeout(() => waiter.settle({ kind: 'timeout' }), Math.max(0, ms));
      other?.settle({ kind: 'superseded', by: version });
      this.waiters.set(post, waiter);
      void ahead.ended.then(() => waiter.settle({ kind: 'ended' }));
    });
  }
}
