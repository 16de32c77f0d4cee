import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import { type AdaptiveCard, escapeText } from '../cards/template.js';
import type { Clock } from '../clock.js';
import { formatWhen } from '../issues/cards.js';
import { RRule } from '../recurrence/rrule.js';
import type { Rollout } from '../rollout/model.js';
import { allows, type Permission } from '../roles/permissions.js';
import type { Person, Role } from '../roles/roles.js';
import { anyRecipient, type AudienceDirectory, audienceChoices, audienceFromChoice, audienceFromTyped, audienceLabel, resolveAudience, TYPED_AUDIENCE } from './audience.js';
import type { AnnounceErrors, AnnounceValues, Confirmation, PlanItem } from './cards.js';
import { type AckStore, anyoneUnacknowledged, type DeliveryRows } from './deliveries.js';
import {
  type Audience,
  type BroadcastChannel,
  channelNotSetUp,
  channelRecipient,
  type Delivery,
  failedUnconfirmed,
  mayHaveReached,
  type MessageContent,
  type Plan,
  type PlanMessage,
  type Send,
  type SendSource,
  STAGE_LABEL,
  TEXT_LIMITS,
} from './model.js';
import { mapLimit } from '../map-limit.js';
import { PLAN_ID } from './plan.js';
import { type BroadcastRunner, type ChatInfo, delayedNotice, retryDelayMs } from './runner.js';
import { allOccurrences, firstExisting, nextOccurrences, occurrencesBetween, wallTime } from './schedule.js';
import type { SendStore } from './sends.js';
import { listWithin } from '../text/fit.js';
import { people } from '../text/count.js';

/**
 * The communication plan as the Teams layer calls it: each operation takes who is asking (their role
 * checked again here, whatever the registry did) and plain values, and returns plain results that
 * src/teams/broadcast.ts renders with cards.ts. What recipients receive goes through the runner and the
 * outbound path, never inside the caller's turn.
 */

export interface Caller {
  person: Person;
  role: Role;
}

export interface BroadcastServiceDeps {
  sends: SendStore;
  deliveries: DeliveryRows;
  acks: AckStore;
  runner: BroadcastRunner;
  plan(): Plan;
  rollout(): Rollout;
  directory: AudienceDirectory;
  chatOf(userKey: string): Promise<ChatInfo | undefined>;
  /** Whether `setup <role>` was done for the channel. */
  channelReady(role: BroadcastChannel): Promise<boolean>;
  /** The conversation id (root) of the channel set up for the role, if it was. */
  channelConversation?(role: BroadcastChannel): Promise<string | undefined>;
  clock: Clock;
  /** How late a scheduled message may still go out (the app was down at its time). */
  graceMs: number;
  /** How long a Send press waits to learn its audience has anyone (AUDIENCE_CHECK_MS unless a test shortens it). */
  audienceCheckMs?: number;
  /** Tells the rollout team something once per `key` (1:1, else the triage channel). */
  tellRolloutTeam?(key: string, text: string): Promise<void>;
}

export type Refusal = { kind: 'refused'; text: string } | { kind: 'message'; text: string };

/** Which page of the plan: the first, a typed page number, the one after or before a page shown (its cursor), or a card too old to say. */
export type PlanAt =
  | { kind: 'start' }
  | { kind: 'number'; index: number }
  | { kind: 'next' | 'previous'; cursor: string }
  | { kind: 'outdated' };

export interface PlanPage {
  items: PlanItem[];
  /** The first item's position in the plan as it is now (0-based), and how many items it has. */
  first: number;
  total: number;
  /** This page, for the card's More / Previous (planCursor). */
  cursor: string;
  hasPrevious: boolean;
  hasNext: boolean;
  /** Why this page and not the one asked for ('' when it is the one asked for). */
  notice: string;
}

/**
 * A page of the plan as its card carries it: where it began then, and the ids it showed ("6:msg-a,msg-b"). Plan
 * message ids are lower-case letters, digits and dashes, send ids add dots: neither has ':' or ','.
 */
const PLAN_CURSOR = /^\d{1,6}:[a-z0-9.-]{1,80}(,[a-z0-9.-]{1,80}){0,11}$/;

function planCursor(at: number, ids: readonly string[]): string {
  return ids.length ? `${at}:${ids.join(',')}` : '';
}

function readPlanCursor(cursor: string): { at: number; ids: string[] } | undefined {
  if (!PLAN_CURSOR.test(cursor)) return undefined;
  const [at, ids] = cursor.split(':') as [string, string];
  return { at: Number(at), ids: ids.split(',') };
}

const PAGE_SIZE = 6;
/**
 * How long one plan item's "When" and "Status" may be. A message to every cohort lists each cohort's own time
 * (the rollout file allows 200 cohorts of 120-character names: some 35,000 characters for one message), and a
 * page of six such items was several times Teams' 40 KB: `plan` answered nothing. Six items at these lengths
 * stay well under it; what does not fit is counted ("… and 180 more cohorts").
 */
const PLAN_WHEN_CHARS = 1_000;
const PLAN_STATUS_CHARS = 600;

/**
 * What one plan message's status reads at most (see sendsOfMessage): its sends by `send <id>` (and their
 * reminders), its plan sends when not repeating (one per cohort, more only after edits that moved its time),
 * and those under way.
 */
const MANUAL_SENDS_READ = 200;
const PLAN_SENDS_READ = 1_000;
const RUNNING_READ = 1_000;

/** How long a Send press waits to learn that its audience has anyone in it (within the turn Teams waits for). */
const AUDIENCE_CHECK_MS = 5_000;

/** Checking who has the app before a send costs a read per person; past this many it is left to the send. */
const CONFIRM_CHECK_LIMIT = 500;

const refused = (): Refusal => ({ kind: 'refused', text: 'That is for the rollout team only. If you need it, ask your rollout team.' });
const shortHash = (text: string, n = 8) => createHash('sha256').update(text).digest('hex').slice(0, n);

/** A confirmation card to draw (send <id>). */
type Confirm = { kind: 'confirm'; confirmation: Confirmation };

export class BroadcastService {
  /** Notices already handed to the outbound path by this instance (it sends each key once anyway). */
  private readonly told = new Set<string>();

  constructor(private readonly d: BroadcastServiceDeps) {}

