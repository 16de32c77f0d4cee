import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { DedupeStore } from '../../src/storage/dedupe.js';
import { testTables } from '../support/storage.js';

describe('DedupeStore', () => {
  it('claims a key once, even when claims race', async () => {
    const store = await DedupeStore.open(testTables(), new ManualClock(), 60_000);
    const results = await Promise.all(Array.from({ length: 10 }, () => store.claim('activity-1')));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.claim('activity-2')).toBe(true);
  });

  it('lets a key be claimed again after its TTL', async () => {
    const clock = new ManualClock();
    const store = await DedupeStore.open(testTables(), clock, 60_000);
    expect(await store.claim('a/b#c')).toBe(true);
    clock.advance(30_000);
    expect(await store.claim('a/b#c')).toBe(false);
    clock.advance(31_000);
    expect(await store.claim('a/b#c')).toBe(true);
  });
});

describe('DedupeStore.release', () => {
  it('lets a released key be claimed again (the first attempt failed)', async () => {
    const store = await DedupeStore.open(testTables(), new ManualClock(), 60_000);
    expect(await store.claim('act-9')).toBe(true);
    await store.release('act-9');
    expect(await store.claim('act-9')).toBe(true);
    expect(await store.claim('act-9')).toBe(false);
  });
});
