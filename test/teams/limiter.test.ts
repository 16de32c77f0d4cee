import { describe, expect, it } from 'vitest';
import { PER_CONVERSATION, SlidingWindowLimiter } from '../../src/teams/limiter.js';

function fakeTime() {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
  };
}

describe('SlidingWindowLimiter', () => {
  it('holds one conversation to 7 sends a second and 8 in two seconds', async () => {
    const time = fakeTime();
    const limiter = new SlidingWindowLimiter(() => PER_CONVERSATION, time.now, time.sleep);
    const at: number[] = [];
    for (let i = 0; i < 10; i++) {
      await limiter.acquire(['conv-a']);
      at.push(time.now());
    }
    expect(at.slice(0, 7).every((t) => t === 0)).toBe(true);
    expect(at[7]).toBe(1_000); // 8th: after the 1 s window frees a slot
    expect(at[8]).toBe(2_000); // 9th: the 2 s window allows only 8
    for (let i = 0; i < at.length; i++) {
      expect(at.filter((t) => t > (at[i] ?? 0) - 1_000 && t <= (at[i] ?? 0)).length).toBeLessThanOrEqual(7);
    }
  });

  it('does not slow other conversations, but holds a shared tenant limit', async () => {
    const time = fakeTime();
    const limiter = new SlidingWindowLimiter(
      (key) => (key === 'tenant' ? [{ count: 3, ms: 1_000 }] : PER_CONVERSATION),
      time.now,
      time.sleep,
    );
    for (const c of ['a', 'b', 'c']) await limiter.acquire([c, 'tenant']);
    expect(time.now()).toBe(0);
    await limiter.acquire(['d', 'tenant']);
    expect(time.now()).toBe(1_000);
  });
});
