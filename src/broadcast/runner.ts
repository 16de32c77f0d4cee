import { type AdaptiveCard, escapeText } from '../cards/template.js';
import { formatWhen } from '../issues/cards.js';
import type { Clock } from '../clock.js';
import { mapLimit } from '../map-limit.js';
import { type DeliveryResult, type OutboundMessage, type Outbox, WITHDRAWN } from '../outbound/message.js';
import type { Rollout } from '../rollout/model.js';
import { type AudienceDirectory, resolveAudience } from './audience.js';
import { messageCard, progressCard, reportCard } from './cards.js';
import type { AckStore, DeliveryRows, Tally } from './deliveries.js';
import { CANCELLED_UNSENT, type Delivery, type DeliveryState, type Send } from './model.js';
import { progressOf, reportOf } from './progress.js';
import type { SendStore } from './sends.js';
import { heldUntil, type WorkingHours } from './working-hours.js';
import { people } from '../text/count.js';

/**
 * The fan-out of one send: its audience resolved into delivery rows (written before anything is handed
 * over), the rows handed to the outbound path a batch at a time, answers recorded on the rows, the
 * requester's progress card kept current, and the report at the end. Every step re-reads what storage
 * says, so it can stop anywhere (a crash, a restart, another instance) and be picked up again: a row is
 * handed over again only under the same outbound key, which the outbound path sends once.
 */

export interface RunnerSettings {
  /** Recipients handed to the outbound path per batch; a cancel leaves at most about two batches to go. */
  batch: number;
  /** Hold 1:1 messages outside these hours where the recipient's time zone is known (undefined: never hold). */
  workingHours?: WorkingHours;
  /** A handed-over message with no answer after this long is handed over again (same key: sent at most once). */
  staleMs: number;
  /** The progress card is redrawn at most this often (real time; it coalesces bursts of answers). */
  progressEveryMs: number;
  /** The delivered card's footer, as the preview shows it ("From the <system> rollout team"). */
  footer?: string;
  /**
   * How late a scheduled message may still go out: a plan message whose audience Teams did not answer for (its
   * roster read throttled or down) is read again, with backoff, until this long after its time (0: not again).
   */
  graceMs?: number;
}

/** A person's 1:1 chat as the outbound path will find it. */
export interface ChatInfo {
  /** Teams user id (29:…), for the card's per-user refresh. */
  teamsUserId: string;
  /** IANA zone Teams reported for them, if any. */
  timeZone?: string;
}

export interface RunnerDeps {
  sends: SendStore;
  deliveries: DeliveryRows;
  acks: AckStore;
  outbox: Outbox;
  directory: AudienceDirectory;
  chatOf(userKey: string): Promise<ChatInfo | undefined>;
  rollout(): Rollout;
  clock: Clock;
  settings: RunnerSettings;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** Told when a send finished (the wins check whether a cohort acknowledged its launch message). */
  onFinished?(send: Send): void;
  /** Tells the rollout team something once per `key` (1:1, else the triage channel). */
  tellRolloutTeam?(key: string, text: string): Promise<void>;
}

const KEY_PREFIX = 'broadcast|';
export const TOPIC_PREFIX = 'broadcast:';
const PROGRESS_POST = 'broadcast-progress';
/** How long one instance may take to resolve an audience before another picks the send up. */
const RESOLVE_HOLD_MS = 5 * 60_000;
const VERSION_STEP = 1_000_000;
/** A plan send's audience read again after 1, 2, 4 … minutes, at most 30 apart (within graceMs of its time). */
const RETRY_FIRST_MS = 60_000;
const RETRY_MAX_MS = 30 * 60_000;
/** Answers come in bursts; the end of a send is looked for this long after the last of a burst. */
const FINISH_CHECK_MS = 250;
/** Rows taken back at once after a cancel (each a read, then the outbound path's writes). */
const WITHDRAW_PARALLEL = 8;

/** How long a send whose audience Teams did not answer waits before its `tries`th read again. */
export const retryDelayMs = (tries: number): number => Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (tries - 1));

/**
 * What whoever follows a delayed send is told, once: a plan message's to the rollout team, a `send <id>`'s to its
 * requester. `esc`: escapeText for a markdown message, the identity for a plain-text reply.
 */
