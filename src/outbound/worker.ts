import type { KnownRow, PostStore } from '../conversations/posts.js';
import type { ConversationStore, StoredConversation } from '../conversations/store.js';
import type { Logger } from '../log.js';
import type { ConversationBudget, TenantBudget } from './budget.js';
import { type Claim, type DeliveryRow, type DeliveryStore, hasEnded, resultOf } from './deliveries.js';
import { type LeaseHold, type LeaseStore, SendLease } from './send-lease.js';
import type { DeliveryIndex } from './delivery-index.js';
import type { Destination, DeliveryResult, OutboundMessage, Outbox } from './message.js';
import type { ResultListeners } from './outbox.js';
import { encodeBody, failuresOf, lateRoundsOf, type OutboundQueue, type QueueBody, type Received } from './queue.js';
import { WindowStats } from './stats.js';
import { backoffMs, NotSent, type Transport, type Verdict, verdictOf } from './transport.js';
import { UpdateTurns } from './update-turns.js';
import { metrics } from '../telemetry/metrics.js';
import { withCorrelation } from '../telemetry/correlation.js';

export interface WorkerOptions {
  /** Names this instance in delivery rows (who holds an attempt). */
  id: string;
  /** How long a received message stays hidden from other instances. */
  visibilitySec: number;
  /** Messages taken from the queue per receive (1–32). */
  batch: number;
  /** Messages handled at once (most of them wait for their send slot). */
  maxInFlight: number;
  /** Empty queue: look again after this long, doubling up to `maxPollMs`. */
  minPollMs: number;
  maxPollMs: number;
  /** One request to the connector may take this long. */
  sendTimeoutMs: number;
  /** A message whose conversation has no room for longer than this goes back to the queue until it has. */
  maxHoldMs: number;
  /** Tries of one message (429s excepted) before it is failed. */
  maxAttempts: number;
  /** A request that would leave later than this after its planned slot is not sent in it (limits hold). */
  maxLateMs: number;
  /** Added to a claim's hold, for recording the answer; past the hold an attempt counts as cut off. */
  recordMarginMs: number;
  /** The send lease is renewed this often while attempts are held: about what a kill leaves unconfirmed. */
  leaseEveryMs: number;
  now?: () => number;
}

export const DEFAULT_WORKER_OPTIONS: Omit<WorkerOptions, 'id'> = {
  visibilitySec: 15,
  batch: 32,
  maxInFlight: 24,
  minPollMs: 50,
  maxPollMs: 1_000,
  sendTimeoutMs: 15_000,
  maxHoldMs: 3_000,
  maxAttempts: 8,
  recordMarginMs: 15_000,
  maxLateMs: 30,
  leaseEveryMs: 25,
};

/** The least time recording an answer is given (a Storage write or two). */
const MIN_RECORD_MARGIN_MS = 3_000;

/**
 * The parts of a claim on an attempt of `claimMs` (OUTBOUND_CLAIM_SECONDS): re-planning within three `maxHoldMs`,
 * the request (`sendTimeoutMs`, always the default 15 s: Teams often takes 2–5 s to create a conversation, and an
 * answer that comes later than this counts as none, so the message would be sent again, a duplicate), and the rest
 * for recording its answer (`recordMarginMs`, at least MIN_RECORD_MARGIN_MS). The default 39 s is 9 s + 15 s + 15 s;
 * the least, 27 s, is 9 s + 15 s + 3 s: a shorter claim settles a kill's cut-off attempts sooner, but leaves less
 * time to record an answer before the attempt counts as cut off (recorded unconfirmed rather than sent).
 */
export function claimParts(claimMs: number, maxHoldMs = DEFAULT_WORKER_OPTIONS.maxHoldMs): Pick<WorkerOptions, 'sendTimeoutMs' | 'recordMarginMs'> {
  const sendTimeoutMs = DEFAULT_WORKER_OPTIONS.sendTimeoutMs;
  return { sendTimeoutMs, recordMarginMs: Math.max(MIN_RECORD_MARGIN_MS, claimMs - 3 * maxHoldMs - sendTimeoutMs) };
}

export interface WorkerDeps {
  queue: OutboundQueue;
  deliveries: DeliveryStore;
  posts: PostStore;
  conversations: ConversationStore;
  tenant: TenantBudget;
  conversationBudget: ConversationBudget;
  /** Every worker's send lease (send-lease.ts): what settles an attempt a kill cut off. */
  leases: LeaseStore;
  transport: Transport;
  listeners: ResultListeners;
  /** Where fallbacks are enqueued (the same outbox). */
  outbox: Outbox;
  log: Logger;
  /** Files each message taken by day and recipient (retention and privacy); none in some unit tests. */
  index?: Pick<DeliveryIndex, 'record'>;
}

/** One message to handle, and what to do with the queue message that brought it. */
interface Job {
  message: OutboundMessage | undefined;
  /** Where a send to a person goes, looked up with the rest of its pack (one query for many). */
  to?: Promise<StoredConversation | undefined>;
  /** Finished with it (settled or dropped). */
  done(): Promise<void>;
  /** Back to the queue, visible again after `ms` (no failure: the failures it met so far go with it). */
  defer(ms: number): Promise<void>;
  /** Back to the queue after a failure: visible again after the backoff of its failures so far, one more counted. */
  failed(): Promise<void>;
  /** Back to the queue after a round late for every slot: visible again after a pause growing with such rounds. */
  late(): Promise<void>;
  /** Rounds late for every slot it has been through already (each `LATE_PLANS` plans missed). */
  lateRounds: number;
  /** Started only once this ends: the send of the post it updates, from the same pack (see `jobsOf`). */
  after?: Promise<void>;
  /** Ends `after` for the jobs waiting on this one: it was handled, or given back unstarted. */
  finished?: () => void;
}

type Send = Extract<OutboundMessage, { op: 'send' }>;

/** An attempt this worker claimed: the row's ETag and what the row says about it. */
interface Held {
  etag: string;
  attempt: number;
  /** The send lease incarnation the row names as holder: only its promises let the request leave. */
  incarnation: string;
  /** The request never leaves before this (the row says so). */
  slot: number;
  /** Nor after this: past it the hold may run out and another worker decide about the attempt. */
  sendBy: number;
  /** The request was handed to the transport. */
  out: boolean;
  /** What the send lease must cover for it (its request's latest moment), until released. */
  lease: LeaseHold;
}
type Update = Extract<OutboundMessage, { op: 'update' }>;

/**
 * The request an attempt's current plan recorded in its conversation's windows (the time it was logged at), until
 * the request leaves. A plan given up takes it off again and a new plan replaces it in the same write: left there,
 * requests never made held the windows fuller than they were, on every instance, and later sends waited for them.
 */
interface Planned {
  entry?: number;
}

