import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ExportStore } from '../../src/exports/store.js';
import { LeaseStore } from '../../src/scheduler/lease.js';
import { Scheduler } from '../../src/scheduler/runner.js';
import { DedupeStore } from '../../src/storage/dedupe.js';
import { expiryJob } from '../../src/storage/expiry.js';
import { collect, type Tables } from '../../src/storage/tables.js';
import { testTables } from '../support/storage.js';

const quiet = { info: () => {}, error: () => {} };
const MINUTE = 60_000;

async function rowsOf(tables: Tables, table: string): Promise<{ partitionKey?: string; rowKey?: string }[]> {
  return collect((await tables.table(table)).listEntities());
}

async function setup(limit = 500) {
  const tables = testTables();
  const clock = new ManualClock();
  const dedupe = await DedupeStore.open(tables, clock, 10 * MINUTE);
  const exports = await ExportStore.open(tables, clock);
  const job = expiryJob([dedupe, exports], { everyMs: 5 * MINUTE, limit });
  const scheduler = (leases: LeaseStore) => new Scheduler(leases, clock, quiet).add(job);
  const leases = await LeaseStore.open(tables);
  return { tables, clock, dedupe, exports, scheduler, leases };
}

describe('expiry job', () => {
  it('deletes expired Dedupe claims and keeps the live ones, which still count as seen', async () => {
    const { tables, clock, dedupe, scheduler, leases } = await setup();
    for (let i = 0; i < 6; i++) await dedupe.claim(`old-${i}`);
    clock.advance(6 * MINUTE);
    for (let i = 0; i < 3; i++) await dedupe.claim(`new-${i}`);
    clock.advance(5 * MINUTE); // the old ones are past their 10 minutes, the new ones are not

    await scheduler(leases).tick();

    const left = (await rowsOf(tables, 'Dedupe')).map((r) => r.rowKey).sort();
    // Rows are keyed by the key's hash (a key holds a chat's id).
    const hashed = (k: string) => createHash('sha256').update(k).digest('hex');
    expect(left).toEqual(['new-0', 'new-1', 'new-2'].map(hashed).sort());
    expect(await dedupe.claim('new-1')).toBe(false);
    expect(await dedupe.claim('old-1')).toBe(true);
  });

  it('deletes unread export files once expired, index row and all, and leaves live ones readable', async () => {
    const { tables, clock, exports, scheduler, leases } = await setup();
    const file = { filename: 'issues.csv', contentType: 'text/csv', createdBy: 'aad-lead' };
    const old = await exports.save({ ...file, content: 'x'.repeat(70_000) }, 30 * MINUTE);
    clock.advance(20 * MINUTE);
    const live = await exports.save({ ...file, content: 'ref,title\nR-0001,Printer' }, 30 * MINUTE);
    clock.advance(15 * MINUTE);

    await scheduler(leases).tick();

    const partitions = new Set((await rowsOf(tables, 'Exports')).map((r) => r.partitionKey));
    expect(partitions.has(old.token)).toBe(false);
    expect([...partitions].some((p) => p === '~expires')).toBe(true); // the live file's expiry row
    expect((await exports.read(live.token))?.content).toBe('ref,title\nR-0001,Printer');
    clock.advance(20 * MINUTE);
    await scheduler(leases).tick();
    expect(await rowsOf(tables, 'Exports')).toEqual([]);
  });

  it('deletes in bounded batches, going on where it stopped, on the instance holding the lease only', async () => {
    const { tables, clock, dedupe, scheduler, leases } = await setup(4);
    for (let i = 0; i < 10; i++) await dedupe.claim(`k-${i}`);
    clock.advance(11 * MINUTE);
    const a = scheduler(leases);
    const b = scheduler(leases);

    await a.tick();
    expect(await rowsOf(tables, 'Dedupe')).toHaveLength(6);
    await b.tick(); // another instance: a holds the lease, so b does not run the job
    expect(await rowsOf(tables, 'Dedupe')).toHaveLength(6);
    clock.advance(5 * MINUTE);
    await a.tick();
    clock.advance(5 * MINUTE);
    await a.tick();
    expect(await rowsOf(tables, 'Dedupe')).toHaveLength(0);
  });

  it('never makes a claim fail or count twice when it races with the clean-up', async () => {
    const { clock, dedupe } = await setup();
    const keys = Array.from({ length: 20 }, (_, i) => `race-${i}`);
    for (const k of keys) await dedupe.claim(k);
    clock.advance(11 * MINUTE);
    const [claims] = await Promise.all([
      Promise.all(keys.map((k) => dedupe.claim(k))),
      dedupe.sweepExpired(clock.now(), 500),
    ]);
    expect(claims.every(Boolean)).toBe(true);
    for (const k of keys) expect(await dedupe.claim(k)).toBe(false);
  });
});