export function delayedNotice(
  send: Pick<Send, 'id' | 'content' | 'messageId' | 'dueAt' | 'audienceLabel' | 'notify'>,
  unanswered: readonly string[],
  until: string,
  esc: (text: string) => string,
): string {
  const why = esc(unanswered.join('; '));
  if (!send.notify) {
    return `"${esc(send.content.title)}" (${send.messageId}), due ${formatWhen(send.dueAt)} for ${esc(send.audienceLabel)}, is delayed: ${why}. I will try again until ${formatWhen(until)} and tell you only if it still cannot go; it will not go out twice.`;
  }
  return `"${esc(send.content.title)}" (${send.messageId}) has not gone to ${esc(send.audienceLabel)} yet: ${why}. I will try again until ${formatWhen(until)} and send it as soon as Teams answers (it will not go out twice); your progress card follows then. To stop it, type "cancel ${send.id}".`;
}

export const topicOf = (sendId: string) => `${TOPIC_PREFIX}${sendId}`;

/** A row handed over (not waiting, not held) before `before` whose answer has not come back. */
const awaitingAnswer = (r: Delivery, before: number): boolean => !r.waiting && !r.heldUntil && Boolean(r.queuedAt) && Date.parse(r.queuedAt) <= before;

/** `broadcast|<send id>|<recipient>` (and `|<attempt>` from a resend on): one outbound message per recipient. */
export function outboundKey(sendId: string, recipient: string, attempt: number): string {
  return `${KEY_PREFIX}${sendId}|${recipient}${attempt > 1 ? `|${attempt}` : ''}`;
}

export function parseOutboundKey(key: string): { sendId: string; recipient: string; attempt: number } | undefined {
  if (!key.startsWith(KEY_PREFIX)) return undefined;
  const [sendId, recipient, attempt] = key.slice(KEY_PREFIX.length).split('|');
  if (!sendId || !recipient) return undefined;
  return { sendId, recipient, attempt: attempt ? Number(attempt) : 1 };
}

/** What the outbound path's answer means for the recipient's row. */
export function deliveryOf(result: DeliveryResult, kind: Delivery['kind']): { state: DeliveryState; reason: string } {
  switch (result.state) {
    case 'sent':
      return { state: 'sent', reason: '' };
    case 'skipped':
    case 'updated':
      // A repeat of a message the outbound path had already sent under this key.
      return { state: 'sent', reason: '' };
    case 'blocked':
      return { state: 'blocked', reason: 'blocked or removed the app (not retried)' };
    case 'notInstalled':
      return {
        state: 'notInstalled',
        reason: kind === 'channel' ? 'the channel is not set up: type "setup <role>" in it' : 'no 1:1 chat with the app',
      };
    case 'failed':
      // Withdrawn after a cancel before any attempt took it: it never went.
      if (result.reason === WITHDRAWN) return { state: 'cancelled', reason: CANCELLED_UNSENT };
      return { state: 'failed', reason: result.reason.slice(0, 300) };
  }
}

export class BroadcastRunner {
  private readonly work = new Set<Promise<unknown>>();
  private readonly lastProgress = new Map<string, number>();
  private readonly finishTimers = new Map<string, NodeJS.Timeout>();
  /** What this instance last saw of each send's batch count: an answer from the newest batch hands over the next. */
  private readonly latestChunk = new Map<string, number>();
  /** Sends whose rows this instance found all handed over: their end is checked as answers come. */
  private readonly drained = new Set<string>();
  /** Sends whose "delayed" notice this instance is handing over now (tellDelayed). */
  private readonly telling = new Set<string>();

  constructor(private readonly d: RunnerDeps) {}

  private get now(): Date {
    return this.d.clock.now();
  }

  /** Runs `fn` after the caller's turn, tracked so tests and shutdown can wait for it. */
  kick(what: string, fn: () => Promise<unknown>): void {
    const p = fn().catch((err: unknown) => this.d.log.warn({ err, what }, 'broadcast work stopped; the scheduled job picks it up'));
    this.work.add(p);
    void p.finally(() => this.work.delete(p));
  }

  /** Resolves when the work started so far (and the work it started) is done. */
  async idle(): Promise<void> {
    while (this.work.size) await Promise.allSettled([...this.work]);
  }