/** The most messages a queue message carries (QueueOutbox's pack). */
const FULL_PACK = 50;

/** How long a request due now waits for its send lease's renewal before it takes another slot. */
const LEASE_WAIT_MS = 5;

/**
 * A holder whose lease was not renewed for this long since its claim is taken for gone (a live one renews every
 * `leaseEveryMs` while a claim it holds is not covered yet, and sends a covered one within its promise); its lease
 * is then revoked and its unsent attempts taken over. Safe either way: past its promise it sends nothing.
 */
const HOLDER_GONE_MS = 5_000;

/** How much later than planned a request may go to its conversation (its windows are measured 100 ms longer). */
const CONVERSATION_SHIFT_MS = 50;

/** Plans in a row a message may be late for (a starved event loop) before it is given back to the queue. */
const LATE_PLANS = 5;

/**
 * The pause before a message given back after `rounds` rounds late for every slot is visible again: about 1 s,
 * 2 s, 4 s, then at most 8 s. A worker late for every slot got it back after 1 s (an update at once), again and
 * again, at a dozen storage calls a round and no request; pausing longer each round costs less while it is starved,
 * and leaves the message to other instances meanwhile. Counted apart from failures, whose backoff stays their own.
 */
const lateBackoffMs = (rounds: number) => Math.min(8_000, backoffMs(rounds));

/** Plans a message may miss (late at the socket) before its plans take a run of tenant slots instead of one. */
const WIDEN_AFTER = 2;
/**
 * The plans a message counts as missed when planning its `tries`th: this round's, and for a message back from a late
 * round, `WIDEN_AFTER` more (it starts at a run of two, not where the last round ended: a run's spare slots are
 * taken from every instance's budget, and the event loop may have recovered since).
 */
export const missedPlans = (job: Pick<Job, 'lateRounds'>, tries: number) => tries + (job.lateRounds > 0 ? WIDEN_AFTER : 0);

/**
 * How many tenant slots (`interval` ms apart) a plan takes after its message missed `missed` plans (late at the
 * socket, a starved event loop): one, then after `WIDEN_AFTER` runs doubling each time, up to a second's worth.
 * Missed by more than a slot allows every time, a message was planned again and again, refused each time, and a
 * broadcast never finished; a run lets it leave later and still keeps every window under the limit, so it goes.
 */
