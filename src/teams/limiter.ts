/** One limit: at most `count` events in any `ms` window. */
export interface Window {
  count: number;
  ms: number;
}

/** Teams' per-bot, per-conversation limits for sends (msteams-docs: bots/how-to/rate-limit). */
export const PER_CONVERSATION: Window[] = [
  { count: 7, ms: 1_000 },
  { count: 8, ms: 2_000 },
  { count: 60, ms: 30_000 },
  { count: 1_800, ms: 3_600_000 },
];

/**
 * Sliding-window limiter: `acquire(keys)` resolves when an event may happen under every window of every key,
 * and records it. Keeps only as many timestamps as the largest window needs.
 */
export class SlidingWindowLimiter {
  private readonly events = new Map<string, number[]>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly windowsFor: (key: string) => Window[],
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** How long until an event on all `keys` is allowed (0 = now). */
  waitFor(keys: string[]): number {
    const now = this.now();
    let wait = 0;
    for (const key of keys) {
      const times = this.events.get(key) ?? [];
      for (const w of this.windowsFor(key)) {
        if (times.length >= w.count) {
          const oldestInWindow = times[times.length - w.count] ?? 0;
          wait = Math.max(wait, oldestInWindow + w.ms - now);
        }
      }
    }
    return Math.max(0, wait);
  }

  /** Waits for a slot on every key, in arrival order, then takes it. */
  acquire(keys: string[]): Promise<void> {
    const turn = this.chain.then(async () => {
      for (let wait = this.waitFor(keys); wait > 0; wait = this.waitFor(keys)) await this.sleep(wait);
      const now = this.now();
      for (const key of keys) {
        const times = this.events.get(key) ?? [];
        times.push(now);
        const keep = Math.max(...this.windowsFor(key).map((w) => w.count));
        if (times.length > keep) times.splice(0, times.length - keep);
        this.events.set(key, times);
      }
    });
    this.chain = turn.catch(() => {});
    return turn;
  }
}