  stop(): void {
    for (const t of this.finishTimers.values()) clearTimeout(t);
    this.finishTimers.clear();
  }

  // ---- start: resolve the audience into rows ----------------------------------------------------------

  /** A send in `resolving`: its recipients become delivery rows, then the first batches go. */
  async start(sendId: string): Promise<void> {
    const nowMs = this.now.getTime();
    // Claim the resolution, so two instances never write the rows of one send at once; a claim older than
    // RESOLVE_HOLD_MS belonged to an instance that stopped.
    const claimed = await this.d.sends.change(sendId, (s) =>
      s.status === 'resolving' &&
      (!s.startedAt || Date.parse(s.startedAt) <= nowMs - RESOLVE_HOLD_MS) &&
      (!s.retryAt || Date.parse(s.retryAt) <= nowMs)
        ? { startedAt: new Date(nowMs).toISOString() }
        : undefined,
    );
    if (!claimed) return;
    const { recipients, notes, unanswered } = await resolveAudience(claimed.audience, this.d.directory);
    if (notes.length) this.d.log.warn({ sendId, notes }, 'part of the audience could not be resolved');
    if (unanswered.length && (await this.retryLater(claimed, unanswered))) return;
    await this.d.deliveries.writeAll(sendId, recipients, this.now.toISOString());
    const started = await this.d.sends.update(claimed, {
      status: 'sending',
      total: recipients.length,
      startedAt: this.now.toISOString(),
      cursor: '',
      chunks: 0,
    });
    if (!started) {
      // Cancelled while we resolved: nothing was handed over, so every row stays unsent.
      const now = await this.d.sends.get(sendId);
      if (now?.status === 'cancelled') await this.cancelRemaining(now);
      return;
    }
    this.d.log.info({ sendId, recipients: recipients.length }, 'broadcast started');
    // A send someone follows shows them its audience's count; one that was delayed says why it reached fewer.
    if ((!started.notify || started.tries) && (notes.length || !recipients.length)) {
      await this.tellUnreached(started, recipients.length, notes).catch((err: unknown) =>
        this.d.log.warn({ err, sendId }, 'could not tell the rollout team that part of an audience was not reached'),
      );
    }
    await this.announceProgress(started);
    await this.pump(sendId);
  }

  /**
   * A send whose audience Teams did not answer for (a team's roster read throttled, down, timed out): a plan message at
   * its time, or one confirmed with `send <id>`. Nothing is written or sent, the send keeps its id (the claim that it
   * goes once) and waits, and the scheduled job reads its audience again after a backoff, while within graceMs of its
   * time. Whoever follows it (the rollout team for a plan message, the requester for a `send`) is told once that it is
   * delayed, and again (tellUnreached) only if the last try fails too. False: no try left, it goes on with what was read.
   */
  private async retryLater(send: Send, unanswered: readonly string[]): Promise<boolean> {
    const tries = (send.tries ?? 0) + 1;
    const nowMs = this.now.getTime();
    const retryAt = nowMs + retryDelayMs(tries);
    const last = Date.parse(send.dueAt) + (this.d.settings.graceMs ?? 0);
    if (retryAt > last) return false;
    // The notice is saved with the retry time it tells of, so a crash between the two still has it told (upkeep).
    const notice = tries === 1 ? delayedNotice(send, unanswered, new Date(last).toISOString(), escapeText) : '';
    const saved = await this.d.sends.update(send, { startedAt: '', retryAt: new Date(retryAt).toISOString(), tries, ...(notice ? { delayNotice: notice } : {}) });
    if (!saved) {
      // Cancelled while we read: nothing was written or handed over.
      const now = await this.d.sends.get(send.id);
      if (now?.status === 'cancelled') await this.cancelRemaining(now);
      return true;
    }
    this.d.log.warn({ sendId: send.id, tries, unanswered }, 'audience not answered by Teams; trying again later');
    await this.tellDelayed(saved);
    return true;
  }

