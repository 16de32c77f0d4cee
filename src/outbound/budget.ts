import type { TableClient } from '@azure/data-tables';
import { isConflict, isNotFound, isPreconditionFailed, safeKey, type Tables } from '../storage/tables.js';
import { LeaseStore } from './send-lease.js';
import { updateIfUnchanged } from '../storage/entities.js';
import { CONVERSATION_WINDOWS, earliestAllowed, emptyLog, forgetRequest, recordRequest, type WindowLog } from './windows.js';

/*
 * Table `OutboundBudget`: Teams' limits shared by every instance on the Storage account.
 *   PK 'tenant'             RK <tenant id>  → `next`: the first request slot nobody has claimed yet (ms)
 *   PK 'conv:<conversation>' RK 'w'          → `log`: that conversation's recent requests (WindowLog as JSON)
 *   PK 'worker'             RK <incarnation> → `upTo`: that worker's send lease (send-lease.ts)
 * A partition per conversation: a broadcast touches thousands of them at once, and no partition grows.
 * Both are read-modify-write with ETags: two instances never take the same slot or the same place in a window.
 */
export const BUDGET_TABLE = 'OutboundBudget';

export interface BudgetOptions {
  /** Teams' per-app, per-tenant limit (requests per second). */
  tenantPerSecond: number;
  /** The tenant's 1 s window is measured this much longer (jitter between planned and actual send). */
  guardMs: number;
  /** The same for each conversation's windows (its requests may wait longer for a tenant slot). */
  conversationGuardMs: number;
  /** How far ahead an instance claims tenant slots at once (fewer claims, a little unused budget at the end). */
  blockMs: number;
  now?: () => number;
}

interface TenantRow {
  next: number;
  etag: string;
}

/**
 * The per-tenant budget as a sequence of evenly spaced request slots, `(1 s + guard) / limit` apart. An
 * instance claims a block of the next free slots with one ETag-guarded write and sends at those times;
 * instances share the budget in proportion to what they have to send, joining or leaving changes nothing,
 * and no heartbeat is needed. Evenly spaced slots keep every sliding 1 s window under the limit.
 */
export class TenantBudget {
  readonly interval: number;
  private readonly pools = new Map<string, number[]>();
  private readonly rows = new Map<string, TenantRow>();
  private readonly claims = new Map<string, Promise<void>>();
  private readonly now: () => number;

  constructor(
    private readonly table: TableClient,
    private readonly opts: BudgetOptions,
  ) {
    this.interval = (1_000 + opts.guardMs) / opts.tenantPerSecond;
    this.now = opts.now ?? Date.now;
  }

  /**
   * A slot at or after `notBefore` that no other request of this tenant (on any instance) has. With `run` > 1, the
   * first of that many consecutive slots, the others taken too and left unused: its request may then leave up to
   * `run - 1` intervals later than the slot and every 1 s window still holds no more than the limit (the slots it
   * passes over are empty). For a request that keeps missing its slot (a starved event loop).
   */
  async take(tenant: string, notBefore: number, run = 1): Promise<number> {
    for (;;) {
      const pool = this.pool(tenant);
      const now = this.now();
      // A slot a little in the past is still good (that is jitter, covered by the guard); older ones are gone.
      while (pool.length && (pool[0] ?? 0) < now - this.interval) pool.shift();
      const i = pool.findIndex((s, at) => s >= notBefore - this.interval / 2 && this.consecutive(pool, at, run));
      if (i >= 0) return pool.splice(i, run)[0]!;
      await this.claimBlock(tenant, notBefore, run);
    }
  }

  /** Whether `pool[at]` and the `run - 1` slots after it follow one another an interval apart (one claim's). */
  private consecutive(pool: readonly number[], at: number, run: number): boolean {
    if (at + run > pool.length) return false;
    for (let k = at + 1; k < at + run; k++) {
      if (Math.abs((pool[k] ?? 0) - (pool[k - 1] ?? 0) - this.interval) > this.interval / 4) return false;
    }
    return true;
  }

  /** Hands back a slot that was not used (its conversation had no room), for the next request. */
  giveBack(tenant: string, slot: number): void {
    if (slot < this.now()) return;
    const pool = this.pool(tenant);
    const at = pool.findIndex((s) => s > slot);
    pool.splice(at < 0 ? pool.length : at, 0, slot);
  }

