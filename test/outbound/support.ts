import { randomBytes } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { ManualClock } from '../../src/clock.js';
import { PostStore } from '../../src/conversations/posts.js';
import { ConversationStore, type StoredConversation } from '../../src/conversations/store.js';
import { createLogger } from '../../src/log.js';
import { TenantBudget } from '../../src/outbound/budget.js';
import type { Content } from '../../src/outbound/message.js';
import { DeliveryStore, type DeliveryRow } from '../../src/outbound/deliveries.js';
import type { OutboundMessage } from '../../src/outbound/message.js';
import { decodeBody } from '../../src/outbound/queue.js';
import { queueName } from '../../src/storage/queues.js';
import { Tables } from '../../src/storage/tables.js';
import { createAdapter } from '../../src/teams/adapter.js';
import { TeamsTransport } from '../../src/teams/transport.js';
import { type Outbound, startOutbound } from '../../src/teams/outbound.js';
import { afterAll, afterEach, beforeAll, vi } from 'vitest';
import { azuriteConnection } from '../support/storage.js';
import { type StandInOptions, TeamsConnectorStandIn } from '../support/teams-connector.js';

/** Worker settings for tests: quick polls, short holds (a cut-off attempt is seen as such within seconds). */
export const TEST_WORKER = {
  minPollMs: 20,
  maxPollMs: 200,
  visibilitySec: 2,
  sendTimeoutMs: 3_000,
  maxHoldMs: 3_000,
  recordMarginMs: 1_000,
};

/** One Storage "account" (a table prefix on the shared test Azurite) that several instances can share. */
export class TestAccount {
  readonly prefix = `t${randomBytes(4).toString('hex')}`;
  readonly tables = new Tables(azuriteConnection(), this.prefix);
  readonly clock = new ManualClock();
  private readonly instances: Outbound[] = [];

  conversations(): Promise<ConversationStore> {
    return ConversationStore.open(this.tables, this.clock);
  }

  /** Starts one app instance's outbound path (its own adapter and worker) on this account. */
  async instance(
    tenantSendsPerSecond = 50,
    id = `w${this.instances.length + 1}`,
    worker: Partial<typeof TEST_WORKER> = {},
  ): Promise<Outbound> {
    const log = createLogger('silent');
    const outbound = await startOutbound({
      tables: this.tables,
      queueAccount: azuriteConnection(),
      prefix: this.prefix,
      adapter: createAdapter({ kind: 'local' }, log),
      botAppId: '',
      conversations: await this.conversations(),
      posts: await PostStore.open(this.tables),
      tenantSendsPerSecond,
      log,
      worker: { id, ...TEST_WORKER, ...worker },
    });
    this.instances.push(outbound);
    return outbound;
  }

  async row(m: OutboundMessage): Promise<DeliveryRow | undefined> {
    return (await DeliveryStore.open(this.tables)).read(m);
  }

  /**
   * Waits until every message has a settled row (re-reading only the unsettled ones, gently: Azurite is shared).
   * On time-out it says what each unsettled row holds and what the queue holds, and adds `context()` (e.g. the
   * workers' logs): a slow machine and a lost message then read differently.
   */
  async settled(messages: readonly OutboundMessage[], ms = 30_000, context?: () => string): Promise<DeliveryRow[]> {
    const end = Date.now() + ms;
    const rows: (DeliveryRow | undefined)[] = messages.map(() => undefined);
    const open = () => messages.map((_, i) => i).filter((i) => !rows[i] || ['pending', 'sending'].includes(rows[i]!.state));
    for (let todo = open(); todo.length; todo = open()) {
      if (Date.now() > end) {
        const unsettled = todo.map((i) => ({ key: messages[i]!.key, row: rows[i] ?? 'no row' }));
        throw new Error(
          `not settled: ${todo.map((i) => messages[i]!.key).join(', ')}\n` +
            `rows: ${JSON.stringify(unsettled)}\nqueue: ${await this.queueReport()}` +
            (context ? `\n${context()}` : ''),
        );
      }
      await new Promise((r) => setTimeout(r, 200));
      for (const i of todo.slice(0, 20)) rows[i] = await this.row(messages[i]!);
    }
    return rows as DeliveryRow[];
  }

  /** The outbound queue's size (hidden messages included) and the keys of the messages visible now. */
  async queueReport(): Promise<string> {
    try {
      const queue = new QueueClient(azuriteConnection(), queueName(this.prefix, 'outbound'));
      const size = (await queue.getProperties()).approximateMessagesCount ?? 0;
      const peeked = await queue.peekMessages({ numberOfMessages: 32 });
      const visible = peeked.peekedMessageItems.map((p) => {
        const body = decodeBody(p.messageText);
        const keys = !body ? ['unreadable'] : 'm' in body ? [body.m.key] : 'batch' in body ? body.batch.map((m) => m.key) : [body.large.key];
        return { dequeueCount: p.dequeueCount, keys };
      });
      return JSON.stringify({ size, visible });
    } catch (err) {
      return `could not be read: ${String(err)}`;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.stop(5_000)));
  }
}

/** One message to each user's 1:1 chat, keyed `<keyPrefix><user>` (a broadcast when `topic` is given). */
export function sendsTo(users: readonly string[], keyPrefix: string, content: string, topic?: string): OutboundMessage[] {
  return users.map((u) => ({
    op: 'send',
    key: `${keyPrefix}${u}`,
    to: { kind: 'user', userKey: `aad-${u}` },
    content,
    ...(topic ? { topic } : {}),
  }));
}

