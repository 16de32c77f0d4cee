import { describe, expect, it, vi } from 'vitest';
import { BUDGET_TABLE } from '../../src/outbound/budget.js';
import { LeaseRevoked, LeaseStore, SendLease } from '../../src/outbound/send-lease.js';
import { createLogger } from '../../src/log.js';
import { TestAccount, until } from './support.js';

/**
 * Ending another worker's send lease (`revoke`) is what lets a successor settle a gone worker's attempts without
 * waiting out their holds: after it, that worker can promise nothing more, so nothing it held past the last
 * promise can leave.
 */
describe('revoking a send lease', () => {
  it('makes its last promise final: the worker cannot renew it, and goes on under a new lease', async () => {
    const account = new TestAccount();
    const store = new LeaseStore(await account.tables.table(BUDGET_TABLE));
    const lease = new SendLease(store, 'worker-a', createLogger('silent'), { everyMs: 20, maxReachMs: 1_000, now: Date.now });
    lease.start();
    const held = lease.hold(); // a claim is out (its request's time unknown): the lease is renewed
    try {
      const first = lease.incarnation;
      await until(async () => (await store.upTo(first)) !== undefined, 10_000, 'a first promise');

      const final = await store.revoke(first);
      expect(final).toBeDefined();
      // The worker finds out at its next renewal and takes a new name; the old one's promise stays where it was.
      await until(() => lease.incarnation !== first, 10_000, 'a new incarnation');
      expect(await store.read(first)).toMatchObject({ revoked: true, upTo: final });
      expect(lease.owns(first)).toBe(true);
      // What it held under the old lease may leave only within the old promise.
      expect(lease.covers(final! + 1, first)).toBe(false);
      await until(async () => (await store.upTo(lease.incarnation)) !== undefined, 10_000, 'the new lease');
      expect(await store.read(lease.incarnation)).toMatchObject({ revoked: false });
      // The old promise cannot be written further: not with the ETag the worker had (a renewal under way when it
      // was revoked), nor as a first write.
      await expect(store.write(first, final! + 60_000, 'W/"datetime\'2000-01-01T00%3A00%3A00Z\'"')).rejects.toBeInstanceOf(LeaseRevoked);
      await expect(store.write(first, final! + 60_000, undefined)).rejects.toBeInstanceOf(LeaseRevoked);
      expect(await store.upTo(first)).toBe(final);
    } finally {
      held.release();
      await lease.stop();
    }
  }, 60_000);

  it('a worker that never wrote a lease is not revoked (only its claims\' holds settle its attempts)', async () => {
    const account = new TestAccount();
    const store = new LeaseStore(await account.tables.table(BUDGET_TABLE));
    expect(await store.revoke('never-wrote.0001')).toBeUndefined();
    expect(await store.read('never-wrote.0001')).toBeUndefined();
  });
});

/**
 * The lease is the outbound path's largest storage cost: it was renewed every `everyMs` from a claim until its
 * request left (one to three writes per message sent). It is written only while a held request's latest moment
 * is not covered yet: a lone message costs one write.
 */
describe('renewing the send lease', () => {
  it('writes once for a request its promise already covers, however long it waits; renews while one is not covered', async () => {
    const account = new TestAccount();
    const store = new LeaseStore(await account.tables.table(BUDGET_TABLE));
    const writes = vi.spyOn(store, 'write');
    const lease = new SendLease(store, 'worker-b', createLogger('silent'), { everyMs: 20, maxReachMs: 1_000, now: Date.now });
    lease.start();
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      // A claim whose request leaves within 30 ms (its slot and the lateness allowed): the first promise reaches
      // past it (at least two intervals), so nothing more is written while the request waits.
      const soon = Date.now() + 30;
      const held = lease.hold(soon);
      await until(() => lease.covers(soon), 10_000, 'the first promise');
      await sleep(300);
      expect(writes).toHaveBeenCalledTimes(1);

      // Its slot moved 400 ms on: renewed every 20 ms (each reaching a little ahead) until a promise covers it.
      const later = Date.now() + 400;
      held.need(later);
      await until(() => lease.covers(later), 10_000, 'a promise covering the later slot');
      const renewals = writes.mock.calls.length;
      expect(renewals).toBeGreaterThan(2);
      await sleep(200);
      expect(writes).toHaveBeenCalledTimes(renewals);

      // What storage holds is what the worker relies on: a successor reads at least as far.
      expect(await store.upTo(lease.incarnation)).toBeGreaterThanOrEqual(later);
      held.release();
    } finally {
      await lease.stop();
    }
  }, 30_000);
});