  /**
   * Hands the unused tail of this instance's claimed slots back to the tenant's row (a worker stopping), so the next
   * claim, by any instance, starts right after the last slot used instead of up to a block (≈250 ms of the tenant's
   * budget) later. Only while the row is as this instance last wrote it (its ETag): once another instance has claimed
   * after us, `next` is theirs and the slots are left unused. Either way this instance no longer sends in them.
   */
  async returnUnused(): Promise<void> {
    await Promise.allSettled([...this.claims.values()]);
    for (const [tenant, row] of [...this.rows]) {
      const pool = this.pool(tenant);
      const now = this.now();
      // The unused slots right before `next`, one interval apart, still to come (one that has passed is gone).
      let first = row.next;
      let i = pool.length - 1;
      for (; i >= 0; i--) {
        const slot = pool[i] ?? 0;
        if (Math.abs(first - this.interval - slot) > this.interval / 4 || slot < now) break;
        first = slot;
      }
      if (first >= row.next) continue;
      pool.splice(i + 1);
      const etag = await updateIfUnchanged(this.table, { partitionKey: 'tenant', rowKey: safeKey(tenant || '-'), next: first }, 'Merge', row.etag);
      if (etag === undefined) this.rows.delete(tenant);
      else this.rows.set(tenant, { next: first, etag });
    }
  }

  private pool(tenant: string): number[] {
    let pool = this.pools.get(tenant);
    if (!pool) this.pools.set(tenant, (pool = []));
    return pool;
  }

  /** One claim at a time per tenant; callers waiting for slots share it. */
  private claimBlock(tenant: string, notBefore: number, run = 1): Promise<void> {
    let claim = this.claims.get(tenant);
    if (!claim) {
      claim = this.claim(tenant, notBefore, run).finally(() => this.claims.delete(tenant));
      this.claims.set(tenant, claim);
    }
    return claim;
  }

  /** Claims a block, at least `run` slots long (a run of consecutive slots comes from one claim). */
  private async claim(tenant: string, notBefore: number, run: number): Promise<void> {
    const count = Math.max(run, Math.round(this.opts.blockMs / this.interval));
    const rk = safeKey(tenant || '-');
    for (let attempt = 0; attempt < 50; attempt++) {
      const row = this.rows.get(tenant) ?? (await this.read(rk));
      const start = Math.max(row?.next ?? 0, this.now(), notBefore);
      const next = start + count * this.interval;
      try {
        const entity = { partitionKey: 'tenant', rowKey: rk, next };
        const res = row
          ? await this.table.updateEntity(entity, 'Merge', { etag: row.etag })
          : await this.table.createEntity(entity);
        this.rows.set(tenant, { next, etag: res.etag ?? '' });
        const pool = this.pool(tenant);
        for (let i = 0; i < count; i++) pool.push(start + i * this.interval);
        pool.sort((a, b) => a - b);
        return;
      } catch (err) {
        if (!isConflict(err) && !isPreconditionFailed(err)) throw err;
        this.rows.delete(tenant); // another instance claimed first: read its `next` and claim after it
      }
    }
    throw new Error('could not claim tenant send slots (50 conflicts in a row)');
  }