export function slotRun(missed: number, interval: number): number {
  if (missed < WIDEN_AFTER) return 1;
  const most = Math.max(1, Math.floor(1_000 / interval));
  return Math.min(most, 2 ** (missed - WIDEN_AFTER + 1));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
/** A conversation id without a thread's `;messageid=`: Teams counts a channel's threads against the channel. */
const rootOf = (conversationId: string) => conversationId.split(';messageid=')[0] ?? conversationId;

/**
 * Takes messages from the outbound queue and sends them under the shared budget. For each message:
 * resolve where it goes → plan a request slot (tenant and conversation windows, shared by all instances) →
 * at that time claim the delivery row (`sending`, written before the request) → one request → record the
 * answer at once → follow-ups (post version, fallback, listeners) → delete the queue message.
 * A crash anywhere leaves the queue message to come back; its row says what already happened.
 */
export class OutboundWorker {
  private readonly opts: WorkerOptions;
  private readonly now: () => number;
  /** Messages received and not yet taken by a handler. */
  private readonly jobs: Job[] = [];
  private readonly waiting: (() => void)[] = [];
  /**
   * Jobs per queue message in the last receive, to take no more queue messages than needed: starts at a full
   * pack, so a worker never takes a whole broadcast's packs at once (they would be hidden from every other
   * instance, and after a kill from its successor, until their visibility runs out).
   */
  private jobsPerMessage = FULL_PACK;
  /** Queue messages received and not finished, by id: kept hidden from other instances while we work on them. */
  private readonly held = new Map<string, Received>();
  /** A renewal of the holds is under way (the next one waits its turn rather than race it). */
  private renewing = false;
  private keepAlive: ReturnType<typeof setInterval> | undefined;
  private running = false;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** A look at the queue is due now, not after the idle backoff (see `nudge`). */
  private nudged = false;
  /** A message put back is coming due: after the look, look often again for a moment (see `nudgeAfter`). */
  private hurried = false;
  /** The nudges planned for messages put back, one per second they come back in (see `nudgeAfter`). */
  private readonly nudgeAt = new Map<number, ReturnType<typeof setTimeout>>();
  /** Updates of a post applying or waiting on this worker (update-turns.ts). */
  private readonly updateTurns = new UpdateTurns();
  /** Ends the waits that give way to a stop (`pauseUnlessStopping`). */
  private readonly onStop = new Set<() => void>();
  readonly stats = new WindowStats();
  /** This worker's promise of when it sends no more (send-lease.ts), under a name no other process uses. */
  readonly lease: SendLease;

  constructor(
    private readonly deps: WorkerDeps,
    opts: Partial<WorkerOptions> & { id: string },
  ) {
    this.opts = { ...DEFAULT_WORKER_OPTIONS, ...opts };
    this.now = this.opts.now ?? Date.now;
    this.lease = new SendLease(deps.leases, this.opts.id, deps.log, {
      everyMs: this.opts.leaseEveryMs,
      maxReachMs: 1_000,
      now: this.now,
    });
  }

  /**
   * Something for the queue is there now (this instance enqueued it): look at once, rather than after the idle
   * backoff (up to `maxPollMs`), which every message enqueued on an idle instance waited out. The backoff itself
   * goes on where it was: the message is visible when the nudge comes, so looking often again after it found only
   * empty queues (four to five receives a message, 40% of the outbound path's storage calls under load).
   */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  /**
   * A message put back for `ms` is visible again after the queue's whole seconds: look then. One timer per tenth
   * of a second at most (a broadcast puts thousands back), and none once stopping.
   */
  private nudgeAfter(ms: number): void {
    if (this.stopping || !(ms > 0)) return;
    const at = Math.ceil((Date.now() + Math.ceil(ms / 1_000) * 1_000) / 100) * 100;
    if (this.nudgeAt.has(at)) return;
    const timer = setTimeout(() => {
      this.nudgeAt.delete(at);
      // The queue's clock decides when it is visible again, not ours: a look that comes a little early is followed
      // by short waits, not the idle one.
      this.hurried = true;
      this.nudge();
    }, at - Date.now() + 20);
    timer.unref();
    this.nudgeAt.set(at, timer);
  }

  /** Holding queue messages or jobs: something taken from the queue is not finished yet. */
  get busy(): boolean {
    return this.jobs.length > 0 || this.held.size > 0;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.lease.start();
    // A pack's messages can take longer than the hold: renew it every third of the hold.
    this.keepAlive = setInterval(() => void this.renewHeld(), (this.opts.visibilitySec * 1_000) / 3);
    this.keepAlive.unref();
    this.loop = this.receiveLoop().catch((err: unknown) => this.deps.log.error({ err }, 'outbound worker stopped'));
  }

  /**
   * Stops taking messages; those still waiting for their slot go back to the queue for another instance, those
   * whose request has left are finished and recorded. Resolves within about `timeoutMs`.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    for (const t of this.nudgeAt.values()) clearTimeout(t);
    this.nudgeAt.clear();
    this.wake?.();
    this.wakeHandlers();
    for (const end of [...this.onStop]) end();
    await Promise.race([this.loop, sleep(timeoutMs)]);
    // The tenant slots claimed and not used go back to the other instances (up to a block, ≈250 ms of budget).
    await this.deps.tenant.returnUnused().catch((err: unknown) => {
      this.deps.log.warn({ err }, 'could not hand unused tenant send slots back; they stay unused');
    });
    clearInterval(this.keepAlive);
    await this.lease.stop();
    this.running = false;
  }

  /** No longer ours to keep hidden (a newer receipt of the same message stays held). */
  private letGo(r: Received): void {
    if (this.held.get(r.id) === r) this.held.delete(r.id);
  }

  /**
   * Renews every hold together, one pass at a time: renewed one after another, or in overlapping passes, holds ran
   * out on slow storage, and the worker received its own messages again.
   */
  private async renewHeld(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      await Promise.all(
        [...this.held.values()].map((r) =>
          this.deps.queue.defer(r, this.opts.visibilitySec * 1_000).catch((err: unknown) => {
            this.deps.log.warn({ err }, 'could not keep an outbound queue message hidden');
          }),
        ),
      );
    } finally {
      this.renewing = false;
    }
  }

  private async receiveLoop(): Promise<void> {
    let idle = this.opts.minPollMs;
    const handlers: Promise<void>[] = [];
    for (let i = 0; i < this.opts.maxInFlight; i++) handlers.push(this.handleJobs());
    while (!this.stopping) {
      // Top up when the jobs at hand run low: enough to keep the slots busy, in few receive calls.
      if (this.jobs.length >= this.opts.maxInFlight) {
        await this.nap(100);
        continue;
      }
      let got: Received[] = [];
      // As many queue messages as make about twice `maxInFlight` jobs (a pack holds many).
      const want = Math.ceil((2 * this.opts.maxInFlight - this.jobs.length) / this.jobsPerMessage);
      const asked = Math.max(1, Math.min(this.opts.batch, want));
      try {
        got = await this.deps.queue.receive(asked, this.opts.visibilitySec);
      } catch (err) {
        this.deps.log.warn({ err }, 'could not read the outbound queue; trying again');
      }
      let taken = 0;
      for (const r of got) {
        const mine = this.held.get(r.id);
        if (mine) {
          // Its hold ran out while we still have it, and it came back to us: the new hold is ours, under the
          // receipt just given. Its messages are being handled already; starting them again would only make
          // them wait on their own claims, and the old receipt would fail to delete or put it back.
          mine.popReceipt = r.popReceipt;
          mine.dequeueCount = r.dequeueCount;
          continue;
        }
        const jobs = await this.jobsOf(r);
        taken += jobs.length;
        if (!(await this.indexed(r, jobs))) continue;
        this.jobs.push(...jobs);
      }
      if (got.length) this.jobsPerMessage = taken / got.length;
      this.wakeHandlers();
      // All it asked for: more may be waiting (a backlog), look again now and often after.
      if (got.length >= asked) idle = this.opts.minPollMs;
      else {
        // Fewer (or none): the queue held no more just now. Its next look is after the idle wait, or when nudged,
        // not at once: the look at once after each message taken found an empty queue.
        if (!this.nudged) await this.nap(idle);
        // Nudged while looking or napping: look again now. For a put-back message coming due, then back off from the
        // shortest wait; for one just enqueued, from where the backoff was.
        if (this.hurried) idle = this.opts.minPollMs;
        else if (!this.nudged) idle = Math.min(this.opts.maxPollMs, idle * 2);
        this.nudged = false;
        this.hurried = false;
      }
    }
    this.wakeHandlers();
    await Promise.all(handlers);
    // What a receive brought while we were stopping, after the handlers had gone: back to the queue at once,
    // rather than hidden from every other instance until its hold runs out.
    for (const job of this.jobs.splice(0)) await job.defer(0).catch(() => {});
  }

  private nap(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  /**
   * A wait that ends early when the worker stops: only for a wait followed by a look at `stopping` (never for one
   * until a request's slot, which a request must not leave before). Waits for room in busy channels held a
   * stopping instance up for seconds, each message in turn, and then planned requests it would not make.
   */
  private pauseUnlessStopping(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.onStop.delete(end);
        resolve();
      };
      const timer = setTimeout(end, Math.max(0, ms));
      this.onStop.add(end);
    });
  }

  private wakeHandlers(): void {
    for (const w of this.waiting.splice(0)) w();
  }

  /** One of `maxInFlight` loops taking jobs; when stopping, jobs not started go back to the queue. */
  private async handleJobs(): Promise<void> {
    for (;;) {
      const job = this.jobs.shift();
      if (job && this.stopping) {
        await job.defer(0).catch(() => {});
        job.finished?.();
        continue;
      }
      if (job) {
        try {
          if (job.after) await job.after;
          await this.handle(job);
        } finally {
          job.finished?.();
        }
        continue;
      }
      if (this.stopping) return;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /**
   * A queue message as jobs: one, or one per message of a pack. A pack is deleted when all of its messages
   * are done; one that must wait goes back to the queue on its own (its row keeps it from being sent twice).
   */
  private async jobsOf(r: Received): Promise<Job[]> {
    const q = this.deps.queue;
    this.held.set(r.id, r);
    const single = (message: OutboundMessage | undefined): Job => ({
      message,
      done: () => {
        this.letGo(r);
        return q.delete(r);
      },
      defer: async (ms) => {
        this.letGo(r);
        await q.defer(r, ms);
        this.nudgeAfter(ms);
      },
      failed: () => {
        this.letGo(r);
        return this.deferFailed(r);
      },
      late: () => {
        this.letGo(r);
        const l = lateRoundsOf(r.body) + 1;
        return q.defer(r, lateBackoffMs(l), r.body && { ...r.body, l });
      },
      lateRounds: lateRoundsOf(r.body),
    });
    if (!r.body) return [single(undefined)];
    if ('m' in r.body) return [single(r.body.m)];
    if ('large' in r.body) {
      const json = await this.deps.deliveries.loadPayload(r.body.large.key);
      return [single(json ? (JSON.parse(json) as OutboundMessage) : undefined)];
    }
    let remaining = r.body.batch.length;
    const finish = async () => {
      if (--remaining === 0) {
        this.letGo(r);
        await q.delete(r);
      }
    };
    const lookups = this.lookUpPack(r.body.batch);
    const packFailures = failuresOf(r.body);
    const packLate = lateRoundsOf(r.body);
    const jobs: Job[] = r.body.batch.map((message) => {
      const putBack = async (ms: number, failures: number, late = packLate) => {
        try {
          const body: QueueBody = { v: 1, m: message, ...(failures ? { f: failures } : {}), ...(late ? { l: late } : {}) };
          await q.send(encodeBody(body), ms);
          this.nudgeAfter(ms);
        } catch (err) {
          // Not put back on its own: the pack is no longer kept hidden, so it comes back whole when its hold runs
          // out (its rows keep the others from going twice). Kept hidden, this message would wait for a restart.
          this.letGo(r);
          throw err;
        }
        await finish();
      };
      return {
        message,
        to: message.op === 'send' && message.to.kind === 'user' ? lookups(message.to.userKey) : undefined,
        done: finish,
        defer: (ms: number) => putBack(ms, packFailures),
        failed: () => putBack(backoffMs(packFailures + 1), packFailures + 1),
        late: () => putBack(lateBackoffMs(packLate + 1), packFailures, packLate + 1),
        lateRounds: packLate,
      };
    });
    // A feature posts a card and draws it at once (the send and its update, packed together). Started side by side,
    // the update found the post pending and went back to the queue for 2 s; after the send, it finds it posted.
    // Jobs are taken in order, so the send has started (or been given back) before its update waits on it.
    const sent = new Map<string, Promise<void>>();
    for (const job of jobs) {
      const m = job.message;
      if (!m) continue;
      const post = `${m.post?.kind}\u0000${m.post?.id}`;
      if (m.op === 'send' && m.post) sent.set(post, new Promise<void>((resolve) => (job.finished = resolve)));
      else if (m.op === 'update') job.after = sent.get(post);
    }
    return jobs;
  }

  /**
   * The 1:1 chats of a pack's recipients, read together up front; a recipient whose read failed is read again
   * when its message is handled (and fails alone, not the pack).
   */
  private lookUpPack(batch: readonly OutboundMessage[]): (userKey: string) => Promise<StoredConversation | undefined> {
    const c = this.deps.conversations;
    const keys = batch.flatMap((m) => (m.op === 'send' && m.to.kind === 'user' ? [m.to.userKey] : []));
    if (keys.length < 2) return (key) => c.personalChat(key);
    const found = c.personalChats(keys).catch(() => ({ chats: new Map<string, StoredConversation>(), failed: new Set(keys) }));
    return async (key) => {
      const { chats, failed } = await found;
      return failed.has(key) ? c.personalChat(key) : chats.get(key);
    };
  }

  /**
   * Files a queue message's messages by day and recipient (delivery-index.ts: retention and privacy) before any
   * is handled; when that fails, the queue message comes back later rather than leave an unfindable row.
   */
  private async indexed(r: Received, jobs: Job[]): Promise<boolean> {
    if (!this.deps.index) return true;
    const messages = jobs.flatMap((j) => (j.message ? [j.message] : []));
    try {
      await this.deps.index.record(messages, r.body && 'large' in r.body ? r.body.large.key : undefined);
      return true;
    } catch (err) {
      this.deps.log.warn({ err }, 'outbound messages not indexed yet; they come back later');
      this.letGo(r);
      await this.deferFailed(r).catch(() => {});
      return false;
    }
  }

  /** A whole queue message back after a failure: the backoff of its failures so far, one more counted in it. */
  private deferFailed(r: Received): Promise<void> {
    const failures = failuresOf(r.body) + 1;
    return this.deps.queue.defer(r, backoffMs(failures), r.body && { ...r.body, f: failures });
  }

  /** One message, under the correlation id of the turn or job that enqueued it. */
  private handle(job: Job): Promise<void> {
    return withCorrelation(() => this.handleTraced(job), job.message?.corr);
  }

  private async handleTraced(job: Job): Promise<void> {
    const m = job.message;
    try {
      if (!m) {
        this.deps.log.error('unreadable outbound queue message dropped');
        await job.done();
        return;
      }
      if (m.op === 'send') await this.handleSend(job, m);
      else await this.handleUpdate(job, m);
    } catch (err) {
      // Storage trouble or a listener's fault: the message comes back later and its row says where it stopped.
      this.deps.log.warn({ err, key: m?.key }, 'outbound message not finished; it will be tried again');
      await job.failed().catch(() => {});
    }
  }

  // ---- send --------------------------------------------------------------------------------------------

  private async handleSend(job: Job, m: Send): Promise<void> {
    const conv = await (job.to ?? this.resolve(m.to));
    if (!conv) {
      this.deps.log.info({ key: m.key.slice(0, 120), to: m.to.kind }, 'no conversation to send to; recorded as not installed');
      await this.settleSend(job, m, { state: 'notInstalled' });
      return;
    }
    let held: Held | undefined;
    const planned: Planned = {};
    try {
      await this.sendAtSlot(job, m, conv, planned, (h) => (held = h));
    } catch (err) {
      // Storage failed before the request left: the attempt goes back to pending rather than wait out its hold
      // (and then count as cut off), and its plan's request off its conversation's windows. Once the request has
      // left, only its answer may settle the row.
      const h = held as Held | undefined;
      if (h && !h.out) await this.giveBack(m, h, 'storage trouble before the request').catch(() => {});
      await this.forgetPlan(conv, planned);
      throw err;
    } finally {
      held?.lease.release();
    }
  }

  /**
   * Plans a slot, claims the row saying the request leaves at that slot and never before (well ahead of it:
   * what recent claim writes took at most), and sends at the slot while the send lease covers the time. A
   * request that would leave later than `maxLateMs` after its slot is not sent in it: it takes a later one
   * (the claim kept, its slot moved on when re-planned), so the limits hold however slow storage is.
   */
  private async sendAtSlot(
    job: Job,
    m: Send,
    conv: StoredConversation,
    planned: Planned,
    onHeld: (h: Held) => void,
  ): Promise<void> {
    const tenant = conv.tenantId ?? '';
    let held: Held | undefined;
    for (let tries = 0; ; tries++) {
      const run = slotRun(missedPlans(job, tries), this.deps.tenant.interval);
      // Planning again keeps the claim (giving it back and claiming again would add two writes exactly when
      // storage is slow), but never past what its hold allows: then it is given back and the message waits.
      // After `LATE_PLANS` plans it was late for (a starved event loop), no further plan: it would only be missed too.
      const overdue = held !== undefined && this.now() > held.sendBy - this.opts.maxHoldMs;
      const late = tries >= LATE_PLANS;
      const plan =
        overdue || late
          ? { deferUntil: this.now() + 1_000 }
          : await this.plan(conv, held ? Math.max(held.slot, this.now() + 2 * this.claimLead) : 0, planned, run);
      if ('deferUntil' in plan) {
        if (held) await this.giveBack(m, held, late ? 'late for its slots' : 'waiting for room');
        await this.forgetPlan(conv, planned);
        if (late) await job.late();
        else await job.defer(plan.deferUntil - this.now());
        return;
      }
      if (!held) {
        await this.pauseUnlessStopping(plan.at - this.claimLead - this.now());
        if (this.stopping) {
          await this.dropPlan(conv, planned, plan.at, run);
          await job.defer(0); // not claimed: another instance can take it straight away
          return;
        }
        held = await this.acquire(job, m, plan.at);
        if (!held) {
          // Settled (a duplicate), or someone else's attempt: this plan's request will not be made. Taken off the
          // windows with this instance's next write to them, not a write of its own: these paths cost no more.
          this.giveBackRun(tenant, plan.at, run);
          if (planned.entry !== undefined) this.deps.conversationBudget.forgetLater(rootOf(conv.conversationId), planned.entry);
          planned.entry = undefined;
          return;
        }
        onHeld(held);
      } else if (plan.at > held.slot) {
        // The row says when the request leaves at the earliest: kept true, a kill meanwhile leaves it provably unsent.
        const etag = await this.deps.deliveries.moveSlot(m, held.etag, plan.at);
        if (etag === undefined) {
          await this.dropPlan(conv, planned, plan.at, run);
          await job.defer(0); // no longer ours as we left it: whoever has it now decides
          return;
        }
        held.etag = etag;
        held.slot = plan.at;
      }
      // Too late for its slot: it takes the next free slot of this instance's own (no storage call, the claim
      // kept) while that is within what the conversation's wider windows allow for, else plans again.
      if (held.incarnation !== this.lease.incarnation) {
        // Our lease was revoked (another worker took us for gone): the attempt may be someone else's now.
        await this.giveBack(m, held, 'its send lease was revoked');
        await this.dropPlan(conv, planned, plan.at, run);
        await job.defer(0);
        return;
      }
      const lateMs = this.lateMsFor(run);
      let slot: number | undefined;
      for (let at = plan.at; ; ) {
        if (await this.inTime(at, held, lateMs)) {
          slot = at;
          break;
        }
        this.stats.count('late');
        // A run may leave late only thanks to the slots it leaves empty: a single slot taken now has none.
        if (run > 1) break;
        at = await this.deps.tenant.take(tenant, Math.max(held.slot, this.now() - this.opts.maxLateMs / 2));
        if (at - plan.at > CONVERSATION_SHIFT_MS) {
          // Beyond what the conversation's windows allow for: the slot is left for the next request.
          this.deps.tenant.giveBack(tenant, at);
          break;
        }
      }
      // Refused at the socket (late after all): the claim is kept and a new slot planned, its plan's request
      // replaced in the same write, so the windows hold however late the request would have been.
      if (slot !== undefined && (await this.sendHeld(job, m, conv, planned, held, slot, lateMs))) return;
    }
  }

  /**
   * Sends a held attempt in `slot` (at most `lateMs` after it), records the answer and follows up; false when the
   * request was not made (the transport's last check, right before the request is written, found it too late).
   */
  private async sendHeld(
    job: Job,
    m: Send,
    conv: StoredConversation,
    planned: Planned,
    held: Held,
    slot: number,
    lateMs: number,
  ): Promise<boolean> {
    let sent: { activityId: string } | undefined;
    let error: unknown;
    let sentAt: number | undefined;
    let reachMs = 0;
    // The last check, made by the transport right before the request is written (a starved event loop or a token
    // refresh can hold the request up after every check of ours): never before the slot its row states, nor more
    // than `lateMs` after the slot it uses (later, it would share a 1 s window with the next second's requests
    // at the limit: one too many, a 429), never after its hold allows, and only under a confirmed promise of the
    // send lease (so a kill can be settled).
    const go = (): boolean => {
      const now = this.now();
      if (now < held.slot || now < slot || now - slot > lateMs || now > held.sendBy) return false;
      if (!this.lease.covers(now, held.incarnation)) return false;
      sentAt = now;
      held.out = true;
      planned.entry = undefined; // its request is made: it stays in the windows
      reachMs = this.lease.upToMs - now;
      // The lease only has to cover requests leaving: it need not be renewed while this one's answer is recorded.
      held.lease.release();
      return true;
    };
    const window = this.stats.enter();
    try {
      sent = await this.deps.transport.send(conv, m.content, { timeoutMs: this.opts.sendTimeoutMs, go });
    } catch (err) {
      error = err;
    }
    if (error instanceof NotSent) {
      this.stats.leave(window);
      this.stats.count('late');
      return false;
    }
    // Unset: the transport failed before its check (no connector client), so no request was made.
    if (sentAt === undefined) await this.forgetPlan(conv, planned);
    sentAt ??= this.now();
    const late = sentAt - slot;
    const answeredAt = this.now();
    if (sent) {
      await this.deps.deliveries.settle(m, { state: 'sent', activityId: sent.activityId }, { conversationId: conv.conversationId });
      metrics.messageSent('sent');
      this.stats.leave(window, { late, recordMs: this.now() - answeredAt, sendMs: answeredAt - sentAt, reachMs });
      await this.followUp(job, m, { state: 'sent', activityId: sent.activityId }, conv.conversationId, conv);
      return true;
    }
    this.stats.leave(window, { late, recordMs: 0, sendMs: answeredAt - sentAt, reachMs });
    const verdict = verdictOf(this.deps.transport.failure(error));
    if (verdict.kind === 'throttled' || verdict.kind === 'retry') this.stats.count(verdict.kind);
    metrics.messageSent(verdict.kind === 'throttled' ? 'throttled' : 'failed');
    await this.pauseIfThrottled(conv, verdict);
    const outcome = await this.afterFailure(job, m, held.etag, held.attempt, verdict);
    if (outcome) await this.settleSend(job, m, outcome, conv.conversationId);
    return true;
  }

  /** Waits for the slot (and the lease to cover it); whether the request can still leave within `lateMs` of it. */
  private async inTime(at: number, held: Held, lateMs: number): Promise<boolean> {
    // Timers count from the event loop's cached time and can fire a little early: wait until it really is time.
    const deadline = at + lateMs;
    held.lease.need(deadline); // the lease is renewed only as far as a request held needs
    for (let t = Math.max(at, held.slot); this.now() < t; ) await sleep(Math.ceil(t - this.now()));
    if (held.incarnation !== this.lease.incarnation) return false; // revoked: no renewal will come for it
    if (!this.lease.covers(this.now())) {
      // Briefly: a request sent late because of the lease eats the jitter the guard keeps for its way there.
      this.stats.count('leaseWait');
      await this.lease.cover(this.now(), Math.min(deadline, this.now() + LEASE_WAIT_MS));
    }
    const now = this.now();
    return now <= deadline && now >= held.slot && this.lease.covers(now, held.incarnation);
  }

  /** Gives a held attempt back unsent (to pending: this or another instance tries it again). */
  private async giveBack(m: Send, held: Held, reason: string): Promise<void> {
    await this.deps.deliveries.release(m, held.etag, reason, held.attempt - 1);
  }

  /**
   * Claims the message's row for an attempt that will not leave before `slot`. Undefined when the job was dealt
   * with instead: settled already (follow-ups run again), held by a live attempt (deferred), or cut off where
   * the request may have left (recorded unconfirmed). A cut-off attempt that provably never left — its slot is
   * later than its worker's last send lease — is taken over and sent.
   */
  private async acquire(job: Job, m: Send, slot: number): Promise<Held | undefined> {
    // Renewing from now (the send waits for nothing), as far as its request may leave in that slot.
    const lease = this.lease.hold(slot + this.opts.maxLateMs);
    let held: Held | undefined;
    try {
      held = await this.claimOrSettle(job, m, slot, lease);
      return held;
    } finally {
      if (!held) lease.release();
    }
  }

  private async claimOrSettle(job: Job, m: Send, slot: number, lease: LeaseHold): Promise<Held | undefined> {
    for (let tries = 0; tries < 5; tries++) {
      const before = this.now();
      const incarnation = this.lease.incarnation;
      let got: Claim = await this.deps.deliveries.claim(m, incarnation, before, this.holdMs, slot);
      this.noteClaim(this.now() - before);
      if (got.kind === 'busy' && got.row && (await this.holderGone(got.row))) {
        // Its holder stopped renewing its lease long ago and the lease is now ended where it stood: an attempt
        // planned past it provably never left, so it need not wait out the hold (a kill's tail).
        const taken = await this.deps.deliveries.takeOver(m, got.row, incarnation, before, this.holdMs, slot);
        if (!taken) continue;
        this.stats.count('resumed');
        got = taken;
      }
      if (got.kind === 'cutOff') {
        const row = got.row;
        const upTo = row.holder && row.slot !== undefined ? await this.deps.leases.upTo(row.holder) : Number.POSITIVE_INFINITY;
        if (row.slot === undefined || (upTo !== undefined && row.slot <= upTo)) {
          // Its worker stopped when the request may have reached Teams: sending again could message the person
          // twice. The row says so, and a feature can offer "resend".
          this.stats.count('unconfirmed');
          await this.settleSend(job, m, {
            state: 'failed',
            reason: 'unconfirmed: the sender stopped when the request may have left; not sent again to avoid a duplicate',
          });
          return undefined;
        }
        const taken = await this.deps.deliveries.takeOver(m, row, incarnation, before, this.holdMs, slot);
        if (!taken) continue; // the row changed meanwhile: look again
        this.stats.count('resumed');
        got = taken;
      }
      if (got.kind === 'claimed') {
        return { etag: got.etag, attempt: got.attempt, incarnation, slot, sendBy: before + 3 * this.opts.maxHoldMs, out: false, lease };
      }
      // Held by another worker: look again when its hold runs out, or sooner in case that worker is found gone.
      if (got.kind === 'busy') await job.defer(Math.min(got.until - this.now() + 1_000, HOLDER_GONE_MS + 1_000));
      else await this.followUp(job, m, resultOf(got.row), got.row.conversationId);
      return undefined;
    }
    await job.defer(1_000);
    return undefined;
  }

  /**
   * Whether the worker holding this `sending` row is gone and its lease is now ended below the attempt's slot:
   * no renewal of its lease for `HOLDER_GONE_MS` since both the claim and its last promise. Ending (revoking) the
   * lease with its ETag makes that promise final whatever the clocks say; a live but stalled worker then goes on
   * under a new lease, and what it held past the old promise is never sent by it.
   */
  private async holderGone(row: DeliveryRow): Promise<boolean> {
    if (!row.holder || row.slot === undefined || this.lease.owns(row.holder)) return false;
    const claimedAt = row.at ? Date.parse(row.at) : Number.NaN;
    const now = this.now();
    if (!(now - claimedAt > HOLDER_GONE_MS)) return false;
    const lease = await this.deps.leases.read(row.holder);
    if (!lease || (!lease.revoked && now - lease.upTo <= HOLDER_GONE_MS)) return false;
    const upTo = await this.deps.leases.revoke(row.holder);
    return upTo !== undefined && row.slot > upTo;
  }

  /** Records a send's end, then its follow-ups. */
  private async settleSend(job: Job, m: Send, result: DeliveryResult, conversationId?: string): Promise<void> {
    await this.deps.deliveries.settle(m, result, { conversationId });
    this.stats.count(result.state);
    await this.followUp(job, m, result, conversationId);
  }

  /** Everything after the record, idempotent (it runs again if we stop before the queue message is deleted). */
  private async followUp(
    job: Job,
    m: Send,
    result: DeliveryResult,
    conversationId?: string,
    conv?: StoredConversation,
  ): Promise<void> {
    if (m.post) {
      if (result.state === 'sent') {
        const conversation = conv ?? (conversationId ? await this.deps.conversations.conversation(conversationId) : undefined);
        if (conversation)
          await this.deps.posts.recordSent(
            m.post.kind,
            m.post.id,
            { conversation, activityId: result.activityId },
            m.post.version,
            m.key,
          );
      } else await this.deps.posts.clearPending(m.post.kind, m.post.id, m.key);
    }
    if (m.fallback && (result.state === 'notInstalled' || result.state === 'blocked')) {
      await this.deps.outbox.enqueue([
        { op: 'send', key: `${m.key}~fallback`, to: m.fallback.to, content: m.fallback.content, topic: m.topic },
      ]);
    }
    // Listeners learn where it was posted: a channel post's "Got it" counts only from that channel.
    const told = result.state === 'sent' && conversationId ? { ...result, conversationId: rootOf(conversationId) } : result;
    await this.deps.listeners.notify(m, told);
    await job.done();
  }

  // ---- update ------------------------------------------------------------------------------------------

  /**
   * No read of the update's delivery row first (it has none, the usual case: one call less per update). The same
   * update taken again after it was drawn finds its post showing that version (stale, no request), and a skip does
   * not overwrite a row that says how it ended. The row is read when the request failed: for its tries so far, and
   * to leave the record of one that ended already. So a repeat of an update given up earlier (failed, or skipped for
   * a newer one that then failed) while its post still shows an older version gets one more request, where it was
   * dropped: replacing a message with the newer version asked for is harmless, as with any update.
   */
  private async handleUpdate(job: Job, m: Update, rounds = 0): Promise<void> {
    const { kind, id } = m.post;
    const turnAt = this.now();
    const turn = await this.deps.posts.beginUpdate(kind, id, m.version, turnAt, this.holdMs);
    if (turn.kind === 'missing' || turn.kind === 'stale') {
      const reason =
        turn.kind === 'missing' ? 'never posted' : `older than what the post shows (version ${turn.shown})`;
      await this.skipUpdate(job, m, reason);
      return;
    }
    const postKey = `${kind}\u0000${id}`;
    if (turn.kind === 'wait') {
      // An older update of this post applying on this worker: wait for it here rather than a second in the queue.
      const waited = this.stopping || rounds >= 5 ? { kind: 'elsewhere' as const } : await this.updateTurns.wait(postKey, m.version, turn.until - this.now());
      if (waited.kind === 'superseded') {
        await this.skipUpdate(job, m, `a newer version (${waited.by}) is drawn instead`);
        return;
      }
      if (waited.kind === 'ended') return this.handleUpdate(job, m, rounds + 1);
      await job.defer(turn.until - this.now());
      return;
    }
    const ended = this.updateTurns.begin(postKey, m.version);
    const conv = turn.post.conversation;
    const planned: Planned = {};
    try {
      // The turn is ours for `holdMs`; after that a newer update may take it and be shown. As with a send's claim, the
      // request never leaves after 3 × `maxHoldMs`, well inside the turn (the rest is for its answer and the clocks).
      const sendBy = turnAt + 3 * this.opts.maxHoldMs;
      await this.updateAtSlot(job, m, conv, turn.post.activityId, planned, sendBy, turn.row);
    } catch (err) {
      // Storage failed before the request left: its plan's request comes off the conversation's windows now, not
      // when it ages out (30 s of a channel's room held for a request never made, on every instance).
      await this.forgetPlan(conv, planned);
      throw err;
    } finally {
      ended();
    }
  }

  /**
   * Plans a slot for an update and makes its request in it (planned again when late), never after `sendBy` (its
   * turn on the post), then records the answer.
   */
  private async updateAtSlot(
    job: Job,
    m: Update,
    conv: StoredConversation,
    activityId: string,
    planned: Planned,
    sendBy: number,
    /**
     * The post's row as the turn's write left it: it names the message drawn on (shown only while the post is still
     * that one), and its end starts from it (or a later write here), without a read.
     */
    row: KnownRow,
  ): Promise<void> {
    const { kind, id } = m.post;
    for (let tries = 0; ; tries++) {
      const run = slotRun(missedPlans(job, tries), this.deps.tenant.interval);
      const lateMs = this.lateMsFor(run);
      // Near the end of its turn (a stalled worker): no further plan. It goes back to the queue and asks for a turn
      // again, skipped then if a newer version is shown meanwhile. Planned again and sent, a progress update held
      // up past its turn overwrote the final card that had taken the turn after it ("in progress" over "done").
      const overdue = this.now() > sendBy - this.opts.maxHoldMs;
      // Late for every plan so far, or stopping: no further plan (its request would not be made either).
      const plan = this.stopping || overdue || tries >= LATE_PLANS ? undefined : await this.plan(conv, 0, planned, run);
      if (!plan || 'deferUntil' in plan) {
        await this.forgetPlan(conv, planned);
        await this.deps.posts.endUpdate(kind, id, m.version, false, row);
        if (plan) await job.defer(plan.deferUntil - this.now());
        else if (this.stopping || overdue) await job.defer(0);
        else await job.late();
        return;
      }
      // Timers count from the event loop's cached time and can fire a little early: wait until it really is time.
      while (this.now() < plan.at) await sleep(Math.ceil(plan.at - this.now()));
      const inSlot = () => {
        const now = this.now();
        return now >= plan.at && now - plan.at <= lateMs && now <= sendBy;
      };
      // Checked again by the transport right before the request is written: not before its slot, nor late for it,
      // nor after its turn on the post.
      const go = (): boolean => {
        if (!inSlot()) return false;
        planned.entry = undefined; // its request is made: it stays in the windows
        return true;
      };
      try {
        if (inSlot()) {
          await this.deps.transport.update(conv, activityId, m.content, { timeoutMs: this.opts.sendTimeoutMs, go });
          break;
        }
      } catch (err) {
        if (!(err instanceof NotSent)) {
          await this.forgetPlan(conv, planned); // off the windows only if no request was made (`go` clears the entry once one is)
          const verdict = verdictOf(this.deps.transport.failure(err));
          // Before the post's turn is freed (a newer version would plan at once), and whatever its row says: a 429 is
          // the conversation's, and a repeat of an update that ended was answered one as much as any other request.
          // The turn is freed even when the pause cannot be written: held, it would keep newer versions back until
          // this update's retry or its claim's end.
          try {
            await this.pauseIfThrottled(conv, verdict);
          } finally {
            await this.deps.posts.endUpdate(kind, id, m.version, false, row);
          }
          if (verdict.kind === 'throttled' || verdict.kind === 'retry') this.stats.count(verdict.kind);
          const tried = await this.deps.deliveries.read(m);
          if (tried && hasEnded(tried)) {
            await job.done(); // taken again after it ended (given up, or drawn by another copy meanwhile): that record stands
            return;
          }
          const outcome = await this.afterFailure(job, m, undefined, (tried?.attempt ?? 0) + 1, verdict);
          if (outcome) await this.settleUpdate(job, m, outcome);
          return;
        }
      }
      this.stats.count('replanned');
    }
    await this.deps.posts.endUpdate(kind, id, m.version, true, row);
    await this.settleUpdate(job, m, { state: 'updated' });
  }

  private async settleUpdate(job: Job, m: Update, result: DeliveryResult): Promise<void> {
    await this.deps.deliveries.settle(m, result);
    this.stats.count(result.state);
    await job.done();
  }

  /** An update not drawn: recorded skipped, unless its row says how it ended already (taken twice: that stands). */
  private async skipUpdate(job: Job, m: Update, reason: string): Promise<void> {
    if (await this.deps.deliveries.settleUnlessEnded(m, { state: 'skipped', reason })) this.stats.count('skipped');
    await job.done();
  }

  // ---- shared ------------------------------------------------------------------------------------------

  /** A 429 pauses that conversation (on every instance) for Retry-After. */
  private async pauseIfThrottled(conv: StoredConversation, verdict: Verdict): Promise<void> {
    if (verdict.kind === 'throttled') await this.deps.conversationBudget.pause(rootOf(conv.conversationId), this.now() + verdict.retryAfterMs);
  }

  /**
   * After a request failed (a 429's pause already made: `pauseIfThrottled`): a throttled message waits out
   * Retry-After, retryable failures go back to the queue with backoff; returns the final result when there is
   * nothing more to try.
   */
  private async afterFailure(
    job: Job,
    m: OutboundMessage,
    etag: string | undefined,
    attempt: number,
    verdict: Verdict,
  ): Promise<DeliveryResult | undefined> {
    if (verdict.kind === 'throttled') {
      if (etag) await this.deps.deliveries.release(m, etag, 'throttled (429)');
      else await this.deps.deliveries.noteRetry(m, attempt - 1, 'throttled (429)');
      await job.defer(verdict.retryAfterMs + Math.random() * 500);
      return undefined;
    }
    if (verdict.kind === 'retry') {
      if (attempt >= this.opts.maxAttempts) return { state: 'failed', reason: `gave up after ${attempt} tries: ${verdict.reason}` };
      if (etag) await this.deps.deliveries.release(m, etag, verdict.reason);
      else await this.deps.deliveries.noteRetry(m, attempt, verdict.reason);
      await job.defer(backoffMs(attempt));
      return undefined;
    }
    if (verdict.kind === 'blocked') return { state: 'blocked' };
    if (verdict.kind === 'notInstalled') return { state: 'notInstalled' };
    this.deps.log.warn({ key: m.key, reason: verdict.reason }, 'outbound message failed');
    return { state: 'failed', reason: verdict.reason };
  }

  /**
   * A request slot for this conversation, not before `notBefore`: under its windows and the tenant's, as agreed
   * with the other instances. With `run` > 1, the first of a run of tenant slots (its request may leave up to
   * `lateMsFor(run)` after it), recorded in the conversation's windows at the run's last slot.
   */
  private async plan(
    conv: StoredConversation,
    notBefore: number,
    planned: Planned = {},
    run = 1,
  ): Promise<{ at: number } | { deferUntil: number }> {
    await this.deps.transport.prepare(conv);
    const cid = rootOf(conv.conversationId);
    const tenant = conv.tenantId ?? '';
    const budget = this.deps.conversationBudget;
    return budget.exclusive(cid, async () => {
      for (let tries = 0; tries < 8; tries++) {
        const now = this.now();
        // Stopping: no new plan (its request would not be made); the message goes back for another instance.
        if (this.stopping) return { deferUntil: now };
        const allowed = budget.earliest(cid, now);
        if (allowed > now + this.opts.maxHoldMs) return { deferUntil: allowed };
        if (allowed > now + 150) {
          // Wait near the conversation's time before taking a tenant slot: slots are claimed in order, and one
          // claimed far ahead would leave the budget before it unused.
          await this.pauseUnlessStopping(allowed - now - 100);
          continue;
        }
        // The slot leaves time to write its conversation window and its claim (or the claim's new slot) before
        // it: a slot due sooner would only be missed.
        const from = Math.max(notBefore || now + 2 * this.claimLead, allowed);
        const slot = await this.deps.tenant.take(tenant, from, run);
        // The stop may have come while the slot was on its way (a claim on the tenant row, slow on slow storage):
        // written now, the plan was a write after the stop, for a request never made.
        if (this.stopping) {
          this.giveBackRun(tenant, slot, run);
          return { deferUntil: this.now() };
        }
        // However late in its run the request leaves, it is no later than `maxLateMs` after this: the windows hold.
        const entry = Math.max(slot + (run - 1) * this.deps.tenant.interval, this.now());
        // The request the plan before this one recorded goes in the same write: it will not be made.
        if (await budget.commit(cid, entry, planned.entry)) {
          planned.entry = entry;
          return { at: slot };
        }
        this.giveBackRun(tenant, slot, run);
      }
      return { deferUntil: this.now() + 1_000 };
    });
  }

  /**
   * A plan given up before its request left: its request off the conversation's windows (one guarded write). Best
   * effort: when storage fails, the request stays counted (as it always did) and the message goes on its way.
   */
  private async forgetPlan(conv: StoredConversation, planned: Planned): Promise<void> {
    const entry = planned.entry;
    if (entry === undefined) return;
    planned.entry = undefined;
    try {
      await this.deps.conversationBudget.release(rootOf(conv.conversationId), entry);
    } catch (err) {
      this.deps.log.warn({ err }, 'could not take a plan never sent off its conversation windows; it stays counted');
    }
  }

  /** The same, and its tenant slots back to this instance's own (while still to come) for the next requests. */
  private async dropPlan(conv: StoredConversation, planned: Planned, slot: number, run: number): Promise<void> {
    this.giveBackRun(conv.tenantId ?? '', slot, run);
    await this.forgetPlan(conv, planned);
  }

  private giveBackRun(tenant: string, slot: number, run: number): void {
    for (let k = 0; k < run; k++) this.deps.tenant.giveBack(tenant, slot + k * this.deps.tenant.interval);
  }

  /** How long after the first slot of a run of `run` its request may leave (the run's spare slots, and the usual). */
  private lateMsFor(run: number): number {
    return this.opts.maxLateMs + (run - 1) * this.deps.tenant.interval;
  }

  private resolve(to: Destination): Promise<StoredConversation | undefined> {
    const c = this.deps.conversations;
    if (to.kind === 'user') return c.personalChat(to.userKey);
    if (to.kind === 'channel') return c.channelFor(to.role);
    return this.conversation(to.conversationId);
  }

  /** A known conversation, or a thread of a known channel (threads are not stored on their own). */
  private async conversation(id: string): Promise<StoredConversation | undefined> {
    const found = await this.deps.conversations.conversation(id);
    if (found || rootOf(id) === id) return found;
    const channel = await this.deps.conversations.conversation(rootOf(id));
    return channel ? { ...channel, conversationId: id } : undefined;
  }

  /** The last claim writes' times (ms), for the lead. */
  private readonly claimTimes: number[] = [];

  private noteClaim(ms: number): void {
    this.claimTimes.push(ms);
    if (this.claimTimes.length > 50) this.claimTimes.shift();
  }

  /**
   * How far ahead of its slot a row is claimed: the longest of the recent claim writes, plus 10 ms (at most 1 s),
   * so the request leaves on time even when storage is slow. Early costs nothing after a kill: the row says the
   * slot, and an attempt whose slot the worker's send lease never reached is sent again.
   */
  private get claimLead(): number {
    return Math.min(1_000, Math.max(10, ...this.claimTimes) + 10);
  }

  /** How long a claimed attempt is ours: re-planning (given up after twice `maxHoldMs`), one request, recording. */
  private get holdMs(): number {
    return 3 * this.opts.maxHoldMs + this.opts.sendTimeoutMs + this.opts.recordMarginMs;
  }
}
