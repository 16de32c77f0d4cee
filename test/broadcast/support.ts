import { ManualClock } from '../../src/clock.js';
import { openBroadcast, type Broadcast } from '../../src/broadcast/index.js';
import type { Plan, Send as BroadcastSend } from '../../src/broadcast/model.js';
import { parsePlan } from '../../src/broadcast/plan.js';
import type { ChatInfo } from '../../src/broadcast/runner.js';
import type { IssueFacts } from '../../src/broadcast/wins.js';
import { type DeliveryResult, type OutboundMessage, type Outbox, type ResultListener, WITHDRAWN } from '../../src/outbound/message.js';
import { EMPTY_ROLLOUT, type Rollout } from '../../src/rollout/model.js';
import type { Person } from '../../src/roles/roles.js';
import type { Tables } from '../../src/storage/tables.js';
import { testTables } from '../support/storage.js';

type Send = Extract<OutboundMessage, { op: 'send' }>;

/**
 * The outbound path as the feature sees it: `enqueue` stores and returns; `deliver()` then answers each
 * message once per key (enqueued twice → sent once, as the real path promises) and tells the listener.
 * `lose()` drops what is queued and not yet delivered: a crash of the process that held it. `take()` has a worker take
 * queued messages without answering yet (their requests on their way), `answerTaken()` answers them.
 * `withdraw` settles a key no worker has taken as withdrawn (its queued copy is then dropped), and replays the answer
 * of one answered; one taken and not answered is heard when it is.
 */
/** The conversation id of the channel set up for a role, as these tests have it. */
export const channelIdOf = (role: string) => `19:${role}@thread.tacv2`;

export class TestOutbox implements Outbox {
  readonly enqueued: OutboundMessage[] = [];
  /** Keys answered, in order: what recipients actually received. */
  readonly delivered: string[] = [];
  private queue: OutboundMessage[] = [];
  /** What the outbound path remembers having answered, by key (shared across instances in the real path). */
  readonly answered = new Map<string, DeliveryResult>();
  private listener: ResultListener | undefined;
  /** How a message is answered (default: sent; a channel post in that role's channel, see channelIdOf). */
  answer: (m: Send) => DeliveryResult = (m) => ({
    state: 'sent',
    activityId: `act-${m.key}`,
    ...(m.to.kind === 'channel' ? { conversationId: channelIdOf(m.to.role) } : {}),
  });

  /** Messages a worker took whose answer is not back yet (take), by key. */
  private readonly taken = new Map<string, Send>();

  async enqueue(messages: readonly OutboundMessage[]): Promise<void> {
    this.enqueued.push(...messages);
    this.queue.push(...messages);
  }

  async withdraw(messages: readonly OutboundMessage[]): Promise<void> {
    for (const m of messages) {
      if (m.op !== 'send' || this.taken.has(m.key)) continue;
      let result = this.answered.get(m.key);
      if (!result) {
        result = { state: 'failed', reason: WITHDRAWN };
        this.answered.set(m.key, result);
      }
      if (m.topic && this.listener) await this.listener(m, result);
    }
  }

  /** A worker takes the first `n` broadcast messages queued (not yet answered) and sends them; no answer yet. */
  take(n: number): string[] {
    const keys: string[] = [];
    this.queue = this.queue.filter((m) => {
      if (keys.length >= n || m.op !== 'send' || !m.topic || this.answered.has(m.key)) return true;
      this.taken.set(m.key, m);
      keys.push(m.key);
      return false;
    });
    return keys;
  }

  /** The answers of the messages taken come back. */
  async answerTaken(): Promise<void> {
    for (const m of [...this.taken.values()]) {
      this.taken.delete(m.key);
      const result = this.answer(m);
      this.answered.set(m.key, result);
      if (result.state === 'sent') this.delivered.push(m.key);
      if (this.listener) await this.listener(m, result);
    }
  }

