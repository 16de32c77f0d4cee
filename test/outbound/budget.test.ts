import { describe, expect, it } from 'vitest';
import { BUDGET_TABLE, type BudgetOptions, TenantBudget } from '../../src/outbound/budget.js';
import { testTables } from '../support/storage.js';

const TENANT = 'tenant-1';

/** Instances sharing one Storage account's budget table, on one clock standing still (slots are still to come). */
async function instances(n: number): Promise<TenantBudget[]> {
  const table = await testTables().table(BUDGET_TABLE);
  const at = Date.now();
  const opts: BudgetOptions = { tenantPerSecond: 50, guardMs: 40, conversationGuardMs: 100, blockMs: 250, now: () => at };
  return Array.from({ length: n }, () => new TenantBudget(table, opts));
}

describe('the tenant budget when an instance stops', () => {
  it("hands its unused slots to the next instance: that one's first slot follows the last one used", async () => {
    const [stopping, other] = (await instances(2)) as [TenantBudget, TenantBudget];
    const used = await stopping.take(TENANT, 0); // claims a block of about 250 ms, uses one slot
    await stopping.returnUnused();
    const next = await other.take(TENANT, 0);
    // One slot later, not a block later: nothing of the tenant's budget is lost to the stop.
    expect(Math.round((next - used) / stopping.interval)).toBe(1);
  });

  it('leaves them when another instance has claimed after it (its claim is not moved back under it)', async () => {
    const [stopping, other, third] = (await instances(3)) as [TenantBudget, TenantBudget, TenantBudget];
    const used = await stopping.take(TENANT, 0);
    const theirs = await other.take(TENANT, 0); // after the stopping instance's block
    await stopping.returnUnused();
    const next = await third.take(TENANT, 0);
    const block = Math.round((theirs - used) / stopping.interval);
    expect(block).toBeGreaterThan(1);
    // After the other instance's block: the stopping one's slots stay unused rather than overlap it.
    expect(Math.round((next - theirs) / stopping.interval)).toBe(block);
  });

  it('no longer sends in the slots it handed back', async () => {
    const [stopping, other] = (await instances(2)) as [TenantBudget, TenantBudget];
    await stopping.take(TENANT, 0);
    await stopping.returnUnused();
    const mine = await stopping.take(TENANT, 0);
    const theirs = await other.take(TENANT, 0);
    expect(mine).not.toBe(theirs);
  });
});

describe('a run of tenant slots (for a request that keeps missing its slot)', () => {
  it('is consecutive, longer than a block if asked, and none of its slots goes to another request', async () => {
    const [a, b] = (await instances(2)) as [TenantBudget, TenantBudget];
    const first = await a.take(TENANT, 0, 20); // a block is 12 slots at 50/s: the claim is made longer
    const mine = await a.take(TENANT, 0);
    const theirs = await b.take(TENANT, 0);
    // The 19 slots after the run's first are left empty: the next requests, here or elsewhere, come after them.
    expect(Math.round((mine - first) / a.interval)).toBe(20);
    expect(Math.round((theirs - first) / a.interval)).toBeGreaterThanOrEqual(20);
    expect(theirs).not.toBe(mine);
  });
});
