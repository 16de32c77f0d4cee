/*
 * The scheduled clean-up of rows that expire (Dedupe claims, export files). It runs on the instance
 * holding its lease (the scheduler's job), deletes at most `limit` rows per store per run, and goes on
 * where it stopped next time, so no run is long and no user-facing request ever scans for expired rows.
 */

/** A store with rows that expire. */
export interface ExpiringStore {
  readonly name: string;
  /** Deletes up to `limit` rows that expired before `now`; returns how many. */
  sweepExpired(now: Date, limit: number): Promise<number>;
}

export interface ExpiryLog {
  info(obj: object, msg: string): void;
}

export const EXPIRY_JOB = 'storage-expiry';

/** A scheduler job (`Scheduler.add`) that sweeps each store in turn. */
export function expiryJob(
  stores: ExpiringStore[],
  opts: { everyMs?: number; limit?: number; log?: ExpiryLog } = {},
): { name: string; everyMs: number; run(now: Date): Promise<void> } {
  const limit = opts.limit ?? 500;
  return {
    name: EXPIRY_JOB,
    everyMs: opts.everyMs ?? 15 * 60_000,
    async run(now) {
      const deleted: Record<string, number> = {};
      for (const store of stores) deleted[store.name] = await store.sweepExpired(now, limit);
      if (Object.values(deleted).some((n) => n > 0)) opts.log?.info({ deleted }, 'expired rows deleted');
    },
  };
}
