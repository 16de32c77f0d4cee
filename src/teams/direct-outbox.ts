import type { ConversationStore, StoredConversation } from '../conversations/store.js';
import type { PostStore } from '../conversations/posts.js';
import type { Logger } from '../log.js';
import type { Destination, OutboundMessage, Outbox } from '../outbound/message.js';
import type { ProactiveSender } from './sender.js';

/**
 * An in-process outbound path: messages are sent after the turn that enqueued them, each key once per
 * process. It keeps a turn from waiting on other people's messages; the durable queue replaces it.
 */
export class DirectOutbox implements Outbox {
  private readonly seen = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  /** One message after another, so an update never overtakes the post it updates. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly sender: ProactiveSender,
    private readonly conversations: ConversationStore,
    private readonly posts: PostStore,
    private readonly log: Logger,
  ) {}

  async enqueue(messages: readonly OutboundMessage[]): Promise<void> {
    const fresh = messages.filter((m) => !this.seen.has(m.key));
    for (const m of fresh) this.seen.add(m.key);
    if (!fresh.length) return;
    const p = this.chain.then(() => this.deliver(fresh));
    this.chain = p;
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Resolves when everything enqueued so far was delivered or given up. */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private async deliver(messages: readonly OutboundMessage[]): Promise<void> {
    for (const m of messages) {
      try {
        if (m.op === 'update') {
          const post = await this.posts.get(m.post.kind, m.post.id);
          if (post) await this.sender.update(post.conversation, post.activityId, m.content);
          continue;
        }
        const conv = await this.resolve(m.to);
        if (!conv) {
          if (m.fallback) await this.deliver([{ op: 'send', key: `${m.key}|fallback`, ...m.fallback }]);
          else this.log.warn({ key: m.key, to: m.to.kind }, 'no conversation to send to; message not sent');
          continue;
        }
        const sent = await this.sender.send(conv, m.content);
        if (m.post) await this.posts.save(m.post.kind, m.post.id, { conversation: conv, activityId: sent.activityId });
      } catch (err) {
        this.log.warn({ err, key: m.key }, 'outbound message not sent');
      }
    }
  }

  private resolve(to: Destination): Promise<StoredConversation | undefined> {
    if (to.kind === 'user') return this.conversations.personalChat(to.userKey);
    if (to.kind === 'channel') return this.conversations.channelFor(to.role);
    return this.conversations.conversation(to.conversationId);
  }
}
