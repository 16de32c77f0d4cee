import { odata, type TableClient } from '@azure/data-tables';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import { readEntity } from '../storage/entities.js';
import { isConflict, isPreconditionFailed, safeKey } from '../storage/tables.js';

/*
 * Rows `OutboundBudget` PK 'worker', RK <worker incarnation> → `upTo` (ms): no request of that worker leaves
 * later than this. A worker writes it ahead of its sends (a heartbeat that promises), every `everyMs` while it
 * holds claims, and sends only while a confirmed write covers the time.
 *
 * What that settles after a SIGKILL: an attempt whose claim says it leaves at `slot` (never earlier) and whose
 * worker's last `upTo` is before `slot` provably never left, so it can be sent again without a duplicate. Only
 * attempts with a slot at or before the last `upTo` — the last `everyMs` + a renewal's lag of the worker's
 * life — stay unconfirmed.
 */
const PARTITION = 'worker';

/** The lease was revoked by another worker (send-lease.ts `revoke`): this incarnation may promise nothing more. */
export class LeaseRevoked extends Error {}

/** A worker's stored promise. */
export interface LeaseRow {
  upTo: number;
  /** Ended by another worker: no renewal lands after it, so `upTo` is final. */
  revoked: boolean;
  etag: string;
}

export interface LeaseOptions {
  /** Renew this often while claims are out. */
  everyMs: number;
  /** A renewal never reaches further ahead than this. */
  maxReachMs: number;
  now: () => number;
}

/** The stored promises of every worker (one small partition). */
export class LeaseStore {
  constructor(private readonly table: TableClient) {}

  /** Writes a worker's `upTo` (created on first use, then ETag-guarded: an older write landing late is refused). */
  async write(incarnation: string, upTo: number, etag: string | undefined): Promise<string> {
    const entity = { partitionKey: PARTITION, rowKey: safeKey(incarnation), upTo };
    try {
      const res = etag
        ? await this.table.updateEntity(entity, 'Merge', { etag })
        : await this.table.createEntity(entity);
      return res.etag ?? '';
    } catch (err) {
      if (!isConflict(err) && !isPreconditionFailed(err)) throw err;
    }
    // A write of ours that landed although its answer was lost (the client retried): keep the larger value.
    // Or another worker ended the lease: then nothing more may be promised under it.
    const row = await this.row(incarnation);
    if (!row) throw new Error(`send lease ${incarnation} vanished`);
    if (row.revoked) throw new LeaseRevoked(`send lease ${incarnation} was revoked at ${row.upTo}`);
    return this.write(incarnation, Math.max(upTo, row.upTo), row.etag);
  }

  /**
   * Ends a worker's lease where it stands (ETag-guarded): no renewal of it lands afterwards, so that worker sends
   * nothing after the returned `upTo`, whatever the clocks say. Undefined when it has no lease row (then only
   * its claims' holds can settle its attempts). A worker whose lease is revoked while it lives goes on under a
   * new incarnation; what it held under the old one may only leave within the old promise.
   */
  async revoke(incarnation: string): Promise<number | undefined> {
    for (let tries = 0; tries < 10; tries++) {
      const row = await this.row(incarnation);
      if (!row) return undefined;
      if (row.revoked) return row.upTo;
      try {
        await this.table.updateEntity(
          { partitionKey: PARTITION, rowKey: safeKey(incarnation), revoked: true },
          'Merge',
          { etag: row.etag },
        );
        return row.upTo;
      } catch (err) {
        if (!isPreconditionFailed(err)) throw err; // renewed meanwhile: read the newer promise
      }
    }
    return undefined;
  }

  /** How far a worker's promise reached: undefined when it never wrote one (it never sent anything). */
  async upTo(incarnation: string): Promise<number | undefined> {
    return (await this.row(incarnation))?.upTo;
  }

  /** A worker's promise as stored (undefined: it never wrote one). */
  async read(incarnation: string): Promise<LeaseRow | undefined> {
    return this.row(incarnation);
  }

  /** Forgets workers whose last promise is older than `before` (long after any of their claims was settled). */
  async sweep(before: number): Promise<void> {
    const rows = this.table.listEntities<{ upTo: number }>({
      queryOptions: { filter: odata`PartitionKey eq ${PARTITION} and upTo lt ${before}`, select: ['upTo'] },
    });
    for await (const e of rows) await this.table.deleteEntity(PARTITION, e.rowKey ?? '').catch(() => {});
  }