  private get now(): Date {
    return this.d.clock.now();
  }

  private may(caller: Caller, permission: Permission): boolean {
    return allows(caller.role, permission);
  }

  get timeZone(): string {
    return this.d.plan().timeZone;
  }

  planMessage(id: string): PlanMessage | undefined {
    const key = id.trim().toLowerCase();
    return this.d.plan().messages.find((m) => m.id === key);
  }

  // ---- plan ---------------------------------------------------------------------------------------------

  /**
   * A page of the plan: its messages in file order, then announcements (newest first), with their status. A
   * page is asked for from the one before or after it (`next` / `previous` with that page's cursor), not by
   * position: a message taken out of the file, or added, between two presses moves no other message onto or off
   * the page asked for (see planCursor). `plan 3` (typed) is by position: the plan as it is now.
   */
  async planPage(caller: Caller, at: PlanAt): Promise<PlanPage | Refusal> {
    if (!this.may(caller, 'broadcast.manage')) return refused();
    const plan = this.d.plan();
    const rollout = this.d.rollout();
    const announced = await this.d.sends.announcements();
    const order = [...plan.messages.map((m) => m.id), ...announced.map((a) => a.id)];
    let start = 0;
    let notice = '';
    if (at.kind === 'number') {
      // A page past the end is the last page, said so (not its last message alone, a page of its own).
      const pages = Math.max(1, Math.ceil(order.length / PAGE_SIZE));
      start = Math.min(Math.max(0, at.index), pages - 1) * PAGE_SIZE;
      if (at.index >= pages) notice = `The plan has ${pages === 1 ? '1 page' : `${pages} pages`}; here is the last.`;
    }
    else if (at.kind === 'outdated') notice = 'This card was made by an earlier version of the app; here is the plan from its start.';
    else if (at.kind !== 'start') {
      const cursor = readPlanCursor(at.cursor);
      if (!cursor) notice = 'This card is out of date; here is the plan from its start.';
      else if (at.kind === 'next') {
        // After the last message of that page still in the plan; none left: where that page began.
        const last = cursor.ids.findLast((id) => order.includes(id));
        start = last === undefined ? Math.min(cursor.at, order.length) : order.indexOf(last) + 1;
      } else {
        // Before the first message of that page still in the plan; none left: where that page began.
        const first = cursor.ids.find((id) => order.includes(id));
        start = Math.max(0, (first === undefined ? Math.min(cursor.at, order.length) : order.indexOf(first)) - PAGE_SIZE);
      }
    }
    const shown = order.slice(start, start + PAGE_SIZE);
    const sends = await this.sendsForPlanPage(shown);
    const cancelled = shown.some((id) => this.planMessage(id)) ? await this.d.sends.cancelled() : new Map<string, string>();
    const items: PlanItem[] = [];
    for (const id of shown) {
      const m = plan.messages.find((x) => x.id === id);
      if (m) {
        items.push({
          id: m.id,
          stage: STAGE_LABEL[m.stage],
          title: m.title,
          audience: audienceLabel(m.audience, rollout),
          when: this.describeWhen(m, plan, rollout),
          status: this.statusOf(m, sends.filter((s) => s.messageId === m.id && s.source !== 'reminder'), cancelled.get(m.id) === m.whenText),
        });
        continue;
      }
      const s = sends.find((x) => x.id === id && x.source === 'announce');
      if (!s) continue;
      items.push({
        id: s.id,
        stage: 'Announcement',
        title: s.content.title,
        audience: s.audienceLabel,
        when: `${formatWhen(s.dueAt, plan.timeZone)}${s.requestedBy ? ` (by ${s.requestedBy.name})` : ''}`,
        status: sendStatus(s, plan.timeZone),
      });
    }
    return {
      items,
      first: start,
      total: order.length,
      cursor: planCursor(start, shown),
      hasPrevious: start > 0,
      hasNext: start + shown.length < order.length,
      notice,
    };
  }

  /** The sends the page's items need: the page's announcements, and the sends of its plan messages. */
  private async sendsForPlanPage(ids: readonly string[]): Promise<Send[]> {
    const out = await mapLimit([...ids], 6, async (id) => {
      const m = this.planMessage(id);
      if (m) return this.sendsOfMessage(m);
      const s = await this.d.sends.get(id);
      return s ? [s] : [];
    });
    return out.flat();
  }

