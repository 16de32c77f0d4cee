import { odata, type TableClient } from '@azure/data-tables';
import { DateTime } from 'luxon';
import { escapeText } from '../cards/template.js';
import type { Clock } from '../clock.js';
import type { Rollout } from '../rollout/model.js';
import { readEntity } from '../storage/entities.js';
import { deleteIfThere, isConflict, safeKey, type Tables } from '../storage/tables.js';
import type { CelebrationService } from './celebrations.js';
import type { AckStore, DeliveryRows } from './deliveries.js';
import type { Plan, Send } from './model.js';

/**
 * Automatic wins from the rollout's own data, each rule switched on in the plan file's `celebrations`
 * and each win posted once: the Nth issue resolved, the first week with no P1 open, a cohort whose
 * members all acknowledged its launch message, a champion who resolved N issues in a month.
 */

// ---- the rules, as plain functions ---------------------------------------------------------------------

/**
 * Which milestone to celebrate now: the highest one reached and not yet celebrated. Lower ones reached at
 * the same time are marked done without a post (turning the rule on late posts one win, not five).
 */
export function milestonesToMark(resolved: number, milestones: readonly number[], fired: ReadonlySet<number>): { celebrate?: number; quietly: number[] } {
  const reached = milestones.filter((m) => m <= resolved && !fired.has(m)).sort((a, b) => a - b);
  if (!reached.length) return { quietly: [] };
  return { celebrate: reached[reached.length - 1], quietly: reached.slice(0, -1) };
}

/**
 * The no-P1 clock: it starts when the log has issues and none is an open P1, and stops when one is open.
 * Seven days on the clock is the win.
 */
export function noP1Week(clearSince: string, openP1: number, anyIssues: boolean, now: Date): { clearSince: string; win: boolean } {
  if (openP1 > 0 || !anyIssues) return { clearSince: '', win: false };
  const since = clearSince || now.toISOString();
  return { clearSince: since, win: now.getTime() - Date.parse(since) >= 7 * 86_400_000 };
}

/** A cohort acknowledged its launch message when everyone it reached 1:1 pressed "Got it". */
export function allAcknowledged(reached: readonly string[], acked: ReadonlySet<string>): boolean {
  return reached.length > 0 && reached.every((k) => acked.has(k.toLowerCase()));
}

/** Champions at or past the month's threshold. */
export function championsPast(counts: ReadonlyMap<string, { name: string; count: number }>, champions: readonly string[], threshold: number): { id: string; name: string; count: number }[] {
  if (threshold <= 0) return [];
  const ids = new Set(champions.map((c) => c.toLowerCase()));
  return [...counts.entries()]
    .filter(([id, v]) => ids.has(id.toLowerCase()) && v.count >= threshold)
    .map(([id, v]) => ({ id, ...v }));
}

// ---- reading the issue log -------------------------------------------------------------------------------

/** What the win rules need from the issue log (read-only; src/issues is not changed for it). */
export interface IssueFacts {
  /** Issues resolved or closed so far, counted until `atLeast` is reached (it may stop there). */
  resolvedCount(atLeast: number): Promise<number>;
  /** Open issues with priority P1. */
  openP1(): Promise<number>;
  /** Whether any issue was ever logged. */
  anyIssues(): Promise<boolean>;
  /** Issues each person set to Resolved since `since`, with their name. */
  resolvedBy(since: Date): Promise<Map<string, { name: string; count: number }>>;
}

// ---- fired once ----------------------------------------------------------------------------------------

/*
 * Table `BroadcastWins`
 *   PK 'win'    RK <win key>  → the win was taken (created once: 409 for a second instance)
 *   PK 'state'  RK 'noP1'     → clearSince (ISO), the no-P1 clock
 */
export class WinStore {
  private constructor(private readonly table: TableClient) {}

  static async open(tables: Tables): Promise<WinStore> {
    return new WinStore(await tables.table('BroadcastWins'));
  }

