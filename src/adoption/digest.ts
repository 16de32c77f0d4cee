import { DateTime } from 'luxon';
import type { AdaptiveCard } from '../cards/template.js';
import type { Clock } from '../clock.js';
import type { Outbox } from '../outbound/message.js';
import { digestCard } from './cards.js';
import { addDays, dayIn, weekOf } from './daily.js';
import type { AdoptionService } from './service.js';
import type { StateStore } from './store.js';

/**
 * The weekly digest: on the configured weekday (Monday by default), from the configured hour in the
 * configured time zone, the rollout team's channel gets a card on the last whole week (Monday to Sunday
 * before that day): the measures against their targets, the weeks' trends as Teams charts (each with a text fallback), the top gaps and the oldest open issues.
 * Once per week: the card is queued under the week's key (the outbox sends a key once), then the week is recorded
 * with a row (`AdoptionState`, PK 'digest'), so later runs and other instances do nothing; a run that fails or
 * dies before the record leaves the week to the next tick. Not before the rollout channel is set up (`setup rollout`).
 */

export interface DigestSchedule {
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  weekday: number;
  hour: number;
  timeZone: string;
}

/**
 * Pure: the ISO week ('2027-W02') whose digest is due at `now`, or null outside the digest's day. Days are UTC
 * days (daily.ts): east of UTC the digest's hour can come while the week it reports is still under way in UTC
 * (Monday 08:00 in Auckland is Sunday 19:00 UTC), so it waits for the local week's Monday to begin in UTC too.
 */
export function digestWeekDue(now: Date, s: DigestSchedule): string | null {
  const local = DateTime.fromJSDate(now, { zone: s.timeZone });
  if (local.weekday !== s.weekday || local.hour < s.hour) return null;
  if (dayIn(now) < weekOf(dayIn(now, s.timeZone))) return null;
  return `${local.weekYear}-W${String(local.weekNumber).padStart(2, '0')}`;
}

export interface DigestDeps {
  adoption: AdoptionService;
  state: StateStore;
  outbox: Outbox;
  clock: Clock;
  schedule: DigestSchedule;
  /** Brings the figures up to date first (the roll-up), so the digest shows this morning's. */
  refresh: () => Promise<unknown>;
  dashboardUrl: () => string;
  /**
   * Whether `setup rollout` was done. Until it is, the week is not claimed: a digest queued for no channel is
   * recorded as not delivered and the week spent, so a channel set up later that day would get nothing.
   */
  channelReady?: () => Promise<boolean>;
}

export class DigestJob {
  /** Weeks this instance knows are claimed: saves a 409 round trip on every later tick of the day. */
  private readonly claimed = new Set<string>();

  constructor(private readonly d: DigestDeps) {}

  /** One tick: sends this week's digest if it is due and nobody sent it yet. Returns the week sent, or null. */
  async run(): Promise<string | null> {
    const now = this.d.clock.now();
    const week = digestWeekDue(now, this.d.schedule);
    if (!week || this.claimed.has(week)) return null;
    if (this.d.channelReady && !(await this.d.channelReady())) return null;
    if (await this.d.state.isClaimed('digest', week)) {
      this.claimed.add(week);
      return null;
    }
    await this.d.refresh();
    await this.d.outbox.enqueue([
      { op: 'send', key: `adoption-digest|${week}`, to: { kind: 'channel', role: 'rollout' }, content: await this.card() },
    ]);
    // Recorded only once queued: an instance that dies before this leaves the week open, and the next tick (here
    // or on another instance) queues it again under the same key, which the outbox sends once. Claimed first,
    // a death between claim and queue lost that week's digest for good.
    const first = await this.d.state.claim('digest', week, now);
    this.claimed.add(week);
    return first ? week : null;
  }

  /** The digest card as it would be sent now. */
  async card(): Promise<AdaptiveCard> {
    const now = this.d.clock.now();
    // The week that ended before the digest's day (in its time zone), not the one begun that morning.
    const week = addDays(weekOf(dayIn(now, this.d.schedule.timeZone)), -7);
    const [overview, questions, oldest] = await Promise.all([
      this.d.adoption.overview(undefined, week),
      // The gaps of that same week, Monday to Sunday: not the seven days up to this morning.
      this.d.adoption.questions(7, addDays(week, 6)),
      this.d.adoption.oldestOpen(),
    ]);
    return digestCard({
      week,
      now,
      asOf: overview.asOf,
      statuses: overview.measures,
      weeks: overview.weeks,
      openByCategory: overview.issuesNow?.byCategory ?? {},
      open: overview.issuesNow ? { total: overview.issuesNow.open, untriaged: overview.issuesNow.untriaged, pastSla: overview.issuesNow.pastSla } : null,
      gaps: questions.gaps,
      oldest,
      dashboardUrl: this.d.dashboardUrl(),
    });
  }
}
