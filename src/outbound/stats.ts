/**
 * What one worker measured about its own sends: how late requests left after their planned slot, how long a
 * request was out before its answer was recorded, and how far its send lease reached (send-lease.ts: a kill
 * leaves unconfirmed the attempts whose slot is within that reach).
 */
export interface WindowEntry {
  at: number;
}

export interface StatsSnapshot {
  counts: Record<string, number>;
  /** Requests made. */
  requests: number;
  /** ms from the planned slot to the request leaving: p50, p99, max. */
  lateMs: Percentiles;
  /** ms from the request leaving to the connector's answer. */
  sendMs: Percentiles;
  /** ms the send lease reached ahead when each request left. */
  leaseReachMs: Percentiles;
  /** ms from the connector's answer to the row saying so. */
  recordMs: Percentiles;
  /** Share of the time at least one request was out and its answer not recorded yet. */
  exposedShare: number;
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

/**
 * Samples as counts per whole millisecond: a snapshot costs the number of distinct values, not a sort of every
 * sample (the worker process prints one every second; sorting 10,000s of samples each time held its event loop
 * for several ms, long enough to make requests leave late), and memory stays bounded however long it runs.
 */
class Histogram {
  private readonly counts = new Map<number, number>();
  private n = 0;

  add(ms: number): void {
    const key = Math.round(ms);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.n++;
  }

  /** The same ranks as `percentiles` over the samples rounded to whole ms. */
  percentiles(): Percentiles {
    if (!this.n) return { p50: 0, p99: 0, max: 0 };
    const keys = [...this.counts.keys()].sort((a, b) => a - b);
    const at = (q: number) => {
      const rank = Math.min(this.n - 1, Math.floor(q * this.n));
      let seen = 0;
      for (const k of keys) {
        seen += this.counts.get(k) ?? 0;
        if (seen > rank) return k;
      }
      return keys[keys.length - 1] ?? 0;
    };
    return { p50: at(0.5), p99: at(0.99), max: keys[keys.length - 1] ?? 0 };
  }

  get size(): number {
    return this.n;
  }
}

export class WindowStats {
  readonly counts: Record<string, number> = {};
  private readonly late = new Histogram();
  private readonly send = new Histogram();
  private readonly record = new Histogram();
  private readonly reach = new Histogram();
  private open = 0;
  private openedAt = 0;
  private exposed = 0;
  private readonly started = Date.now();

  enter(): WindowEntry {
    const at = Date.now();
    if (this.open++ === 0) this.openedAt = at;
    return { at };
  }

  /** The attempt left the window: recorded (with its sample), or released without a request. */
  leave(_entry: WindowEntry, sample?: { late: number; sendMs: number; recordMs: number; reachMs?: number }): void {
    if (--this.open === 0) this.exposed += Date.now() - this.openedAt;
    if (sample) {
      this.late.add(sample.late);
      this.send.add(sample.sendMs);
      if (sample.recordMs) this.record.add(sample.recordMs);
      if (sample.reachMs !== undefined) this.reach.add(sample.reachMs);
    }
  }

  count(kind: string): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }

  snapshot(): StatsSnapshot {
    const elapsed = Math.max(1, Date.now() - this.started);
    const exposedNow = this.exposed + (this.open ? Date.now() - this.openedAt : 0);
    return {
      counts: { ...this.counts },
      requests: this.late.size,
      lateMs: this.late.percentiles(),
      sendMs: this.send.percentiles(),
      recordMs: this.record.percentiles(),
      leaseReachMs: this.reach.percentiles(),
      exposedShare: exposedNow / elapsed,
    };
  }
}

export function percentiles(xs: readonly number[]): Percentiles {
  if (!xs.length) return { p50: 0, p99: 0, max: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1] ?? 0 };
}