  /**
   * A plan message's sends its status needs, newest first, read by their ids (not every send of the plan, nor
   * every send of the message: a daily message adds one a day): those under way (the `active` rows, whatever
   * their time), those sent with `send <id>`, and its plan sends — for a repeating message only those around
   * each cohort's last and next time, which is what its status tells.
   */
  private async sendsOfMessage(m: PlanMessage): Promise<Send[]> {
    const byId = new Map<string, Send>();
    const add = (list: Send[]) => list.forEach((s) => s.messageId === m.id && byId.set(s.id, s));
    const ranges: [string, string, number][] = [[`${m.id}.`, `${m.id}/`, MANUAL_SENDS_READ]];
    if (m.when.kind !== 'every') ranges.push([`p.${m.id}.`, `p.${m.id}/`, PLAN_SENDS_READ]);
    else {
      const plan = this.d.plan();
      const now = this.now;
      const byTarget = new Map<string, { last?: Date; next?: Date }>();
      for (const o of allOccurrences(m, plan, this.d.rollout())) {
        const t = byTarget.get(o.cohortId) ?? {};
        if (o.at <= now) t.last = o.at;
        else t.next ??= o.at;
        byTarget.set(o.cohortId, t);
      }
      const stamp = (d: Date) => DateTime.fromJSDate(d, { zone: 'utc' }).toFormat("yyyyLLdd'T'HHmm");
      for (const [cohortId, t] of byTarget) {
        // A week before its last time (one skipped still finds the one before) to two days after its next (an
        // edit that moved it within its day keeps its occurrence, under the id of its old time).
        const from = new Date((t.last ?? t.next)!.getTime() - 8 * 86_400_000);
        const to = new Date((t.next ?? t.last)!.getTime() + 2 * 86_400_000);
        const prefix = `p.${m.id}.${cohortId || 'all'}.`;
        ranges.push([`${prefix}${stamp(from)}`, `${prefix}${stamp(to)}`, 40]);
      }
    }
    await mapLimit(ranges, 8, async ([from, to, limit]) => add(await this.d.sends.inRange(from, to, limit)));
    // Under way, wherever their time falls (a send started long ago and still sending, or held).
    add(await this.unfinishedSendsOf(m.id, new Set(byId.keys())));
    return [...byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** A plan message's sends not finished (its `send <id>`s, their reminders, its plan sends), read by their ids' prefixes. */
  private async unfinishedSendsOf(messageId: string, known: ReadonlySet<string> = new Set()): Promise<Send[]> {
    const active = (
      await Promise.all([
        this.d.sends.activeInRange(`${messageId}.`, `${messageId}/`, RUNNING_READ),
        this.d.sends.activeInRange(`p.${messageId}.`, `p.${messageId}/`, RUNNING_READ),
      ])
    ).flat();
    const read = await mapLimit(active.filter((id) => !known.has(id)), 8, (id) => this.d.sends.get(id));
    return read.filter((s): s is Send => s !== undefined && s.messageId === messageId);
  }

  private describeWhen(m: PlanMessage, plan: Plan, rollout: Rollout): string {
    const w = m.when;
    const at = (d: Date, zone: string) => `${formatWhen(d.toISOString(), zone)}${zone === plan.timeZone ? '' : ` (${zone})`}`;
    const cohortZone = (id: string) => rollout.cohorts.find((c) => c.id === id)?.zone ?? plan.timeZone;
    switch (w.kind) {
      case 'manual':
        return `When sent with "send ${m.id}"`;
      case 'at':
        return at(wallTime(w.date, w.time, w.zone).toJSDate(), w.zone);
      case 'golive': {
        const offset = w.days === 0 ? 'on go-live day' : `${Math.abs(w.days)} days ${w.days < 0 ? 'before' : 'after'} go-live`;
        const each = listWithin(
          allOccurrences(m, plan, rollout).map(
            (o) => `${rollout.cohorts.find((c) => c.id === o.cohortId)?.name ?? o.cohortId}: ${at(o.at, cohortZone(o.cohortId))}`,
          ),
          PLAN_WHEN_CHARS,
          { noun: 'cohorts' },
        );
        return `${offset}, ${w.time} — ${each || 'no cohort'}`;
      }
      case 'every': {
        const rule = new RRule(RRule.parseString(w.rule)).toText();
        const bound = (b: typeof w.from) =>
          b.kind === 'date' ? b.date : b.days === 0 ? 'go-live' : `go-live ${b.days > 0 ? '+' : '−'} ${Math.abs(b.days)} days`;
        const next = nextOccurrences(m, plan, rollout, this.now)
          .slice(0, 3)
          .map((o) => at(o.at, o.cohortId ? cohortZone(o.cohortId) : w.zone))
          .join('; ');
        return `${rule} at ${w.time}, ${bound(w.from)} to ${bound(w.until)}${next ? `; next ${next}` : ''}${m.cut ? `. It ${m.cut}` : ''}`;
      }
    }
  }

  private statusOf(m: PlanMessage, sends: Send[], cancelled: boolean): string {
    const parts: string[] = [];
    const running = sends.filter((s) => ['scheduled', 'resolving', 'sending'].includes(s.status));
    if (running.length) parts.push(listWithin(running.map((s) => sendStatus(s, this.timeZone)), PLAN_STATUS_CHARS, { noun: 'sends under way' }));
    const last = sends.find((s) => s.status === 'done' || s.status === 'cancelled');
    if (last) parts.push(sendStatus(last, this.timeZone));
    // A manual message marked cancelled by an earlier version: it had no scheduled times to skip.
    if (cancelled && m.when.kind !== 'manual') parts.push('Cancelled: its scheduled times are skipped until its "when" changes in the plan');
    else if (m.when.kind !== 'manual') {
      // An occurrence that already went (before an edit moved its time) does not go again.
      const upcoming = nextOccurrences(m, this.d.plan(), this.d.rollout(), this.now).filter(
        (o) => !sends.some((s) => s.source === 'plan' && s.status !== 'cancelled' && s.occurrence === o.key),
      ).length;
      if (upcoming) parts.push(`Scheduled (${upcoming === 1 ? 'next time' : `${upcoming} cohorts`} to come)`);
      else if (!sends.length) parts.push('Not sent: its time passed before it could go');
    } else if (!sends.length) parts.push('Not sent yet');
    return listWithin(parts, PLAN_STATUS_CHARS, { noun: 'notes', sep: ' · ' });
  }

  // ---- preview, send ---------------------------------------------------------------------------------

  /** The message as recipients will see it (the Teams layer shows it to the requester only). */
  async preview(caller: Caller, id: string): Promise<{ kind: 'preview'; content: MessageContent; label: string } | Refusal> {
    if (!this.may(caller, 'broadcast.manage')) return refused();
    const m = this.planMessage(id);
    if (m) return { kind: 'preview', content: m, label: `${m.id} → ${audienceLabel(m.audience, this.d.rollout())}` };
    const sent = id.trim() ? await this.d.sends.get(storedSendId(id)) : undefined;
    if (sent) return { kind: 'preview', content: sent.content, label: `${sent.id} → ${sent.audienceLabel}` };
    return this.unknown(id);
  }

  /** Why a message to this audience can't go now (its channel was never set up), or undefined. */
  private async channelMissing(audience: Audience): Promise<string | undefined> {
    if (audience.kind !== 'channel' || (await this.d.channelReady(audience.role))) return undefined;
    return channelNotSetUp(audience.role);
  }

  private unknown(id: string): Refusal {
    return {
      kind: 'message',
      text: id.trim()
        ? `There is no plan message or send called "${id.trim().slice(0, 60)}". Type "plan" to see them.`
        : 'Which message? For example "send golive-week-before". Type "plan" to see their ids.',
    };
  }

  /** What `send <id>` would do: the audience now, how many people, how many of them lack the app. */
  async prepareSend(caller: Caller, id: string): Promise<Confirm | Refusal> {
    if (!this.may(caller, 'broadcast.manage')) return refused();
    const m = this.planMessage(id);
    if (!m) return this.unknown(id);
    const missing = await this.channelMissing(m.audience);
    const { recipients, notes, unanswered } = missing
      ? { recipients: [], notes: [missing], unanswered: [] }
      : await resolveAudience(m.audience, this.d.directory);
    // Teams did not answer for the team: not "nobody to send this to". It can be sent all the same, and waits (send).
    if (unanswered.length && !recipients.length) {
      notes.push(`If you send it, it goes as soon as Teams answers (tried again for up to ${durationText(this.d.graceMs)}), and only once.`);
    }
    // `send` typed twice (the first seemed slow), each card confirmed: everyone would get it twice. Said on the card.
    const underWay = await this.underWayOf(m.id);
    if (underWay.length) {
      notes.push(`It is being sent already (${sendStatus(underWay[0]!, this.timeZone)}): sending it now sends it again to everyone.`);
    }
    const toChannel = m.audience.kind === 'channel';
    let notInstalled: number | undefined;
    if (!toChannel && recipients.length <= CONFIRM_CHECK_LIMIT) {
      const chats = await mapLimit(recipients, 16, (r) => this.d.chatOf(r.key));
      notInstalled = chats.filter((c) => !c).length;
    }
    return {
      kind: 'confirm',
      confirmation: {
        id: m.id,
        title: m.title,
        audienceLabel: audienceLabel(m.audience, this.d.rollout()),
        toChannel,
        recipients: recipients.length,
        notInstalled,
        notes,
        unanswered: unanswered.length > 0,
        version: confirmedVersion(m),
        underWay: underWay.map((s) => s.id),
      },
    };
  }

  /** The sends of a plan message under way (not reminders): a send of it now would reach everyone again. */
  private async underWayOf(messageId: string): Promise<Send[]> {
    return (await this.unfinishedSendsOf(messageId)).filter((s) => s.source !== 'reminder' && ['resolving', 'sending'].includes(s.status));
  }

  /**
   * Confirmed `send <id>`: the send is created now and fans out after the turn. A retried click sends nothing new.
   * `version`: what the confirmation card showed (confirmedVersion); a plan file edited since (another text, other
   * people) sends nothing, so nobody confirms one audience and sends to another. `shown`: the sends under way the
   * card warned of; another under way since (`send <id>` typed twice, both cards confirmed) sends nothing and answers
   * with the confirmation again, now warning, so nobody gets it twice unknowingly.
   */
  async send(
    caller: Caller,
    id: string,
    requestKey: string,
    notify: string,
    version?: string,
    shown: readonly string[] = [],
  ): Promise<{ kind: 'started'; send: Send; fresh: boolean; delayed?: string } | (Confirm & { text: string }) | Refusal> {
    if (!this.may(caller, 'broadcast.manage')) return refused();
    const m = this.planMessage(id);
    if (!m) return this.unknown(id);
    const sendId = `${m.id}.m${shortHash(requestKey)}`;
    // A retried press of a send already made finds it (begin), whatever the file says now.
    if (version !== undefined && version !== confirmedVersion(m) && !(await this.d.sends.get(sendId))) {
      return {
        kind: 'message',
        text: `"${m.id}" was changed in the plan file after this card was shown (its text or who hears it); nothing was sent. Type "send ${m.id}" to confirm it as it is now.`,
      };
    }
    // A press of a card (it carries `version`) for a send not made yet, while one the card did not warn of is under way.
    if (version !== undefined && !(await this.d.sends.get(sendId))) {
      // Not this press's own send: a copy of the press (Teams retries it) may have begun it since the check above.
      const unseen = (await this.underWayOf(m.id)).filter((s) => s.id !== sendId && !shown.includes(s.id));
      const again = unseen.length ? await this.prepareSend(caller, id) : undefined;
      if (again?.kind === 'confirm') return { ...again, text: 'It began being sent meanwhile from another card; nothing was sent. Confirm again to send it once more.' };
      if (again) return again;
    }
    const missing = await this.channelMissing(m.audience);
    if (missing) return { kind: 'message', text: `Nothing was sent. ${missing}` };
    // The confirmation offers no Send for an audience of nobody, but card data can be forged: a send to nobody
    // would be recorded with a "0 of 0" report. Checked as the confirmation did (a retried press finds its send).
    let unanswered: string[] = [];
    if (m.audience.kind !== 'channel' && !(await this.d.sends.get(sendId))) {
      const check = await this.nobodyIn(m.audience, (notes) => nobodyToSend(m, this.d.rollout(), notes));
      if (typeof check === 'string') return { kind: 'message', text: check };
      unanswered = check?.unanswered ?? [];
    }
    // Teams did not answer for the team: confirmed all the same, it waits and is tried again as a plan message is
    // (the requester is told so here, once), rather than leaving them to press again until Teams answers.
    const retryAt = unanswered.length ? new Date(this.now.getTime() + retryDelayMs(1)) : undefined;
    const res = await this.begin({
      id: sendId,
      source: 'manual',
      messageId: m.id,
      content: contentOf(m),
      audience: m.audience,
      requestedBy: caller.person,
      notify,
      retryAt,
    });
    const until = new Date(Date.parse(res.send.dueAt) + this.d.graceMs).toISOString();
    return res.send.status === 'resolving' && res.send.retryAt && (unanswered.length || !res.fresh)
      ? { ...res, delayed: delayedNotice(res.send, unanswered.length ? unanswered : ['Teams did not answer for its audience'], until, (t) => t) }
      : res;
  }

  /**
   * Why a plan message's audience has nobody to send to (a sentence), its unanswered notes when Teams did not answer
   * for its team, or undefined when it has someone. In the press's turn: it stops at the first recipient found (a
   * team: its roster's first page) and waits at most AUDIENCE_CHECK_MS.
   */
  private async nobodyIn(audience: Audience, nobody: (notes: readonly string[]) => string): Promise<string | { unanswered: string[] } | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.d.audienceCheckMs ?? AUDIENCE_CHECK_MS);
    });
    try {
      const res = await Promise.race([anyRecipient(audience, this.d.directory), late]);
      if (res === 'late') {
        // A team's roster read that took too long is one Teams did not answer; the rest are our own lookups.
        if (audience.kind === 'team') return { unanswered: [`team ${audience.teamId}: Teams did not answer in time`] };
        return `Nothing was sent: I couldn't check in time who is in its audience (${audienceLabel(audience, this.d.rollout())}); try again in a minute.`;
      }
      if (res.found) return undefined;
      return res.unanswered.length ? { unanswered: res.unanswered } : nobody(res.notes);
    } finally {
      clearTimeout(timer);
    }
  }

  private async begin(s: {
    id: string;
    source: SendSource;
    messageId: string;
    content: MessageContent;
    audience: Audience;
    requestedBy: Person | null;
    notify: string;
    dueAt?: Date;
    ackFor?: string;
    cohortId?: string;
    occurrence?: string;
    /** Created already waiting for Teams to answer for its audience: read again from then (retryLater's first try). */
    retryAt?: Date;
  }): Promise<{ kind: 'started'; send: Send; fresh: boolean }> {
    const now = this.now.toISOString();
    const scheduled = s.dueAt !== undefined && s.dueAt > this.now;
    const send: Omit<Send, 'etag'> = {
      id: s.id,
      source: s.source,
      messageId: s.messageId,
      content: s.content,
      audience: s.audience,
      audienceLabel: audienceLabel(s.audience, this.d.rollout()),
      status: scheduled ? 'scheduled' : 'resolving',
      dueAt: (s.dueAt ?? this.now).toISOString(),
      createdAt: now,
      startedAt: '',
      finishedAt: '',
      requestedBy: s.requestedBy,
      notify: s.notify,
      total: 0,
      cursor: '',
      chunks: 0,
      attempt: 1,
      ackFor: s.ackFor ?? s.id,
      cohortId: s.cohortId ?? '',
      occurrence: s.occurrence ?? '',
      cancelledBy: null,
      counts: null,
      ...(s.retryAt ? { retryAt: s.retryAt.toISOString(), tries: 1 } : {}),
    };
    const fresh = await this.d.sends.create(send);
    if (fresh && !scheduled && !s.retryAt) this.d.runner.kick('start', () => this.d.runner.start(s.id));
    const stored = (await this.d.sends.get(s.id)) ?? { ...send, etag: '' };
    return { kind: 'started', send: stored, fresh };
  }

  // ---- announce --------------------------------------------------------------------------------------

  /** Who the announce form offers: as many audiences as fit on the card, and how many more are typed. */
  announceAudiences(): { choices: { title: string; value: string }[]; omitted: number } {
    return audienceChoices(this.d.rollout());
  }

  /** An ad-hoc message from the form, now or at a time in the plan's zone. Bad input changes nothing. */
  async announce(
    caller: Caller,
    values: AnnounceValues,
    requestKey: string,
    notify: string,
  ): Promise<{ kind: 'invalid'; values: AnnounceValues; errors: AnnounceErrors } | { kind: 'started'; send: Send; fresh: boolean } | Refusal> {
    if (!this.may(caller, 'broadcast.manage')) return refused();
    const errors: AnnounceErrors = {};
    const title = values.title.trim();
    const body = values.body.trim();
    if (!title) errors.title = 'Give the announcement a title.';
    else if (title.length > TEXT_LIMITS.title) errors.title = `The title is ${title.length} characters; at most ${TEXT_LIMITS.title}.`;
    if (!body) errors.body = 'Write the message.';
    else if (body.length > TEXT_LIMITS.body) errors.body = `The message is ${body.length} characters; at most ${TEXT_LIMITS.body}.`;
    const typed = (values.audienceTyped ?? '').trim();
    const audience =
      values.audience === TYPED_AUDIENCE ? audienceFromTyped(typed, this.d.rollout()) : audienceFromChoice(values.audience, this.d.rollout());
    if (!audience && values.audience === TYPED_AUDIENCE) {
      errors.audience = typed
        ? `There is no user group or cohort "${typed.slice(0, 100)}" in the rollout file. Type its id (or its name).`
        : 'Type the id (or the name) of the user group or cohort.';
    } else if (!audience) errors.audience = 'Choose who hears it from the list.';
    else {
      const missing = await this.channelMissing(audience);
      if (missing) errors.audience = missing;
    }
    let dueAt: Date | undefined;
    if (values.timing === 'at') {
      const at = /^\d{4}-\d{2}-\d{2}$/.test(values.date) && /^([01]\d|2[0-3]):[0-5]\d$/.test(values.time) ? wallTime(values.date, values.time, this.timeZone) : undefined;
      if (!at?.isValid) errors.when = 'Pick a date and a time, or choose "Now".';
      // A time the clocks skip that day (02:30 as they go forward): luxon would move it on an hour, unsaid.
      else if (at.toFormat('yyyy-MM-dd HH:mm') !== `${values.date} ${values.time}`)
        errors.when = `${values.time} does not exist on ${values.date} in ${this.timeZone}: the clocks go forward then. Pick ${firstExisting(values.date, values.time, this.timeZone) ?? at.toFormat('HH:mm')} or later, or choose "Now".`;
      else if (at.toJSDate() <= this.now) errors.when = `That time has passed (${this.timeZone}). Pick a later one, or choose "Now".`;
      else if (at.toJSDate().getTime() > this.now.getTime() + 366 * 86_400_000) errors.when = 'Pick a time within a year.';
      else dueAt = at.toJSDate();
    } else if (values.timing !== 'now' && values.timing !== '') errors.when = 'Choose "Now" or a date and time.';
    const id = `a-${shortHash(requestKey)}`;
    // Sent now to a user group or cohort nobody is in (yet): not "sent" to nobody with a report of 0 of 0, but said
    // here, as `send <id>` says it, with the form kept (a retried press of one already sent finds it in begin).
    if (!errors.audience && audience && audience.kind !== 'channel' && dueAt === undefined && !(await this.d.sends.get(id))) {
      const check = await this.nobodyIn(audience, (notes) => nobodyToAnnounce(audience, this.d.rollout(), notes));
      if (typeof check === 'string') errors.audience = check;
    }
    if (Object.keys(errors).length) {
      return { kind: 'invalid', values, errors: { ...errors, form: 'Some fields need a look before I can send this.' } };
    }
    return this.begin({
      id,
      source: 'announce',
      messageId: '',
      content: { title, body, links: [] },
      audience: audience!,
      requestedBy: caller.person,
      notify,
      dueAt,
    });
  }

  // ---- cancel ----------------------------------------------------------------------------------------

  /**
   * `cancel <id>`: a send (by its id) or a plan message (its running sends, and its scheduled times until
   * the plan changes its "when"). What was not yet handed over stays unsent.
   */
  async cancel(caller: Caller, id: string): Promise<Refusal | { kind: 'cancelled'; text: string }> {
    if (!this.may(caller, 'broadcast.manage')) return refused();
    const key = id.trim();
    const send = key ? await this.d.sends.get(storedSendId(key)) : undefined;
    if (send) {
      const res = await this.cancelSend(send.id, caller.person);
      return { kind: 'cancelled', text: res };
    }
    const m = this.planMessage(key);
    if (!m) return this.cancelRemoved(key, caller.person);
    const running = (await this.sendsOfMessage(m)).filter((s) => ['scheduled', 'resolving', 'sending'].includes(s.status));
    const lines: string[] = [];
    for (const s of running) lines.push(await this.cancelSend(s.id, caller.person));
    // A manual message has no scheduled times to skip: cancelling it stops what is under way, nothing more.
    if (m.when.kind === 'manual') {
      if (!lines.length) lines.push(`"${m.id}" goes out only when sent with "send ${m.id}", and no send of it is under way: nothing to cancel.`);
      return { kind: 'cancelled', text: lines.join(' ') };
    }
    await this.d.sends.markCancelled(m.id, m.whenText, caller.person.id);
    lines.push(`"${m.id}" will not go out at its scheduled times. To schedule it again, change its "when" in the plan file.`);
    return { kind: 'cancelled', text: lines.join(' ') };
  }

  /**
   * `cancel <id>` of a message taken out of the plan file: its sends still under way (held for working hours, or
   * sending) go on, and taking a message out is how a rollout team tries to stop it, so they are found by their
   * ids and stopped. Nothing under way: the id is unknown.
   */
  private async cancelRemoved(id: string, by: Person): Promise<Refusal | { kind: 'cancelled'; text: string }> {
    const messageId = id.toLowerCase();
    const running = PLAN_ID.test(messageId)
      ? (await this.unfinishedSendsOf(messageId)).filter((s) => ['scheduled', 'resolving', 'sending'].includes(s.status))
      : [];
    if (!running.length) return this.unknown(id);
    const lines: string[] = [`"${messageId}" is no longer in the plan file; what of it was still under way is stopped.`];
    for (const s of running) lines.push(await this.cancelSend(s.id, by));
    return { kind: 'cancelled', text: lines.join(' ') };
  }

  /** Stops one send; returns what the requester reads. */
  async cancelSend(sendId: string, by: Person): Promise<string> {
    const before = await this.d.sends.get(sendId);
    if (!before) return `There is no send called "${sendId}".`;
    const cancelled = await this.d.sends.change(sendId, (s) =>
      ['scheduled', 'resolving', 'sending'].includes(s.status) ? { status: 'cancelled', cancelledBy: by } : undefined,
    );
    if (!cancelled) {
      return before.status === 'cancelled' ? `"${before.content.title}" was already cancelled.` : `"${before.content.title}" has finished sending; nothing to cancel.`;
    }
    // The rows handed over are taken back after this turn: the report counts each as its answer comes (cancelled, or
    // what Teams answered for one already on its way).
    const { unsent, handedOver } = await this.d.runner.cancelRemaining(cancelled);
    return `Cancelled "${cancelled.content.title}": ${unsent} not sent${
      handedOver ? `; ${handedOver} already handed over ${handedOver === 1 ? 'is' : 'are'} being taken back (those already on their way finish)` : ''
    }.`;
  }

  // ---- acknowledgements ------------------------------------------------------------------------------

  /**
   * "Got it": stored once per person; a 1:1 message may be acknowledged only by someone it was sent to, a channel
   * post only from the channel it was posted in. `conversation`: the channel or group chat the press came from (its root,
   * without a thread's `;messageid=`; set by Teams, unlike the card's data), absent in a 1:1 chat.
   */
  async acknowledge(
    caller: Caller,
    sendId: string,
    conversation?: string,
  ): Promise<{ kind: 'acked'; content: MessageContent; at: string; fresh: boolean; sendId: string } | { kind: 'preview' } | Refusal> {
    if (sendId === 'preview') return { kind: 'preview' };
    const send = await this.d.sends.get(sendId);
    if (!send) return { kind: 'message', text: 'This message is no longer known; nothing was recorded.' };
    const notTheirs = await this.notShownTo(caller, send, conversation);
    if (notTheirs) return { kind: 'message', text: `${notTheirs}; nothing was recorded.` };
    const res = await this.d.acks.acknowledge(send.id, caller.person.id, caller.person.name, this.now.toISOString());
    return { kind: 'acked', content: send.content, at: res.at, fresh: res.fresh, sendId: send.id };
  }

  /**
   * Why this person cannot have the send's card (a press of it is forged), or undefined when they may. `conversation`:
   * where the press came from, as Teams names it (see acknowledge).
   */
  private async notShownTo(caller: Caller, send: Send, conversation: string | undefined): Promise<string | undefined> {
    if (send.audience.kind !== 'channel') {
      // Only someone whose copy reached them can have its card: a press for anyone else (held for their working hours,
      // cancelled, failed, blocked, no chat to go to) is forged, and would count them as having read it. A copy handed
      // over whose answer is not back yet may already be on their screen.
      const row = await this.d.deliveries.get(send.id, caller.person.id.toLowerCase());
      return row && mayHaveReached(row) ? undefined : 'This message was not sent to you';
    }
    // A channel post is seen by the members of its channel: a press from any other conversation is forged, and would
    // count its presser as having read it (or show a post of a channel they are not in). Checked without asking Teams (a
    // roster read per presser is throttled on a large team's announcement).
    const posted = await this.postedIn(send.id, send.audience.role);
    return conversation && posted && conversation === posted ? undefined : 'This message was not posted in a channel you are in';
  }

  /**
   * The channel a send's post went to, as its answer recorded it; before the answer is back (or on a post recorded
   * before channels were kept), the channel set up for the role, where the outbound path posts.
   */
  private async postedIn(sendId: string, role: BroadcastChannel): Promise<string | undefined> {
    const row = await this.d.deliveries.get(sendId, channelRecipient(role).key);
    return row?.conversation ?? (await this.d.channelConversation?.(role));
  }

  /** A card's refresh for its reader: the message, and whether they acknowledged it. */
  async view(caller: Caller, sendId: string, conversation?: string): Promise<{ kind: 'view'; content: MessageContent; at?: string; sendId: string } | Refusal> {
    const send = await this.d.sends.get(sendId);
    if (!send) return { kind: 'message', text: 'This message is no longer known.' };
    // As for "Got it": a refresh forged with another send's id shows nothing of a message that was not theirs to see.
    const notTheirs = await this.notShownTo(caller, send, conversation);
    if (notTheirs) return { kind: 'message', text: `${notTheirs}.` };
    return { kind: 'view', content: send.content, at: await this.d.acks.when(send.id, caller.person.id), sendId: send.id };
  }

  // ---- the report and what follows it -----------------------------------------------------------------

  async report(caller: Caller, sendId: string): Promise<{ kind: 'report'; card: AdaptiveCard } | Refusal> {
    if (!this.may(caller, 'broadcast.manage')) return refused();
    const send = await this.d.sends.get(sendId);
    if (!send) return { kind: 'message', text: `There is no send called "${sendId}".` };
    return { kind: 'report', card: await this.d.runner.reportCardOf(send) };
  }

  /**
   * "Resend to failed": rows that failed for sure start a new attempt (a new outbound key), the progress card returns.
   * Rows failed unconfirmed (the sender stopped when the request may have left) are left out: their copy may have
   * arrived, and a second one would message those people twice. `unconfirmed`: how many were left out so.
   */
  async resendFailed(caller: Caller, sendId: string): Promise<Refusal | { kind: 'resending'; count: number; unconfirmed: number }> {
    if (!this.may(caller, 'broadcast.manage')) return refused();
    const failed: Delivery[] = [];
    let unconfirmed = 0;
    for await (const r of this.d.deliveries.rows(sendId, ['failed'])) {
      if (failedUnconfirmed(r)) unconfirmed++;
      else failed.push(r);
    }
    if (!failed.length) {
      return {
        kind: 'message',
        text: unconfirmed
          ? `Nothing was resent: the ${people(unconfirmed)} whose message failed may have received it (the sender stopped when the request may have left), and a second copy could reach them twice.`
          : 'No message to this send failed; nothing to resend.',
      };
    }
    const before = await this.d.sends.get(sendId);
    if (before?.status !== 'done') return { kind: 'message', text: 'This send is still running (or already resending); wait for its report.' };
    // The rows first: a send marked sending with nothing pending would be closed again at once.
    const attempt = before.attempt + 1;
    await this.d.deliveries.batch(
      sendId,
      failed.map((r) => ({
        key: r.key,
        state: 'pending' as const,
        reason: '',
        attempt,
        waiting: true,
        chunk: -1,
        queuedAt: '',
        heldUntil: '',
        // Kept for Got it and the card's refresh: an earlier attempt's copy may be showing only if one may have gone.
        shownBefore: mayHaveReached(r),
      })),
    );
    const send = await this.d.sends.change(sendId, (s) =>
      s.status === 'done' && s.attempt === before.attempt
        ? { status: 'sending', attempt, cursor: '', chunks: 0, finishedAt: '', counts: null }
        : undefined,
    );
    if (!send) return { kind: 'message', text: 'This send is already being resent; its progress card follows.' };
    await this.d.sends.reactivate(sendId);
    await this.d.runner.announceProgress(send);
    this.d.runner.kick('resend', () => this.d.runner.pump(sendId));
    return { kind: 'resending', count: failed.length, unconfirmed };
  }

  /** "Remind those who haven't acknowledged": a new send to them; their "Got it" counts toward the original. */
  async remind(caller: Caller, sendId: string, requestKey: string, notify: string): Promise<Refusal | { kind: 'started'; send: Send; fresh: boolean }> {
    if (!this.may(caller, 'broadcast.manage')) return refused();
    const send = await this.d.sends.get(sendId);
    if (!send) return { kind: 'message', text: `There is no send called "${sendId}".` };
    if (send.status !== 'done') return { kind: 'message', text: 'Remind once the send has finished.' };
    if (send.audience.kind === 'channel') return { kind: 'message', text: 'A channel post has no list of people to remind.' };
    const id = `${send.ackFor}.r${shortHash(requestKey, 6)}`;
    // A report card is drawn once: its Remind button can be pressed after the last of them acknowledged (a retried
    // press of a reminder already made still finds it below).
    if (!(await this.d.sends.get(id))) {
      const left = await anyoneUnacknowledged(this.d.deliveries.reachedKeys(send.ackFor), this.d.acks.keys(send.ackFor));
      if (!left.any) {
        return {
          kind: 'message',
          text: left.reached
            ? `Everyone it reached (${left.reached}) has acknowledged it; nobody to remind, nothing was sent.`
            : 'It reached nobody 1:1, so there is nobody to remind; nothing was sent.',
        };
      }
    }
    return this.begin({
      id,
      source: 'reminder',
      messageId: send.messageId,
      content: { ...send.content, title: `Reminder: ${send.content.title.replace(/^Reminder: /, '')}` },
      audience: { kind: 'unacknowledged', sendId: send.ackFor },
      requestedBy: caller.person,
      notify,
      ackFor: send.ackFor,
    });
  }

  // ---- the scheduled job -------------------------------------------------------------------------------

  /**
   * One pass of the plan's job: claim and start the plan occurrences now due (each once, however many
   * instances run this), start announcements whose time came, and look after sends still running.
   */
  async tick(): Promise<void> {
    await this.runDue();
    for (const id of await this.d.sends.activeIds()) {
      const send = await this.d.sends.get(id);
      if (!send) {
        await this.d.sends.finish(id);
        continue;
      }
      if (send.status === 'scheduled') {
        if (Date.parse(send.dueAt) > this.now.getTime()) continue;
        const claimed = await this.d.sends.update(send, { status: 'resolving' });
        if (claimed) await this.d.runner.start(id);
        continue;
      }
      if (send.status === 'done') {
        await this.d.sends.finish(id);
        continue;
      }
      await this.d.runner.upkeep(send);
    }
  }

  /** Plan occurrences due in the last `graceMs`: each claimed by creating its send (409 for anyone later). */
  async runDue(): Promise<string[]> {
    const plan = this.d.plan();
    const rollout = this.d.rollout();
    const now = this.now;
    const cancelled = await this.d.sends.cancelled();
    const started: string[] = [];
    let planSends: Send[] | undefined;
    for (const m of plan.messages) {
      if (cancelled.get(m.id) === m.whenText) continue;
      for (const o of occurrencesBetween(m, plan, rollout, new Date(now.getTime() - this.d.graceMs), new Date(now.getTime() + 1))) {
        const id = occurrenceSendId(m.id, o.cohortId, o.at);
        // Read once a pass, and only while something is due: already started under this id, or gone under
        // another (an edit that moved its time, or the plan's zone, makes a new id for the same occurrence).
        planSends ??= (await this.d.sends.all()).filter((s) => s.source === 'plan');
        if (planSends.some((s) => s.id === id || (s.messageId === m.id && s.occurrence === o.key && s.status !== 'cancelled'))) continue;
        const audience: Audience = o.cohortId && m.audience.kind === 'cohort' ? { ...m.audience, cohortId: o.cohortId } : m.audience;
        // Not started while its channel is not set up (it would "go" nowhere): it goes on a later pass if the
        // channel is set up within the grace period; the rollout team is told once.
        const missing = await this.channelMissing(audience);
        if (missing) {
          const key = `plan-channel|${id}`;
          if (this.told.has(key)) continue;
          await this.d.tellRolloutTeam?.(
            key,
            `"${escapeText(m.title)}" (${m.id}) was due ${formatWhen(o.at.toISOString(), this.timeZone)} for a channel, and has not gone out. ${missing} It then goes by itself if that is within ${durationText(this.d.graceMs)} of its time; after that, send it with "send ${m.id}".`,
          );
          this.told.add(key);
          continue;
        }
        const res = await this.begin({
          id,
          source: 'plan',
          messageId: m.id,
          content: contentOf(m),
          audience,
          requestedBy: null,
          notify: '',
          cohortId: o.cohortId,
          occurrence: o.key,
        });
        if (res.fresh) started.push(res.send.id);
      }
    }
    return started;
  }
}

