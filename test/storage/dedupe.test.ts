import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { DedupeStore } from '../../src/storage/dedupe.js';
import { collect } from '../../src/storage/tables.js';
import { reads } from '../support/table-reads.js';
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

describe('DedupeStore results', () => {
  it('gives a repeat the result the first claim saved', async () => {
    const store = await DedupeStore.open(testTables(), new ManualClock(), 60_000);
    expect(await store.claimWithResult('inv-1')).toEqual({ first: true });
    expect(await store.claimWithResult('inv-1')).toEqual({ first: false, result: undefined });
    const card = { status: 200, body: { type: 'application/vnd.microsoft.card.adaptive', value: { body: ['é', '😀'] } } };
    expect(await store.saveResult('inv-1', card)).toBe(true);
    expect(await store.claimWithResult('inv-1')).toEqual({ first: false, result: card });
    expect(await store.result('inv-1')).toEqual({ state: 'saved', result: card });
  });

  it('keeps a large but compressible answer (gzipped) and gives it back whole', async () => {
    const store = await DedupeStore.open(testTables(), new ManualClock(), 60_000);
    await store.claim('inv-3');
    const card = { status: 200, body: { rows: Array.from({ length: 2_000 }, (_, i) => ({ text: `row ${i} ✓` })) } };
    expect(JSON.stringify(card).length).toBeGreaterThan(32_000);
    expect(await store.saveResult('inv-3', card)).toBe(true);
    expect(await store.claimWithResult('inv-3')).toEqual({ first: false, result: card });
  });

  it('does not keep a result over the size bound, and says a released claim is released', async () => {
    const store = await DedupeStore.open(testTables(), new ManualClock(), 60_000);
    await store.claim('inv-2');
    // Random text does not compress: well over the bound once gzipped.
    const huge = { text: randomBytes(100_000).toString('base64') };
    expect(await store.saveResult('inv-2', huge)).toBe(false);
    expect(await store.result('inv-2')).toEqual({ state: 'pending' });
    await store.release('inv-2');
    expect(await store.result('inv-2')).toEqual({ state: 'released' });
    expect(await store.saveResult('inv-2', { small: true })).toBe(false);
  });
});

describe('DedupeStore owners (forget)', () => {
  it("replaces only the person's kept answers with their placeholder, keeps the claims, and keeps no row but the claim (owners are named on it)", async () => {
    const clock = new ManualClock();
    const store = await DedupeStore.open(testTables(), clock, 60_000);
    const handled = { status: 200, body: { value: 'Done — this was already handled.' } };
    await store.claim('conv|fiona-1');
    await store.saveResult('conv|fiona-1', { status: 200, body: { value: 'Fiona Grant logged R-0001' } }, { owners: ['AAD-FIONA', '29:fiona'], placeholder: handled });
    await store.claim('conv|gus-1');
    await store.saveResult('conv|gus-1', { status: 200, body: { value: 'Gus logged R-0002' } }, { owners: ['aad-gus'], placeholder: handled });
    expect(await store.ownedBy(['aad-fiona', '29:fiona'])).toHaveLength(1);

    expect(await store.forgetOwner(['aad-fiona', '29:fiona'])).toBe(1);
    expect(await store.claimWithResult('conv|fiona-1')).toEqual({ first: false, result: handled });
    expect(await store.claimWithResult('conv|gus-1')).toEqual({ first: false, result: { status: 200, body: { value: 'Gus logged R-0002' } } });
    expect(await store.ownedBy(['aad-fiona', '29:fiona'])).toEqual([]);
    expect(await store.forgetOwner(['aad-fiona'])).toBe(0);

    // Only the two claims were written: naming owners costs no row (nor write) of its own.
    clock.advance(61_000);
    expect(await store.sweepExpired(clock.now(), 1_000)).toBe(2);
    expect(await store.ownedBy(['aad-gus'])).toEqual([]);
  });
});

describe('DedupeStore.sweepExpired', () => {
  it('deletes what expired across every partition, at most `limit` a run, the rest next run, with a query or two a run (not one per partition)', async () => {
    const clock = new ManualClock();
    const tables = testTables();
    const store = await DedupeStore.open(tables, clock, 60_000);
    // 40 keys land in many of the 256 partitions (a key's partition is its hash's first byte).
    for (let i = 0; i < 40; i++) await store.claim(`old-${i}`);
    clock.advance(61_000);
    for (let i = 0; i < 5; i++) await store.claim(`live-${i}`);

    // Each run: one query, and a delete per expired row (deletes are not counted as reads).
    for (const expected of [25, 15, 0]) {
      const run = await reads(() => store.sweepExpired(clock.now(), 25));
      expect(run.value).toBe(expected);
      expect(run.calls).toBeLessThanOrEqual(2);
    }

    // Only the live claims are left, and they stay claimed.
    expect(await collect((await tables.table('Dedupe')).listEntities())).toHaveLength(5);
    for (let i = 0; i < 5; i++) expect(await store.claim(`live-${i}`)).toBe(false);
  });
});
