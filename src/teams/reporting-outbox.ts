import type { PostStore } from '../conversations/posts.js';
import type { ConversationStore, StoredConversation } from '../conversations/store.js';
import type { Logger } from '../log.js';
import type { DeliveryResult, Destination, OutboundMessage, Outbox } from '../outbound/message.js';
import { statusOf } from '../storage/tables.js';
import type { DirectOutbox } from './direct-outbox.js';
import type { ProactiveSender } from './sender.js';

type Send = Extract<OutboundMessage, { op: 'send' }>;
export type ResultListener = (message: Send, result: DeliveryResult) => Promise<void>;

/**
 * INTERIM, until the durable outbound path (branch `outbound`, `QueueOutbox`) is merged: the in-process
 * DirectOutbox plus what a broadcast needs from the outbound path, namely how each message with a `topic`
 * ended, told to listeners by topic prefix (the same `onResult(prefix, listener)` QueueOutbox offers).
 * Messages with a topic go through the one ProactiveSender (its limiter), one after another, each key once
 * per process; everything else goes to DirectOutbox unchanged. Delete this file at the merge.
 */
export class ReportingOutbox implements Outbox {
  private readonly listeners: { prefix: string; fn: ResultListener }[] = [];
  private readonly seen = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly direct: DirectOutbox,
    private readonly sender: ProactiveSender,
    private readonly conversations: ConversationStore,
    private readonly posts: PostStore,
    private readonly log: Logger,
  ) {}

  onResult(topicPrefix: string, fn: ResultListener): void {
    this.listeners.push({ prefix: topicPrefix, fn });
  }

  async enqueue(messages: readonly OutboundMessage[]): Promise<void> {
    const reported = messages.filter((m): m is Send => m.op === 'send' && Boolean(m.topic));
    const rest = messages.filter((m) => !(m.op === 'send' && m.topic));
    if (rest.length) await this.direct.enqueue(rest);
    const fresh = reported.filter((m) => !this.seen.has(m.key));
    for (const m of fresh) this.seen.add(m.key);
    if (!fresh.length) return;
    const p = this.chain.then(() => this.deliver(fresh));
    this.chain = p;
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Resolves when everything enqueued so far (here and in DirectOutbox) was delivered and reported. */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
    await this.direct.drain();
    if (this.inFlight.size) await this.drain();
  }

  private async deliver(messages: readonly Send[]): Promise<void> {
    for (const m of messages) {
      const result = await this.sendOne(m);
      for (const l of this.listeners) {
        if (!m.topic?.startsWith(l.prefix)) continue;
        await l.fn(m, result).catch((err: unknown) => this.log.warn({ err, key: m.key }, 'result listener failed'));
      }
    }
  }

  private async sendOne(m: Send): Promise<DeliveryResult> {
    try {
      const conv = await this.resolve(m.to);
      if (!conv) return { state: 'notInstalled' };
      const sent = await this.sender.send(conv, m.content);
      if (m.post) await this.posts.save(m.post.kind, m.post.id, { conversation: conv, activityId: sent.activityId });
      return { state: 'sent', activityId: sent.activityId };
    } catch (err) {
      // 403: the person blocked or removed the app; not retried.
      if (statusOf(err) === 403) return { state: 'blocked' };
      this.log.warn({ err, key: m.key }, 'outbound message not sent');
      return { state: 'failed', reason: statusOf(err) ? `HTTP ${statusOf(err)}` : (err as Error).message || 'not sent' };
    }
  }

  private resolve(to: Destination): Promise<StoredConversation | undefined> {
    if (to.kind === 'user') return this.conversations.personalChat(to.userKey);
    if (to.kind === 'channel') return this.conversations.channelFor(to.role);
    return this.conversations.conversation(to.conversationId);
  }
}