/** Why `send <id>` sent nothing to an audience with nobody in it, and what to check. */
function nobodyToSend(m: PlanMessage, rollout: Rollout, notes: readonly string[]): string {
  const why = notes.length ? ` (${notes.join('; ')})` : '';
  return `Nothing was sent: ${audienceLabel(m.audience, rollout)} has nobody in it the app knows of${why}. Check ${whatToCheck(m.audience, m.id)}, then type "send ${m.id}" again.`;
}

/** Why an announcement to be sent now to an audience with nobody in it is not sent (the form's audience field). */
function nobodyToAnnounce(audience: Audience, rollout: Rollout, notes: readonly string[]): string {
  const why = notes.length ? ` (${notes.join('; ')})` : '';
  return `Nobody to send this to: ${audienceLabel(audience, rollout)} has nobody in it the app knows of${why}. Check ${whatToCheck(audience, '')}, or choose another audience; nothing was sent.`;
}

/** Where to look when an audience has nobody in it (`id`: the plan message naming it, for a list of people). */
function whatToCheck(audience: Audience, id: string): string {
  switch (audience.kind) {
    case 'team':
      return `that the app is installed in team ${audience.teamId} and the team has members`;
    case 'group':
    case 'cohort':
      return 'who is in that user group or cohort (the rollout file, and who the rollout team added)';
    case 'users':
      return `the ids in "${id}"'s audience in the plan file, and that those people have the app`;
    case 'champions':
      return 'who the champions are (the champions team, or CHAMPION_IDS)';
    case 'rolloutTeam':
      return 'who the rollout team is (ROLLOUT_TEAM_IDS)';
    default:
      return 'that people have installed the app';
  }
}