  /**
   * Hands a delayed send's saved notice to the outbound path, then marks it told. A crash (or a failed hand-over) in
   * between leaves it owed, and the next pass tells it: under the same key, which the outbound path sends once.
   */
  private async tellDelayed(send: Send): Promise<void> {
    // The pass that started a send finds its notice owed while the start it kicked is telling it: one of them tells.
    if (!send.delayNotice || this.telling.has(send.id)) return;
    this.telling.add(send.id);
    try {
      await this.tell(send, `plan-delayed|${send.id}`, send.delayNotice);
      await this.d.sends.change(send.id, (s) => (s.delayNotice ? { delayNotice: '' } : undefined));
    } catch (err) {
      this.d.log.warn({ err, sendId: send.id }, 'could not tell that a message is delayed; the next pass tells it');
    } finally {
      this.telling.delete(send.id);
    }
  }

  /** Tells whoever follows a send: its requester 1:1 (a `send`), else the rollout team (once per `key`). */
  private async tell(send: Send, key: string, text: string): Promise<void> {
    if (!send.notify) return this.d.tellRolloutTeam?.(key, text);
    await this.d.outbox.enqueue([{ op: 'send', key: `${key}|${send.notify}`, to: { kind: 'user', userKey: send.notify }, content: text }]);
  }

  /**
   * A send nobody follows (a plan message at its time) whose audience came out empty or in part unreadable (a team
   * the app is not in, a user group with nobody in it yet): without this it "went" to nobody, and only a "0 of 0
   * delivered" in the plan listing said so. Whoever sent by hand saw the same on the confirmation card.
   */
  private async tellUnreached(send: Send, reached: number, notes: readonly string[]): Promise<void> {
    const what = `"${escapeText(send.content.title)}"${send.messageId ? ` (${send.messageId})` : ''}, due ${formatWhen(send.dueAt)} for ${escapeText(send.audienceLabel)},`;
    const why = notes.length ? ` ${escapeText(notes.join('; '))}.` : ' that audience has nobody in it the app knows of.';
    const tried = send.tries ? ` I tried ${send.tries + 1} times since its time.` : '';
    const next = `${tried}${send.messageId ? ` Once that is put right, send it with "send ${send.messageId}".` : ''}`;
    const text = reached
      ? `${what} went to ${people(reached)}, but part of its audience could not be reached:${why}${next}`
      : `${what} reached nobody:${why}${next}`;
    await this.tell(send, `plan-unreached|${send.id}`, text);
  }

  // ---- pump: hand the next batch over -----------------------------------------------------------------

  /**
   * Hands the next batch of waiting rows to the outbound path. The batch is claimed by moving the send's
   * cursor (ETag-guarded), so two instances never hand over the same rows. Batches that hand over little
   * (held, not installed) are followed by the next at once.
   */
  async pump(sendId: string): Promise<void> {
    for (let rounds = 0; rounds < 50; rounds++) {
      const send = await this.d.sends.get(sendId);
      if (!send || send.status !== 'sending') return;
      this.latestChunk.set(sendId, Math.max(this.latestChunk.get(sendId) ?? 0, send.chunks));
      const rows = await this.d.deliveries.nextWaiting(sendId, send.cursor, this.d.settings.batch);
      if (!rows.length) {
        this.drained.add(sendId);
        this.scheduleFinishCheck(sendId);
        return;
      }
      const chunk = send.chunks;
      const claimed = await this.d.sends.update(send, { cursor: rows[rows.length - 1]!.key, chunks: chunk + 1, claimedAt: this.now.toISOString() });
      if (!claimed) return; // another instance took this batch
      this.latestChunk.set(sendId, chunk + 1);
      const handed = await this.handOver(claimed, rows, chunk);
      if (handed >= this.d.settings.batch / 2) return;
    }
  }

