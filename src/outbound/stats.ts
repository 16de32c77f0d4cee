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

const MAX_SAMPLES = 50_000;

export class WindowStats {
  readonly counts: Record<string, number> = {};
  private readonly late: number[] = [];
  private readonly send: number[] = [];
  private readonly record: number[] = [];
  private readonly reach: number[] = [];
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
    if (sample && this.late.length < MAX_SAMPLES) {
      this.late.push(sample.late);
      this.send.push(sample.sendMs);
      if (sample.recordMs) this.record.push(sample.recordMs);
      if (sample.reachMs !== undefined) this.reach.push(sample.reachMs);
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
      requests: this.late.length,
      lateMs: percentiles(this.late),
      sendMs: percentiles(this.send),
      recordMs: percentiles(this.record),
      leaseReachMs: percentiles(this.reach),
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
