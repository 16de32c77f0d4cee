/**
 * Work a feature starts after the user's turn (not awaited by it), tracked so tests and shutdown can wait for it.
 * The durable jobs (`forget`, `my data`, large figure imports) keep their state in Tables; this only holds what
 * runs in this process.
 */
export class BackgroundWork {
  private readonly running = new Set<Promise<unknown>>();
  /** Set by `stop`: a job checks it between steps and leaves the rest to another instance. */
  stopping = false;

  /** Tracks `p`, which must not reject (callers log their own failures). */
  track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
    return p;
  }

  /** Resolves when the work started so far, and any it started in turn, is done. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  /** Shutdown: nothing new is started; resolves when what runs has reached a point another instance resumes from. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.idle();
  }
}