  /** Decides each row (not installed, held, or handed over), records it, then enqueues. Returns how many went. */
  private async handOver(send: Send, rows: readonly Delivery[], chunk: number): Promise<number> {
    const now = this.now;
    const updates: (Partial<Delivery> & { key: string })[] = [];
    const out: OutboundMessage[] = [];
    const infos = await mapLimit(rows, 16, (r) => (r.kind === 'user' ? this.d.chatOf(r.key) : Promise.resolve(undefined)));
    rows.forEach((row, i) => {
      const chat = infos[i];
      if (row.kind === 'user' && !chat) {
        updates.push({ key: row.key, state: 'notInstalled', reason: 'no 1:1 chat with the app', waiting: false, at: now.toISOString() });
        return;
      }
      const hold = row.kind === 'user' && this.d.settings.workingHours ? heldUntil(now, chat?.timeZone, this.d.settings.workingHours) : undefined;
      if (hold) {
        updates.push({ key: row.key, waiting: false, heldUntil: hold.toISOString(), chunk });
        return;
      }
      updates.push({ key: row.key, waiting: false, heldUntil: '', chunk, queuedAt: now.toISOString() });
      out.push(this.messageFor(send, row, chat));
    });
    await this.d.deliveries.batch(send.id, updates);
    const latest = await this.d.sends.get(send.id);
    if (latest?.status === 'cancelled') {
      // Cancelled while this batch was being prepared: it stays unsent.
      const unsent = out.map((m) => parseOutboundKey(m.key)!.recipient);
      await this.d.deliveries.batch(
        send.id,
        unsent.map((key) => ({ key, state: 'cancelled' as const, reason: CANCELLED_UNSENT, queuedAt: '' })),
      );
      await this.cancelRemaining(latest);
      return rows.length;
    }
    if (out.length) await this.d.outbox.enqueue(out);
    return out.length;
  }

  private messageFor(send: Send, row: Pick<Delivery, 'key' | 'kind' | 'attempt'>, chat: ChatInfo | undefined): OutboundMessage {
    const card: AdaptiveCard = messageCard(send.content, {
      sendId: send.ackFor,
      refreshUserId: chat?.teamsUserId,
      footer: this.d.settings.footer,
    });
    return {
      op: 'send',
      key: outboundKey(send.id, row.key, row.attempt),
      to: row.kind === 'channel' ? { kind: 'channel', role: row.key.slice('channel:'.length) as 'support' } : { kind: 'user', userKey: row.key },
      content: card,
      topic: topicOf(send.id),
    };
  }

  // ---- answers from the outbound path -----------------------------------------------------------------

  /** The outbound path's listener: records the answer on the row (idempotent), then keeps the send moving. */
  async onResult(message: Extract<OutboundMessage, { op: 'send' }>, result: DeliveryResult): Promise<void> {
    const parsed = parseOutboundKey(message.key);
    if (!parsed) return;
    const row = await this.d.deliveries.get(parsed.sendId, parsed.recipient);
    if (!row || row.attempt !== parsed.attempt) return; // an older attempt's late answer
    const { state, reason } = deliveryOf(result, row.kind);
    // A channel post's channel, kept for its "Got it" (counted only from that channel).
    const conversation = row.kind === 'channel' && result.state === 'sent' ? result.conversationId : undefined;
    if (row.state !== state || row.reason !== reason || (conversation && row.conversation !== conversation))
      await this.d.deliveries.record(parsed.sendId, parsed.recipient, {
        state,
        reason,
        waiting: false,
        at: this.now.toISOString(),
        ...(conversation ? { conversation } : {}),
      });
    const latest = this.latestChunk.get(parsed.sendId);
    if (latest === undefined || row.chunk >= latest - 1) await this.pump(parsed.sendId);
    if (this.progressDue(parsed.sendId)) {
      const send = await this.d.sends.get(parsed.sendId);
      if (send) await this.progress(send, false);
    }
    // Every row handed over: the end is near, so look for it (a burst of answers gives one look).
    if (this.drained.has(parsed.sendId)) this.scheduleFinishCheck(parsed.sendId);
  }

  private progressDue(sendId: string): boolean {
    return performance.now() - (this.lastProgress.get(sendId) ?? 0) >= this.d.settings.progressEveryMs;
  }

  // ---- progress and the end ---------------------------------------------------------------------------

  /** Redraws the requester's progress card (at most every `progressEveryMs`, unless `force`). */
  async progress(send: Send, force: boolean, tally?: Tally): Promise<void> {
    if (!send.notify || (send.status !== 'sending' && send.status !== 'cancelled')) return;
    if (!force && !this.progressDue(send.id)) return;
    this.lastProgress.set(send.id, performance.now());
    const t = tally ?? (await this.d.deliveries.tally(send.id));
    const settled = t.total - t.byState.pending;
    const version = send.attempt * VERSION_STEP + Math.min(settled + 1, VERSION_STEP - 2);
    const card = progressCard(progressOf(send, t, this.now));
    await this.d.outbox.enqueue([this.progressMessage(send, card, version, `p${version}`)]);
  }