  /** Delivers everything queued, and what the answers cause to be queued, until nothing is left. */
  async deliver(limit = Number.POSITIVE_INFINITY): Promise<number> {
    let n = 0;
    while (this.queue.length && n < limit) {
      const m = this.queue.shift()!;
      // A copy of a message a worker holds: that worker's answer is the one heard.
      if (m.op !== 'send' || this.taken.has(m.key)) continue;
      let result = this.answered.get(m.key);
      if (!result) {
        result = this.answer(m);
        this.answered.set(m.key, result);
        if (result.state === 'sent') this.delivered.push(m.key);
      }
      n++;
      if (m.topic && this.listener) await this.listener(m, result);
    }
    return n;
  }

  onResult(_prefix: string, listener: ResultListener): void {
    this.listener = listener;
  }

  lose(): void {
    this.queue = [];
  }

  /** The broadcast messages queued (not progress cards or reports). */
  broadcastSends(): Send[] {
    return this.enqueued.filter((m): m is Send => m.op === 'send' && Boolean(m.topic));
  }

  /** The cards and updates the requester got (progress, report), in order. */
  requesterCards(): OutboundMessage[] {
    return this.enqueued.filter((m) => !(m.op === 'send' && m.topic));
  }
}

export interface Fixture {
  b: Broadcast;
  outbox: TestOutbox;
  clock: ManualClock;
  tables: Tables;
  /** Who has a 1:1 chat with the app, and their zone. */
  chats: Map<string, ChatInfo>;
  rollout: { current: Rollout; members: Map<string, Person[]> };
  plan: { current: Plan };
  /** What the rollout team was told (tellRolloutTeam), in order. */
  told: { key: string; text: string }[];
}

export const rolloutTeam: Person = { id: 'aad-lead', name: 'Lee Lead' };
export const LEAD = { person: rolloutTeam, role: 'rolloutTeam' as const };
export const CHAMPION = { person: { id: 'aad-champ', name: 'Chris Champion' }, role: 'champion' as const };
export const STAFF = { person: { id: 'aad-staff', name: 'Sam Staff' }, role: 'staff' as const };

export const users = (n: number, prefix = 'user') => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

/** The feature over fresh tables on the test Azurite, with a test outbox wired as the outbound path's listener. */
export async function fixture(
  opts: {
    tables?: Tables;
    clock?: ManualClock;
    batch?: number;
    workingHours?: import('../../src/broadcast/working-hours.js').WorkingHours;
    plan?: Plan;
    rollout?: Rollout;
    members?: Record<string, string[]>;
    staleMs?: number;
    facts?: IssueFacts;
    chats?: Map<string, ChatInfo>;
    outbox?: TestOutbox;
    supportChannel?: boolean;
    /** Members of the support channel's team as Teams' roster answers (none by default). */
    supportTeam?: Person[];
    /** Teams' roster of a channel's team, read by id (default: the support team's members above, nobody elsewhere). */
    channelMember?: (role: string, id: string) => Promise<Person | undefined>;
    /** The channel set up for a role now (default: channelIdOf the role; none for support when supportChannel is false). */
    channelConversation?: (role: string) => Promise<string | undefined>;
    /** A team's roster as Teams answers it (default: the app is not in the team). */
    teamMembers?: (teamId: string, firstPage?: boolean) => Promise<Person[]>;
    /** The people the app knows by name (default: Adele). */
    knownPeople?: { id: string; name: string }[];
    /** How long a Send press waits to learn its audience has anyone (default: production's 5 s). */
    audienceCheckMs?: number;
  } = {},
): Promise<Fixture> {
  const tables = opts.tables ?? testTables();
  const clock = opts.clock ?? new ManualClock('2027-01-11T09:00:00Z');
  const outbox = opts.outbox ?? new TestOutbox();
  const chats = opts.chats ?? new Map<string, ChatInfo>();
  const members = new Map(Object.entries(opts.members ?? {}).map(([k, ids]) => [k, ids.map((id) => ({ id, name: id }))]));
  const rollout = { current: opts.rollout ?? EMPTY_ROLLOUT, members };
  const plan = { current: opts.plan ?? { timeZone: 'UTC', messages: [], wins: { resolvedMilestones: [], noP1Week: false, cohortAcknowledged: false, championMonthly: 0 } } };
  const told: { key: string; text: string }[] = [];
  const b = await openBroadcast({
    tables,
    outbox,
    clock,
    plan: () => plan.current,
    rollout: () => rollout.current,
    directory: {
      personalChatUsers: async () => [...chats.keys()],
      teamMembers:
        opts.teamMembers ??
        (async () => {
          throw new Error('the app is not installed in this team');
        }),
      championIds: async () => [CHAMPION.person.id],
      rolloutTeamIds: [rolloutTeam.id],
      members: async (kind, id) => members.get(`${kind}:${id}`) ?? [],
    },
    chatOf: async (userKey) => chats.get(userKey),
    nameOf: async (id) => (id === 'aad-adele' ? 'Adele Vance' : undefined),
    knownPeople: async () => opts.knownPeople ?? [{ id: 'aad-adele', name: 'Adele Vance' }],
    channelMember:
      opts.channelMember ??
      (async (role, id) => (role === 'support' ? opts.supportTeam?.find((p) => p.id.toLowerCase() === id.toLowerCase()) : undefined)),
    channelReady: async (role) => (role === 'support' ? (opts.supportChannel ?? true) : true),
    channelConversation:
      opts.channelConversation ??
      (async (role) => (role !== 'support' || (opts.supportChannel ?? true) ? channelIdOf(role) : undefined)),
    facts: opts.facts ?? {
      resolvedCount: async () => 0,
      openP1: async () => 0,
      anyIssues: async () => false,
      resolvedBy: async () => new Map(),
    },
    settings: {
      batch: opts.batch ?? 250,
      workingHours: opts.workingHours,
      staleMs: opts.staleMs ?? 15 * 60_000,
      progressEveryMs: 0,
      graceMs: 6 * 3600_000,
      audienceCheckMs: opts.audienceCheckMs,
    },
    log: { warn: () => {}, info: () => {} },
    tellRolloutTeam: async (key, text) => void told.push({ key, text }),
  });
  return { b, outbox, clock, tables, chats, rollout, plan, told };
}

