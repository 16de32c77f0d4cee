import type { TableClient } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import {
  isConflict,
  isPreconditionFailed,
  mergeIfUnchanged,
  safeKey,
  type Tables,
} from '../storage/tables.js';
import { readEntity } from '../storage/entities.js';

/**
 * Leases for scheduled jobs, so that of several instances sharing one Storage account only one runs a
 * job at a time. One row per job (`Leases` table, PartitionKey `lease`, RowKey = job name) holds the
 * holder and an expiry. Taking a free or expired lease is an ETag-guarded write: a create that fails
 * with 409 or an update that fails with 412 means another instance got there first.
 */

export const LEASES_TABLE = 'Leases';
const PARTITION = 'lease';

export interface Lease {
  job: string;
  holderId: string;
  expiresAt: Date;
}

export type AcquireResult =
  | { acquired: true; lease: Lease }
  | { acquired: false; heldBy: string; expiresAt: Date };

interface LeaseRow {
  holderId: string;
  expiresAt: string;
}

export class LeaseStore {
  constructor(private readonly table: TableClient) {}

  static async open(tables: Tables): Promise<LeaseStore> {
    return new LeaseStore(await tables.table(LEASES_TABLE));
  }

  private async read(job: string): Promise<(LeaseRow & { etag: string }) | null> {
    const e = await readEntity<LeaseRow>(this.table, PARTITION, safeKey(job));
    return e ? { holderId: String(e.holderId), expiresAt: String(e.expiresAt), etag: e.etag } : null;
  }

  /** Takes the lease if it is free, expired, or already ours (which extends it). */
  async tryAcquire(job: string, holderId: string, ttlMs: number, now: Date): Promise<AcquireResult> {
    const expiresAt = new Date(now.getTime() + ttlMs);
    const row = {
      partitionKey: PARTITION,
      rowKey: safeKey(job),
      holderId,
      expiresAt: expiresAt.toISOString(),
    };
    const current = await this.read(job);
    try {
      if (!current) {
        await this.table.createEntity(row);
      } else {
        const expired = Date.parse(current.expiresAt) <= now.getTime();
        if (current.holderId !== holderId && !expired) {
          return { acquired: false, heldBy: current.holderId, expiresAt: new Date(current.expiresAt) };
        }
        await this.table.updateEntity(row, 'Merge', { etag: current.etag });
      }
      return { acquired: true, lease: { job, holderId, expiresAt } };
    } catch (err) {
      if (!isConflict(err) && !isPreconditionFailed(err)) throw err;
      const winner = await this.read(job);
      return {
        acquired: false,
        heldBy: winner?.holderId ?? '',
        expiresAt: new Date(winner?.expiresAt ?? now.toISOString()),
      };
    }
  }

  /** Extends a lease we still hold; false if it expired and someone else took it. */
  async renew(job: string, holderId: string, ttlMs: number, now: Date): Promise<boolean> {
    const current = await this.read(job);
    if (!current || current.holderId !== holderId) return false;
    const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
    return mergeIfUnchanged(
      this.table,
      { partitionKey: PARTITION, rowKey: safeKey(job), holderId, expiresAt },
      current.etag,
    );
  }

  /** Lets the lease go now (only if we hold it), so another instance need not wait for the expiry. */
  async release(job: string, holderId: string): Promise<boolean> {
    const current = await this.read(job);
    if (!current || current.holderId !== holderId) return false;
    const expiresAt = new Date(0).toISOString();
    return mergeIfUnchanged(
      this.table,
      { partitionKey: PARTITION, rowKey: safeKey(job), holderId: '', expiresAt },
      current.etag,
    );
  }
}

export interface LeaderJob {
  name: string;
  holderId: string;
  /** Longer than one run and than the tick interval, so the leader keeps the lease from tick to tick. */
  ttlMs: number;
  /** Release after the run (default false: the holder keeps leading until it stops renewing). */
  releaseAfter?: boolean;
}

export type LeaderRun<T> = { ran: true; result: T } | { ran: false; heldBy: string };

/**
 * Runs `fn` only on the instance holding the job's lease; call it on every tick from every instance.
 * The job itself should still be idempotent (an expired lease can overlap a slow run).
 */
export async function runIfLeader<T>(
  leases: LeaseStore,
  clock: Clock,
  job: LeaderJob,
  fn: () => Promise<T>,
): Promise<LeaderRun<T>> {
  const got = await leases.tryAcquire(job.name, job.holderId, job.ttlMs, clock.now());
  if (!got.acquired) return { ran: false, heldBy: got.heldBy };
  try {
    return { ran: true, result: await fn() };
  } finally {
    if (job.releaseAfter) await leases.release(job.name, job.holderId);
  }
}
