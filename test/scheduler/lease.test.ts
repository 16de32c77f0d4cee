import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { LeaseStore, runIfLeader } from '../../src/scheduler/lease.js';
import { testTables } from '../support/storage.js';

describe('LeaseStore', () => {
  it('lets exactly one of many racing holders win', async () => {
    const tables = testTables();
    const now = new Date('2026-03-02T09:00:00Z');
    // Separate store objects stand for separate instances.
    const stores = await Promise.all(Array.from({ length: 8 }, () => LeaseStore.open(tables)));
    const results = await Promise.all(stores.map((s, i) => s.tryAcquire('sla', `host-${i}`, 60_000, now)));
    const winners = results.filter((r) => r.acquired);
    expect(winners).toHaveLength(1);
    const holder = winners[0]?.acquired ? winners[0].lease.holderId : '';
    for (const r of results) if (!r.acquired) expect(r.heldBy).toBe(holder);
  });

  it('keeps the lease for its holder, lets another take it after expiry, and honours release', async () => {
    const leases = await LeaseStore.open(testTables());
    const t = new Date('2026-03-02T09:00:00Z');
    const plus = (ms: number) => new Date(t.getTime() + ms);
    expect((await leases.tryAcquire('job', 'a', 60_000, t)).acquired).toBe(true);
    expect(await leases.tryAcquire('job', 'b', 60_000, plus(30_000))).toMatchObject({
      acquired: false,
      heldBy: 'a',
    });
    expect((await leases.tryAcquire('job', 'a', 60_000, plus(30_000))).acquired).toBe(true); // re-acquire extends
    expect(await leases.renew('job', 'a', 60_000, plus(60_000))).toBe(true);
    expect((await leases.tryAcquire('job', 'b', 60_000, plus(100_000))).acquired).toBe(false);
    expect((await leases.tryAcquire('job', 'b', 60_000, plus(120_001))).acquired).toBe(true); // a expired
    expect(await leases.renew('job', 'a', 60_000, plus(120_002))).toBe(false);
    expect(await leases.release('job', 'a')).toBe(false);
    expect(await leases.release('job', 'b')).toBe(true);
    expect((await leases.tryAcquire('job', 'a', 60_000, plus(120_003))).acquired).toBe(true);
    expect((await leases.tryAcquire('other/job#1', 'a', 60_000, t)).acquired).toBe(true);
  });

  it('runs a job only on the leader', async () => {
    const tables = testTables();
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    const [one, two] = await Promise.all([LeaseStore.open(tables), LeaseStore.open(tables)]);
    let runs = 0;
    const job = async () => ++runs;
    const [a, b] = await Promise.all([
      runIfLeader(one, clock, { name: 'tick', holderId: 'one', ttlMs: 90_000 }, job),
      runIfLeader(two, clock, { name: 'tick', holderId: 'two', ttlMs: 90_000 }, job),
    ]);
    expect(runs).toBe(1);
    expect([a.ran, b.ran].sort()).toEqual([false, true]);
    const leader = a.ran ? one : two;
    const leaderId = a.ran ? 'one' : 'two';
    clock.advance(60_000);
    expect(
      (await runIfLeader(leader, clock, { name: 'tick', holderId: leaderId, ttlMs: 90_000 }, job)).ran,
    ).toBe(true);
    const follower = a.ran ? two : one;
    const followerId = a.ran ? 'two' : 'one';
    expect(
      (await runIfLeader(follower, clock, { name: 'tick', holderId: followerId, ttlMs: 90_000 }, job)).ran,
    ).toBe(false);
    clock.advance(91_000); // the leader stopped ticking
    expect(
      (await runIfLeader(follower, clock, { name: 'tick', holderId: followerId, ttlMs: 90_000 }, job)).ran,
    ).toBe(true);
    expect(runs).toBe(3);
  });
});