/** Everyone installed: a 1:1 chat each, zone unknown. */
export function installed(keys: string[], zone?: string): Map<string, ChatInfo> {
  return new Map(keys.map((k) => [k, { teamsUserId: `29:${k}`, ...(zone ? { timeZone: zone } : {}) }]));
}

/** Runs the send to its end: background work, deliveries and their answers, until nothing moves. */
export async function settle(f: Fixture): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    await f.b.runner.idle();
    const moved = await f.outbox.deliver();
    await f.b.runner.idle();
    if (!moved) return;
  }
}

/** Waits for the background finish check (it coalesces bursts of answers) and its report. */
export async function finished(f: Fixture, sendId: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await settle(f);
    const send = await f.b.sends.get(sendId);
    if (send?.finishedAt) return settle(f);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`send ${sendId} did not finish`);
}

/** A plan of one manual message, "welcome", to these people 1:1. */
export function welcomePlan(people: readonly string[]): Plan {
  return parsePlan(
    `timeZone: UTC
messages:
  - id: welcome
    stage: launch
    title: Welcome
    body: Hello.
    audience: { users: [${people.join(', ')}] }
    when: manual
`,
    EMPTY_ROLLOUT,
  );
}

/**
 * `send welcome` to `n` people with the app, confirmed by the rollout team, handed over in batches of 2, and the
 * first `answered` of them answered: a send part-way.
 */
export async function sendingWelcome(n: number, answered: number, opts: Parameters<typeof fixture>[0] = {}): Promise<{ f: Fixture; send: BroadcastSend }> {
  const people = users(n);
  const f = await fixture({ batch: 2, chats: installed(people), ...opts });
  f.plan.current = welcomePlan(people);
  const started = await f.b.service.send(LEAD, 'welcome', 'card-1', rolloutTeam.id);
  if (started.kind !== 'started') throw new Error(started.text);
  await f.b.runner.idle();
  if (answered) await f.outbox.deliver(answered);
  await f.b.runner.idle();
  return { f, send: started.send };
}