  private async row(incarnation: string): Promise<LeaseRow | undefined> {
    const e = await readEntity<{ upTo: number; revoked?: boolean }>(this.table, PARTITION, safeKey(incarnation));
    return e ? { upTo: Number(e.upTo), revoked: e.revoked === true, etag: e.etag } : undefined;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** A claim out under the lease: the latest moment its request may leave (`need`), until it is released. */
export interface LeaseHold {
  /** Its request may now leave as late as `at` (a later slot was taken): renewed until a promise covers it. */
  need(at: number): void;
  release(): void;
}

/**
 * This worker's permission to send. While claims are out (`hold()`) that a confirmed promise does not cover yet,
 * it writes `upTo` = the renewal's start + `reach` every `everyMs`, where reach is what the recent renewals took
 * to land after the one before them started, and a quarter more + 10 ms (at least two intervals): the next
 * confirmed write normally arrives before the last one runs out, so sends do not wait, and the reach (what a kill
 * leaves unsure) is as short as storage allows. Idle, or with every held request already covered, nothing is
 * written: a lone message costs one renewal (before, one every `everyMs` from its claim until its request left).
 */
export class SendLease {
  /** Confirmed by storage: this worker sends nothing after it. */
  private upTo = 0;
  private etag: string | undefined;
  /** Each held claim's latest moment its request may leave. */
  private readonly holds = new Set<{ until: number }>();
  /** The latest moment a send waiting in `cover` asked for (waits for a promise as well as the holds do). */
  private waitingFor = Number.NEGATIVE_INFINITY;
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeLoop: (() => void) | undefined;
  private readonly waiters: (() => void)[] = [];
  /** ms from each renewal's start to the next renewal's confirmation (what the reach must cover). */
  private readonly gaps: number[] = [];
  private lastStart: number | undefined;

  /** Incarnations whose lease another worker revoked, with their final promise (what they held may leave within it). */
  private readonly retired = new Map<string, number>();
  private current: string;

  constructor(
    private readonly store: LeaseStore,
    /** Names this worker; each incarnation adds a random part (a revoked lease is never renewed). */
    private readonly name: string,
    private readonly log: Logger,
    private readonly opts: LeaseOptions,
  ) {
    this.current = `${name}.${randomBytes(4).toString('hex')}`;
  }

  /** The name claims are held under now (the lease row's key). */
  get incarnation(): string {
    return this.current;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run().catch((err: unknown) => this.log.error({ err }, 'outbound send lease stopped'));
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeLoop?.();
    await this.loop;
    this.wakeAll();
  }

  /**
   * A claim is out until released, its request leaving at the latest at `until` (unknown: renewed as long as it
   * is out): the lease is renewed until a confirmed promise reaches that far, as the renewals' reach allows.
   */
  hold(until = Number.POSITIVE_INFINITY): LeaseHold {
    const h = { until };
    this.holds.add(h);
    this.wakeLoop?.();
    return {
      need: (at) => {
        h.until = at;
        if (this.holds.has(h)) this.wakeLoop?.();
      },
      release: () => this.holds.delete(h),
    };
  }

  /** Is a renewal wanted: a held claim, or a send waiting, not covered by the confirmed promise yet. */
  private get wanted(): boolean {
    if (this.holds.size === 0) return false;
    if (this.waitingFor > this.upTo) return true;
    for (const h of this.holds) if (h.until > this.upTo) return true;
    return false;
  }

  /** The confirmed promise: nothing is sent after it (ms). */
  get upToMs(): number {
    return this.upTo;
  }

  /** May a request held under `incarnation` (default: the current one) leave at `at`? (A confirmed promise covers it.) */
  covers(at: number, incarnation = this.current): boolean {
    if (incarnation !== this.current) return at <= (this.retired.get(incarnation) ?? Number.NEGATIVE_INFINITY);
    return at <= this.upTo;
  }

  /** Was this one of this worker's incarnations (never revoke our own lease)? */
  owns(incarnation: string): boolean {
    return incarnation === this.current || this.retired.has(incarnation);
  }

  /** Waits until a promise covers `at`, at most until `deadline`; false when none came. */
  async cover(at: number, deadline: number): Promise<boolean> {
    while (!this.covers(at)) {
      const now = this.opts.now();
      if (now >= deadline || !this.running) return false;
      if (at > this.waitingFor) {
        this.waitingFor = at;
        this.wakeLoop?.();
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, deadline - now);
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.waiters.push(done);
      });
    }
    return true;
  }

  /** How far ahead the next renewal reaches: what the latest renewals needed, with a margin. */
  private get reachMs(): number {
    const recent = this.gaps.length ? Math.max(...this.gaps) : this.opts.everyMs * 2;
    return Math.min(this.opts.maxReachMs, Math.max(2 * this.opts.everyMs, 1.25 * recent + 10));
  }

  private wakeAll(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (!this.wanted) {
        // Idle, or every held request covered: the next renewal's gap is not a measure of storage.
        this.lastStart = undefined;
        await new Promise<void>((resolve) => {
          this.wakeLoop = resolve;
          if (this.wanted || !this.running) resolve();
        });
        continue;
      }
      const started = this.opts.now();
      await this.renew(started);
      await sleep(started + this.opts.everyMs - this.opts.now());
    }
  }

  private async renew(started: number): Promise<void> {
    // Never lower than a promise already confirmed (the reach shrinks as storage speeds up): whoever reads the
    // row — a successor deciding what provably never left — must read the furthest this worker may send.
    const upTo = Math.max(this.upTo, started + this.reachMs);
    try {
      this.etag = await this.store.write(this.incarnation, upTo, this.etag);
      this.upTo = upTo; // never lower: upTo started from it
      const confirmed = this.opts.now();
      if (this.lastStart !== undefined) {
        this.gaps.push(confirmed - this.lastStart);
        if (this.gaps.length > 20) this.gaps.shift();
      }
      this.lastStart = started;
    } catch (err) {
      if (err instanceof LeaseRevoked) {
        // Another worker took us for dead and settled our claims by the last promise: go on under a new name.
        this.log.warn({ incarnation: this.current }, 'outbound send lease revoked by another worker; renewing under a new one');
        this.retired.set(this.current, this.upTo);
        this.current = `${this.name}.${randomBytes(4).toString('hex')}`;
        this.upTo = 0;
      } else this.log.warn({ err }, 'could not renew the outbound send lease; sends wait for it');
      this.etag = undefined;
    }
    this.wakeAll();
  }
}
