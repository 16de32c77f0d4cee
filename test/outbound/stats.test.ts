import { describe, expect, it } from 'vitest';
import { percentiles, WindowStats } from '../../src/outbound/stats.js';

// What bench:broadcast prints of a worker's sends (how late requests left, how long answers took to record, how
// far the send lease reached) comes from these snapshots, taken every second by the worker process.
describe('WindowStats', () => {
  it('reports the same percentiles as sorting every sample (whole ms)', () => {
    const stats = new WindowStats();
    const late = Array.from({ length: 1_000 }, (_, i) => (i * 37) % 101);
    for (const [i, ms] of late.entries()) stats.leave(stats.enter(), { late: ms, sendMs: 30 + (i % 7), recordMs: i % 3, reachMs: 40 + (i % 50) });
    const snap = stats.snapshot();
    expect(snap.requests).toBe(1_000);
    expect(snap.lateMs).toEqual(percentiles(late));
    expect(snap.lateMs.max).toBe(100);
    expect(snap.sendMs).toEqual(percentiles(late.map((_, i) => 30 + (i % 7))));
    // An answer recorded within the same ms is not a sample (as before).
    expect(snap.recordMs).toEqual(percentiles(late.map((_, i) => i % 3).filter((x) => x > 0)));
    expect(snap.leaseReachMs).toEqual(percentiles(late.map((_, i) => 40 + (i % 50))));
  });

  it('keeps counting past 50,000 requests (a long broadcast is measured to its end)', () => {
    const stats = new WindowStats();
    for (let i = 0; i < 60_000; i++) stats.leave(stats.enter(), { late: i < 59_000 ? 1 : 500, sendMs: 30, recordMs: 2 });
    const snap = stats.snapshot();
    expect(snap.requests).toBe(60_000);
    expect(snap.lateMs.max).toBe(500);
    expect(snap.lateMs.p99).toBe(500);
  });
});