  private progressMessage(send: Send, content: AdaptiveCard, version: number, tag: string): OutboundMessage {
    const post = { kind: PROGRESS_POST, id: send.id };
    // The first card of an attempt is sent; later ones replace it in place.
    return tag === 'start'
      ? { op: 'send', key: `${PROGRESS_POST}|${send.id}|${send.attempt}`, to: { kind: 'user', userKey: send.notify }, content, post: { ...post, version } }
      : { op: 'update', key: `${PROGRESS_POST}|${send.id}|${tag}`, post, version, content };
  }

  /** The progress card's first appearance, when a send starts (or restarts for a resend). */
  async announceProgress(send: Send): Promise<void> {
    if (!send.notify) return;
    const t = await this.d.deliveries.tally(send.id);
    const card = progressCard(progressOf(send, t, this.now));
    await this.d.outbox.enqueue([this.progressMessage(send, card, send.attempt * VERSION_STEP, 'start')]);
  }

  /** Checks for the end shortly after a burst of answers (one tally, not one per answer). */
  private scheduleFinishCheck(sendId: string): void {
    if (this.finishTimers.has(sendId)) return;
    const timer = setTimeout(() => {
      this.finishTimers.delete(sendId);
      this.kick('finish check', () => this.finishIfDone(sendId));
    }, FINISH_CHECK_MS);
    timer.unref();
    this.finishTimers.set(sendId, timer);
  }

  /** When no row is pending: the send is done (or its cancel complete), the report replaces the progress card. */
  async finishIfDone(sendId: string): Promise<boolean> {
    const send = await this.d.sends.get(sendId);
    if (!send || (send.status !== 'sending' && send.status !== 'cancelled') || send.finishedAt) return false;
    // Most looks find rows still pending: that is asked without reading the whole send.
    if (await this.d.deliveries.anyPending(sendId)) return false;
    const t = await this.d.deliveries.tally(sendId);
    if (t.byState.pending > 0) return false;
    const done = await this.d.sends.update(send, {
      status: send.status === 'cancelled' ? 'cancelled' : 'done',
      finishedAt: this.now.toISOString(),
      counts: t.byState,
    });
    if (!done) return false;
    await this.d.sends.finish(sendId);
    this.latestChunk.delete(sendId);
    this.drained.delete(sendId);
    this.d.log.info({ sendId, ...t.byState }, 'broadcast finished');
    if (done.notify) {
      const card = await this.reportCardOf(done, t);
      await this.d.outbox.enqueue([this.progressMessage(done, card, done.attempt * VERSION_STEP + VERSION_STEP - 1, 'report')]);
    }
    this.d.onFinished?.(done);
    return true;
  }

  /**
   * Rows not yet handed over (waiting or held) become `cancelled`; those handed over are withdrawn from the outbound
   * path after the caller's turn: a copy no worker has taken yet (on a backlogged queue, or never queued at all) is
   * never sent and its row ends cancelled; one sent, or under way, keeps the answer it gets. Returns how many were not
   * handed over (`unsent`) and how many handed over are being taken back (`handedOver`).
   */
  async cancelRemaining(send: Send): Promise<{ unsent: number; handedOver: number }> {
    const rows: (Partial<Delivery> & { key: string })[] = [];
    const handed: Delivery[] = [];
    for await (const r of this.d.deliveries.rows(send.id, ['pending'])) {
      if (r.waiting || r.heldUntil) rows.push({ key: r.key, state: 'cancelled', waiting: false, heldUntil: '', reason: CANCELLED_UNSENT });
      else if (awaitingAnswer(r, Number.POSITIVE_INFINITY)) handed.push(r);
    }
    await this.d.deliveries.batch(send.id, rows);
    // Off the turn: a few storage calls per row handed over, and they can be thousands (Teams gives a turn ~15 s).
    // The cancel stands either way: a withdrawal that stops is done again at the next scheduled pass (idempotent).
    if (handed.length) this.kick('withdraw after a cancel', () => this.withdraw(send, handed));
    // Nothing more is handed over: its end is looked for as the answers of what was on its way come back (one look
    // now would find those pending, and none would follow until the scheduled pass).
    this.drained.add(send.id);
    this.scheduleFinishCheck(send.id);
    return { unsent: rows.length, handedOver: handed.length };
  }

