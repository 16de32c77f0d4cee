import { describe, expect, it } from 'vitest';
import { missedPlans, slotRun } from '../../src/outbound/worker.js';

describe('the run of tenant slots a late message plans with', () => {
  const interval = 20; // 50 requests/s

  it('is one slot until two plans were missed, then doubles up to a second of slots', () => {
    const runs = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((tries) => slotRun(missedPlans({ lateRounds: 0 }, tries), interval));
    expect(runs).toEqual([1, 1, 2, 4, 8, 16, 32, 50, 50]);
  });

  it('starts a message back from a late round at a run of two, not where its last round ended', () => {
    // Its spare slots come out of every instance's budget, and the event loop may have recovered since.
    const first = [1, 2, 5].map((lateRounds) => slotRun(missedPlans({ lateRounds }, 0), interval));
    expect(first).toEqual([2, 2, 2]);
  });
});
