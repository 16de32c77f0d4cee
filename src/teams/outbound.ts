import type { CloudAdapter } from 'botbuilder';
import { PostStore } from '../conversations/posts.js';
import { ConversationStore } from '../conversations/store.js';
import type { Logger } from '../log.js';
import { openBudgets } from '../outbound/budget.js';
import { type Clock, systemClock } from '../clock.js';
import { DeliveryStore } from '../outbound/deliveries.js';
import { DeliveryIndex } from '../outbound/delivery-index.js';
import { QueueOutbox } from '../outbound/outbox.js';
import { OutboundQueue } from '../outbound/queue.js';
import { OutboundWorker, type WorkerOptions } from '../outbound/worker.js';
import { openQueue, type QueueAccount, queueName } from '../storage/queues.js';
import { Tables } from '../storage/tables.js';
import { createAdapter } from './adapter.js';
import { TeamsTransport } from './transport.js';

export interface OutboundSetup {
  tables: Tables;
  queueAccount: QueueAccount;
  /** Prefix of the queue's name (the table prefix), so apps and tests sharing an account stay apart. */
  prefix: string;
  adapter: CloudAdapter;
  botAppId: string;
  conversations: ConversationStore;
  posts: PostStore;
  tenantSendsPerSecond: number;
  log: Logger;
  /** Time for the delivery index's days (the budget keeps real time). */
  clock?: Clock;
  /** Worker settings (tests and the bench tune them); `id` names this instance. */
  worker: Partial<WorkerOptions> & { id: string };
  /**
   * ms the tenant's 1 s window is widened by (default 40: the budget is 50 per 1.04 s, 96% of the limit).
   * Half of it is for a request leaving late, half for its way to the connector; each conversation's
   * windows get 100 ms.
   */
  guardMs?: number;
}

export interface Outbound {
  outbox: QueueOutbox;
  /** Every message taken, by day and recipient (retention and privacy). */
  index: DeliveryIndex;
  worker: OutboundWorker;
  /** Stops the worker: in-flight sends finish, waiting ones go back to the queue. */
  stop(timeoutMs?: number): Promise<void>;
  /** Resolves once the queue is empty and this worker holds nothing (tests and tools; false after the bound). */
  settled(timeoutMs?: number): Promise<boolean>;
}

/** Builds the durable outbound path: the outbox features enqueue to, and this instance's worker. */
export async function startOutbound(s: OutboundSetup): Promise<Outbound> {
  const queue = new OutboundQueue(await openQueue(s.queueAccount, queueName(s.prefix, 'outbound')));
  const deliveries = await DeliveryStore.open(s.tables);
  const index = await DeliveryIndex.open(s.tables, s.clock ?? systemClock);
  const budgets = await openBudgets(s.tables, {
    tenantPerSecond: s.tenantSendsPerSecond,
    guardMs: s.guardMs ?? 40,
    conversationGuardMs: 100,
    blockMs: 250,
  });
  const outbox = new QueueOutbox(queue, deliveries, s.posts, { index });
  const worker = new OutboundWorker(
    {
      queue,
      deliveries,
      posts: s.posts,
      conversations: s.conversations,
      tenant: budgets.tenant,
      conversationBudget: budgets.conversations,
      leases: budgets.leases,
      transport: new TeamsTransport(s.adapter, s.botAppId),
      listeners: outbox.listeners,
      outbox,
      log: s.log,
      index,
    },
    { maxLateMs: (s.guardMs ?? 40) / 2, ...s.worker },
  );
  worker.start();
  outbox.onEnqueued(() => worker.nudge());
  // Workers' send leases matter until their attempts are settled (minutes); a week later they are forgotten.
  void budgets.leases.sweep(Date.now() - 7 * 24 * 3_600_000).catch((err: unknown) => s.log.warn({ err }, 'could not sweep old send leases'));
  const settled = async (timeoutMs = 30_000) => {
    const end = Date.now() + timeoutMs;
    // Twice in a row: a message can move from the queue to the worker between the two looks.
    for (let quiet = 0; quiet < 2 && Date.now() < end; ) {
      quiet = !worker.busy && (await queue.size()) === 0 ? quiet + 1 : 0;
      if (quiet < 2) await new Promise((r) => setTimeout(r, 50));
    }
    return Date.now() < end;
  };
  return { outbox, index, worker, stop: (timeoutMs) => worker.stop(timeoutMs), settled };
}

/**
 * One instance's outbound path on its own, without the bot: the outbound worker process
 * (scripts/outbound-worker.ts: the broadcast bench and the crash tests kill it mid-send) and tests' child processes.
 */
export async function startStandaloneOutbound(s: {
  storage: string;
  prefix: string;
  tenantSendsPerSecond: number;
  worker: Partial<WorkerOptions> & { id: string };
  log: Logger;
}): Promise<Outbound & { tables: Tables; conversations: ConversationStore }> {
  const tables = new Tables(s.storage, s.prefix);
  const conversations = await ConversationStore.open(tables, systemClock);
  const outbound = await startOutbound({
    tables,
    queueAccount: s.storage,
    prefix: s.prefix,
    adapter: createAdapter({ kind: 'local' }, s.log),
    botAppId: '',
    conversations,
    posts: await PostStore.open(tables, conversations),
    tenantSendsPerSecond: s.tenantSendsPerSecond,
    log: s.log,
    worker: s.worker,
  });
  return { ...outbound, tables, conversations };
}