/** "6 hours", "90 minutes": a setting's length as a person reads it. */
function durationText(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes % 60 === 0 ? `${minutes / 60} hour${minutes === 60 ? '' : 's'}` : `${minutes} minutes`;
}

/** The send id of a plan occurrence: derived, so creating it is the claim. */
export function occurrenceSendId(messageId: string, cohortId: string, at: Date): string {
  return `p.${messageId}.${cohortId || 'all'}.${DateTime.fromJSDate(at, { zone: 'utc' }).toFormat("yyyyLLdd'T'HHmm")}`;
}

/**
 * A send id as someone typed it (any case: "P.WELCOME.ALL.20270111T0900", copied from a card and retyped) → as it is
 * stored. Send ids are made of lower-case plan, cohort and hash parts, with one capital: the 'T' of a plan
 * occurrence's time (occurrenceSendId), which stays as it is stored.
 */
export function storedSendId(typed: string): string {
  return typed.trim().toLowerCase().replace(/\.(\d{8})t(\d{4})(?=\.|$)/g, '.$1T$2');
}

/** What a confirmation card confirms of a plan message: its content and its audience, as a short hash. */
function confirmedVersion(m: PlanMessage): string {
  return shortHash(JSON.stringify([contentOf(m), m.audience]));
}

function contentOf(m: PlanMessage): MessageContent {
  return { title: m.title, body: m.body, ...(m.image ? { image: m.image } : {}), links: m.links };
}

/** A send's status as one line. */
export function sendStatus(s: Send, zone: string): string {
  const counts = s.counts;
  switch (s.status) {
    case 'scheduled':
      return `Scheduled for ${formatWhen(s.dueAt, zone)}`;
    case 'resolving':
      return s.retryAt ? `Delayed: Teams did not answer for its audience; trying again ${formatWhen(s.retryAt, zone)}` : 'Starting';
    case 'sending':
      return `Sending to ${s.total} (started ${formatWhen(s.startedAt || s.createdAt, zone)})`;
    case 'done':
      return `Sent ${formatWhen(s.finishedAt || s.dueAt, zone)}: ${counts?.sent ?? 0} of ${s.total} delivered${counts?.failed ? `, ${counts.failed} failed` : ''}`;
    case 'cancelled':
      // Counted when what was on its way has its answers: until then "0 of N" would deny those already sent.
      return `Cancelled${s.cancelledBy ? ` by ${s.cancelledBy.name}` : ''}: ${counts ? `${counts.sent} of ${s.total} had been sent` : 'finishing what was already on its way'}`;
  }
}