  /** A send's rows handed over whose answer is not back. */
  private async handedOver(sendId: string): Promise<Delivery[]> {
    const out: Delivery[] = [];
    for await (const r of this.d.deliveries.rows(sendId, ['pending'])) if (awaitingAnswer(r, Number.POSITIVE_INFINITY)) out.push(r);
    return out;
  }

  /**
   * Takes these rows' messages back (their answers come to onResult: cancelled, or what Teams answered). Each row is
   * read again just before: a person forgotten since the rows were listed has no row any more, and taking their
   * message back would file an outbound row and an index row under their key after their forget reported done.
   */
  private async withdraw(send: Send, rows: readonly Delivery[]): Promise<void> {
    if (!rows.length) return;
    this.d.log.info({ sendId: send.id, rows: rows.length }, 'withdrawing messages handed over before a cancel');
    await mapLimit(rows, WITHDRAW_PARALLEL, async (listed) => {
      const r = await this.d.deliveries.get(send.id, listed.key);
      if (r?.state === 'pending' && r.attempt === listed.attempt && awaitingAnswer(r, Number.POSITIVE_INFINITY)) {
        await this.d.outbox.withdraw([this.messageFor(send, r, undefined)]);
      }
    });
  }

  // ---- the scheduled job's care of running sends ------------------------------------------------------

  /**
   * For each send not finished: resume an interrupted resolution, hand over rows whose working hours have
   * come, hand over again rows whose answer never came (a crash lost them), hand over a batch claimed and never
   * handed over (a crash between the two), hand over the next batch if nothing is moving, and close sends with
   * nothing pending.
   */
  async upkeep(send: Send): Promise<void> {
    const now = this.now;
    if (send.status === 'resolving') {
      // A "delayed" notice saved with its retry time and not told (a crash came between): told now, once.
      await this.tellDelayed(send);
      // A plan send waiting for Teams to answer for its audience is read again once its time to try has come.
      if (send.retryAt && Date.parse(send.retryAt) > now.getTime()) return;
      if (!send.startedAt || Date.parse(send.startedAt) <= now.getTime() - RESOLVE_HOLD_MS) await this.start(send.id);
      return;
    }
    if (send.status === 'sending') {
      const due: Delivery[] = [];
      const stale: Delivery[] = [];
      const staleBefore = now.getTime() - this.d.settings.staleMs;
      for await (const r of this.d.deliveries.rows(send.id, ['pending'])) {
        if (r.heldUntil && Date.parse(r.heldUntil) <= now.getTime()) due.push(r);
        else if (awaitingAnswer(r, staleBefore)) stale.push(r);
      }
      if (due.length) await this.handOver(send, due.slice(0, this.d.settings.batch * 4), send.chunks);
      if (stale.length) {
        this.d.log.warn({ sendId: send.id, rows: stale.length }, 'no answer for handed-over messages; handing them over again');
        await this.handOver(send, stale, send.chunks);
      }
      // A batch claimed by an instance that stopped before its rows said so: behind the cursor, still waiting, so
      // neither the pump (it goes on after the cursor) nor the look for stale rows above would ever hand it over.
      if (send.cursor && (!send.claimedAt || Date.parse(send.claimedAt) <= staleBefore)) {
        const orphans = await this.d.deliveries.waitingUpTo(send.id, send.cursor, this.d.settings.batch * 4);
        if (orphans.length) {
          this.d.log.warn({ sendId: send.id, rows: orphans.length }, 'a claimed batch was never handed over; handing it over now');
          await this.handOver(send, orphans, send.chunks);
        }
      }
      await this.pump(send.id);
    }
    // A cancel's withdrawal that stopped part-way (or an instance that stopped before it) is done again: idempotent.
    if (send.status === 'cancelled') await this.withdraw(send, await this.handedOver(send.id));
    await this.finishIfDone(send.id);
  }

  /** The delivery report as it stands (the final card, and the report's "Refresh"). */
  async reportCardOf(send: Send, tally?: Tally): Promise<AdaptiveCard> {
    const t = tally ?? (await this.d.deliveries.tally(send.id));
    const [reached, acked] = await Promise.all([this.d.deliveries.reachedUsers(send.id), this.d.acks.who(send.ackFor)]);
    return reportCard(reportOf(send, t, { reached, acked }));
  }
}