  private async read(rk: string): Promise<TenantRow | undefined> {
    try {
      const e = await this.table.getEntity<{ next: number }>('tenant', rk);
      return { next: Number(e.next), etag: e.etag };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}

interface ConversationState {
  log: WindowLog;
  /** Undefined: no row known (create it); a stale ETag is found out by the write. */
  etag?: string;
}

/**
 * Each conversation's windows (7/1 s, 8/2 s, 60/30 s, 1,800/h) in a row shared by all instances. An instance
 * keeps the last state it read or wrote and writes with its ETag: a conversation only this instance sends to
 * costs one write per request; a write that loses to another instance re-reads and plans again.
 */
export class ConversationBudget {
  private readonly cache = new Map<string, ConversationState>();
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Requests of plans given up here, to take off in this instance's next write to their conversation (forgetLater). */
  private readonly later = new Map<string, number[]>();

  constructor(
    private readonly table: TableClient,
    private readonly guardMs: number,
    private readonly maxCached = 20_000,
  ) {}

  /** Runs `fn` alone for this conversation on this instance (the other instances are kept off by the ETag). */
  exclusive<T>(conversationId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(conversationId) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    this.locks.set(conversationId, tail);
    void tail.then(() => {
      if (this.locks.get(conversationId) === tail) this.locks.delete(conversationId);
    });
    return run;
  }

  /** When the next request to this conversation may leave, as far as this instance knows. */
  earliest(conversationId: string, from: number): number {
    const state = this.cache.get(conversationId);
    // Requests of plans given up here are not waited for, though not yet taken off in storage.
    const log = (this.later.get(conversationId) ?? []).reduce(forgetRequest, state?.log ?? emptyLog());
    return earliestAllowed(log, CONVERSATION_WINDOWS, from, this.guardMs);
  }

  /**
   * Records a request planned at `at`, and takes off the one recorded at `unused` (the plan this one replaces) in
   * the same write; false when another instance wrote first (state re-read: plan again).
   */
  async commit(conversationId: string, at: number, unused?: number): Promise<boolean> {
    const state = this.cache.get(conversationId) ?? { log: emptyLog() };
    const later = [...(this.later.get(conversationId) ?? [])];
    const kept = [...later, ...(unused === undefined ? [] : [unused])].reduce(forgetRequest, state.log);
    const log = recordRequest(kept, CONVERSATION_WINDOWS, at, this.guardMs);
    if (!(await this.write(conversationId, state, log))) return false;
    this.taken(conversationId, later);
    return true;
  }

  /**
   * Like `release`, but without a write of its own: taken off in this instance's next write to the conversation
   * (a plan, a release), for paths where a message's storage calls must not grow (a duplicate, someone else's
   * attempt). Until then, or until it ages out of the exact windows (30 s), the other instances still count it.
   */
  forgetLater(conversationId: string, at: number): void {
    const list = (this.later.get(conversationId) ?? []).filter((t) => t > at - 60_000);
    this.later.delete(conversationId);
    this.later.set(conversationId, [...list, at]);
    if (this.later.size > this.maxCached) {
      const oldest = this.later.keys().next().value;
      if (oldest !== undefined) this.later.delete(oldest);
    }
  }

  /** Those of `done` still waiting to be taken off are gone now (written). */
  private taken(conversationId: string, done: readonly number[]): void {
    const list = this.later.get(conversationId);
    if (!list || !done.length) return;
    for (const at of done) {
      const i = list.indexOf(at);
      if (i >= 0) list.splice(i, 1);
    }
    if (!list.length) this.later.delete(conversationId);
  }

  /**
   * Takes off a request recorded at `at` whose plan was given up before it left, with the ETag as it was taken:
   * left there, it would hold the conversation's windows fuller than they are, on every instance.
   */
  async release(conversationId: string, at: number): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const state = this.cache.get(conversationId) ?? (await this.refresh(conversationId));
      const later = [...(this.later.get(conversationId) ?? [])];
      const log = [...later, at].reduce(forgetRequest, state.log);
      if (log === state.log) return; // not (or no longer) logged: nothing to write
      if (await this.write(conversationId, state, log)) {
        this.taken(conversationId, later);
        return;
      }
    }
  }

  /** Teams said 429 for this conversation: nothing more to it before `until`, on any instance. */
  async pause(conversationId: string, until: number): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const state = this.cache.get(conversationId) ?? (await this.refresh(conversationId));
      if ((state.log.pausedUntil ?? 0) >= until) return;
      if (await this.write(conversationId, state, { ...state.log, pausedUntil: until })) return;
    }
  }

  private async write(conversationId: string, state: ConversationState, log: WindowLog): Promise<boolean> {
    const entity = { partitionKey: convPartition(conversationId), rowKey: 'w', log: JSON.stringify(log) };
    try {
      const res = state.etag
        ? await this.table.updateEntity(entity, 'Merge', { etag: state.etag })
        : await this.table.createEntity(entity);
      this.remember(conversationId, { log, etag: res.etag });
      return true;
    } catch (err) {
      // Not found: `forget` deleted the chat's send log (outbound/privacy.ts) under this instance's cached ETag.
      if (!isConflict(err) && !isPreconditionFailed(err) && !isNotFound(err)) throw err;
      await this.refresh(conversationId);
      return false;
    }
  }

  private async refresh(conversationId: string): Promise<ConversationState> {
    let state: ConversationState;
    try {
      const e = await this.table.getEntity<{ log: string }>(convPartition(conversationId), 'w');
      state = { log: JSON.parse(e.log) as WindowLog, etag: e.etag };
    } catch (err) {
      if (!isNotFound(err)) throw err;
      state = { log: emptyLog() };
    }
    this.remember(conversationId, state);
    return state;
  }

  private remember(conversationId: string, state: ConversationState): void {
    this.cache.delete(conversationId);
    this.cache.set(conversationId, state);
    if (this.cache.size > this.maxCached) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }
}

/** The partition of a conversation's windows (privacy: a person's 1:1 chat's send log goes with them). */
export const convPartition = (conversationId: string) => `conv:${safeKey(conversationId)}`;

export async function openBudgets(
  tables: Tables,
  opts: BudgetOptions,
): Promise<{ tenant: TenantBudget; conversations: ConversationBudget; leases: LeaseStore }> {
  const table = await tables.table(BUDGET_TABLE);
  return {
    tenant: new TenantBudget(table, opts),
    conversations: new ConversationBudget(table, opts.conversationGuardMs),
    leases: new LeaseStore(table),
  };
}