  /** Takes a win; false when it was taken before (by this or another instance). */
  async take(key: string): Promise<boolean> {
    try {
      await this.table.createEntity({ partitionKey: 'win', rowKey: safeKey(key) });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  async taken(key: string): Promise<boolean> {
    return (await readEntity(this.table, 'win', safeKey(key))) !== undefined;
  }

  /**
   * The champion-of-the-month wins taken for a person (`champion|<id>|<yyyy-MM>`: the key names them), by
   * row key and month; for `my data` and `forget`. One range of rows per key they go by.
   */
  async championWinsOf(ids: readonly string[]): Promise<{ rowKey: string; month: string }[]> {
    const out = new Map<string, string>();
    for (const id of new Set(ids.map((i) => i.toLowerCase()))) {
      const from = safeKey(`champion|${id}|`);
      const rows = this.table.listEntities({
        queryOptions: { filter: odata`PartitionKey eq 'win' and RowKey ge ${from} and RowKey lt ${`${from}~`}`, select: ['rowKey'] },
      });
      for await (const r of rows) {
        const rowKey = String(r.rowKey);
        out.set(rowKey, rowKey.slice(from.length));
      }
    }
    return [...out].map(([rowKey, month]) => ({ rowKey, month }));
  }

  /** Deletes a taken win's row (a forgotten champion's). Missing is fine: forget may run again. */
  async drop(rowKey: string): Promise<void> {
    await deleteIfThere(this.table, 'win', rowKey);
  }

  async clearSince(): Promise<string> {
    const e = await readEntity<{ clearSince: string }>(this.table, 'state', 'noP1');
    return e ? String(e.clearSince ?? '') : '';
  }

  async setClearSince(value: string): Promise<void> {
    await this.table.upsertEntity({ partitionKey: 'state', rowKey: 'noP1', clearSince: value }, 'Replace');
  }
}

export interface WinCheckDeps {
  wins: WinStore;
  facts: IssueFacts;
  celebrations: CelebrationService;
  plan(): Plan;
  rollout(): Rollout;
  championIds(): Promise<string[]>;
  sends(): Promise<Send[]>;
  deliveries: DeliveryRows;
  acks: AckStore;
  clock: Clock;
  /** Whether `setup support` was done: a win posted before would go to no channel and be spent for good. */
  supportChannelReady: () => Promise<boolean>;
}

/**
 * Runs every enabled rule; a win is posted only once the support channel is set up. Each is posted under a key of
 * its own (the celebration's id and the outbox's key come from it, so posting twice posts once), then recorded as taken.
 */
export class WinCheck {
  constructor(private readonly d: WinCheckDeps) {}

  async run(): Promise<string[]> {
    const rules = this.d.plan().wins;
    const posted: string[] = [];
    if (rules.resolvedMilestones.length) posted.push(...(await this.milestones(rules.resolvedMilestones)));
    if (rules.noP1Week) posted.push(...(await this.noP1()));
    if (rules.cohortAcknowledged) posted.push(...(await this.cohorts()));
    if (rules.championMonthly > 0) posted.push(...(await this.champions(rules.championMonthly)));
    return posted;
  }

  private async fire(key: string, what: string, people: { id: string; name: string }[] = []): Promise<string[]> {
    // Asked only when a win is due (a few a month): the rules' clocks (no P1 since…) run whether or not it is set up.
    if (!(await this.d.supportChannelReady()) || (await this.d.wins.taken(key))) return [];
    // Taken only once posted: a check that dies between the two leaves the win to the next check, whose post of
    // the same key is the same celebration and the same message (sent once). Taken first, it was lost for good.
    await this.d.celebrations.postWin(key, what, people);
    return (await this.d.wins.take(key)) ? [key] : [];
  }

  private async milestones(milestones: number[]): Promise<string[]> {
    const fired = new Set<number>();
    for (const m of milestones) if (await this.d.wins.taken(`resolved-${m}`)) fired.add(m);
    const open = milestones.filter((m) => !fired.has(m));
    if (!open.length) return [];
    const count = await this.d.facts.resolvedCount(Math.max(...open));
    const { celebrate, quietly } = milestonesToMark(count, milestones, fired);
    for (const m of quietly) await this.d.wins.take(`resolved-${m}`);
    if (celebrate === undefined) return [];
    return this.fire(`resolved-${celebrate}`, `**${celebrate.toLocaleString('en-GB')} issues resolved.** Every one of them is a colleague who can get on with their work in the new system. Thank you, champions!`);
  }

  private async noP1(): Promise<string[]> {
    if (await this.d.wins.taken('no-p1-week')) return [];
    const [openP1, anyIssues, clearSince] = await Promise.all([this.d.facts.openP1(), this.d.facts.anyIssues(), this.d.wins.clearSince()]);
    const next = noP1Week(clearSince, openP1, anyIssues, this.d.clock.now());
    if (next.clearSince !== clearSince) await this.d.wins.setClearSince(next.clearSince);
    if (!next.win) return [];
    return this.fire('no-p1-week', '**A whole week with no P1 issue open.** The most urgent problems are being fixed faster than they come in.');
  }

  private async cohorts(): Promise<string[]> {
    const launch = new Set(this.d.plan().messages.filter((m) => m.launch).map((m) => m.id));
    const out: string[] = [];
    for (const send of await this.d.sends()) {
      if (send.source !== 'plan' || !launch.has(send.messageId) || send.status !== 'done' || !send.cohortId) continue;
      const key = `cohort-ack|${send.cohortId}|${send.messageId}`;
      if (await this.d.wins.taken(key)) continue;
      const [reached, acked] = await Promise.all([this.d.deliveries.reachedUsers(send.id), this.d.acks.who(send.ackFor)]);
      if (!allAcknowledged(reached, acked)) continue;
      // The name comes from the rollout file and the win's text is markdown: shown as written, never as formatting.
      const cohort = escapeText(this.d.rollout().cohorts.find((c) => c.id === send.cohortId)?.name ?? send.cohortId);
      out.push(...(await this.fire(key, `**${cohort}: everyone acknowledged the launch message** (${reached.length} of ${reached.length}). Ready for go-live!`)));
    }
    return out;
  }

  private async champions(threshold: number): Promise<string[]> {
    const zone = this.d.plan().timeZone;
    const month = DateTime.fromJSDate(this.d.clock.now(), { zone }).startOf('month');
    const [counts, champions] = await Promise.all([this.d.facts.resolvedBy(month.toJSDate()), this.d.championIds()]);
    const out: string[] = [];
    for (const c of championsPast(counts, champions, threshold)) {
      out.push(
        ...(await this.fire(
          `champion|${c.id.toLowerCase()}|${month.toFormat('yyyy-LL')}`,
          `${c.count} issues resolved in ${month.toFormat('LLLL yyyy')}. Colleagues are back at work because of you.`,
          [{ id: c.id, name: c.name }],
        )),
      );
    }
    return out;
  }
}