/** A 1:1 chat with `user`, served by the stand-in. */
export function personalChat(connector: TeamsConnectorStandIn, user: string, tenantId = 'tenant-1'): Omit<StoredConversation, 'updatedAt'> {
  return {
    conversationId: `a:chat-${user}`,
    conversationType: 'personal',
    serviceUrl: connector.url,
    tenantId,
    channelId: 'msteams',
    bot: { id: '28:bot' },
    user: { id: `29:${user}`, aadObjectId: `aad-${user}`, name: user },
  };
}

export function channel(connector: TeamsConnectorStandIn, id: string, tenantId = 'tenant-1'): Omit<StoredConversation, 'updatedAt'> {
  return {
    conversationId: id,
    conversationType: 'channel',
    serviceUrl: connector.url,
    tenantId,
    channelId: 'msteams',
    bot: { id: '28:bot' },
    teamId: 'team-1',
    channelName: 'Triage',
  };
}

export async function until(pred: () => boolean | Promise<boolean>, ms = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * One connector stand-in for a test file and a fresh account per test: `suite.connector`, and
 * `suite.account()` to start a test's account (its instances are stopped and the stand-in reset after it).
 */
export function standInSuite(opts: StandInOptions = {}) {
  const suite = {
    connector: undefined as unknown as TeamsConnectorStandIn,
    current: undefined as TestAccount | undefined,
    account(): TestAccount {
      suite.current = new TestAccount();
      return suite.current;
    },
  };
  beforeAll(async () => {
    suite.connector = await new TeamsConnectorStandIn(opts).start();
  });
  afterEach(async () => {
    await suite.current?.stop();
    suite.connector.reset();
  });
  afterAll(async () => {
    await suite.connector?.stop();
  });
  return suite;
}

/** Records every tenant send slot an instance of this process takes (the real `take` still hands them out). */
export function recordTakenSlots(): number[] {
  const taken: number[] = [];
  const take = TenantBudget.prototype.take;
  vi.spyOn(TenantBudget.prototype, 'take').mockImplementation(async function (this: TenantBudget, ...args) {
    const slot = await take.apply(this, args);
    taken.push(slot);
    return slot;
  });
  return taken;
}

/**
 * When each request left, per conversation: the time the worker's last check (`go`, right before the request is
 * written) let it through, on every instance of this process. The real transport still sends it.
 */
export function recordDepartures(): Map<string, number[]> {
  const left = new Map<string, number[]>();
  const send = TeamsTransport.prototype.send;
  vi.spyOn(TeamsTransport.prototype, 'send').mockImplementation(function (this: TeamsTransport, conv: StoredConversation, content: Content, opts) {
    const go = () => {
      const ok = opts.go();
      if (ok) left.set(conv.conversationId, [...(left.get(conv.conversationId) ?? []), Date.now()]);
      return ok;
    };
    return send.call(this, conv, content, { ...opts, go });
  });
  return left;
}

/** A 1 s window of arrivals holding more than the limit: its first arrival, how many, the slowest on its way. */
export interface FullWindow {
  from: number;
  requests: number;
  slowestMs: number;
}

/**
 * The tenant's 1 s windows by arrival at the stand-in (one starting at each arrival), and those holding more than
 * `limit` requests, split in two. Unexplained: every request in it reached the stand-in within `allowMs` of leaving.
 * Requests leave at most the worker's `maxLateMs` after their slot and the slots are `(1 s + guard) / limit` apart,
 * so with every request that quick on its way no window can hold one too many: such a window is the senders' fault.
 * Excused: it holds a request slower on its way than that (the machine starved the sending process after its last
 * check, or the stand-in's thread before it stamped the arrival), which says nothing about the senders;
 * `departures` keeps their own windows to the limit apart. Excused windows are returned so a test can bound them:
 * a machine slow on every request would otherwise excuse every window and the check would hold nothing.
 */
export function fullArrivalWindows(
  arrivals: ReadonlyMap<string, readonly number[]>,
  departures: ReadonlyMap<string, readonly number[]>,
  limit: number,
  allowMs: number,
  windowMs = 1_000,
): { windows: number; unexplained: FullWindow[]; excused: FullWindow[] } {
  const requests: { at: number; transit: number }[] = [];
  for (const [conversation, arrived] of arrivals) {
    const left = departures.get(conversation) ?? [];
    // A request that arrived without leaving through a last check (none should): counted as slow, never excused.
    arrived.forEach((at, i) => requests.push({ at, transit: left[i] === undefined ? 0 : at - left[i]! }));
  }
  requests.sort((a, b) => a.at - b.at);
  const unexplained: FullWindow[] = [];
  const excused: FullWindow[] = [];
  for (let i = 0, j = 0; i < requests.length; i++) {
    while (j < requests.length && requests[j]!.at < requests[i]!.at + windowMs) j++;
    if (j - i <= limit) continue;
    const slowestMs = Math.max(...requests.slice(i, j).map((r) => r.transit));
    (slowestMs <= allowMs ? unexplained : excused).push({ from: requests[i]!.at, requests: j - i, slowestMs });
  }
  return { windows: requests.length, unexplained, excused };
}
