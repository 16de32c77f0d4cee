import { type Activity, CardFactory, type CloudAdapter, MessageFactory, type TurnContext } from 'botbuilder';
import type { AdaptiveCard } from '../cards/template.js';
import type { ConversationStore, StoredConversation } from '../conversations/store.js';
import type { Logger } from '../log.js';
import { metrics } from '../telemetry/metrics.js';
import { PER_CONVERSATION, SlidingWindowLimiter } from './limiter.js';
import { referenceOf } from './turn.js';

export type Outgoing = string | AdaptiveCard | Partial<Activity>;

export function toActivity(out: Outgoing): Partial<Activity> {
  if (typeof out === 'string') return MessageFactory.text(out);
  if ('type' in out && out.type === 'AdaptiveCard') {
    return MessageFactory.attachment(CardFactory.adaptiveCard(out));
  }
  return out as Partial<Activity>;
}

export interface SentMessage {
  conversationId: string;
  activityId: string;
}

/**
 * The one way the bot speaks without being spoken to. Every send waits for a slot under Teams' limits
 * (per conversation and per tenant) and is tracked, so shutdown can finish what is in flight.
 * The connector client itself retries 429/5xx honouring Retry-After.
 */
export class ProactiveSender {
  private readonly limiter: SlidingWindowLimiter;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly adapter: CloudAdapter,
    private readonly botAppId: string,
    private readonly conversations: ConversationStore,
    private readonly log: Logger,
    tenantSendsPerSecond: number,
  ) {
    this.limiter = new SlidingWindowLimiter((key) =>
      key.startsWith('tenant:') ? [{ count: tenantSendsPerSecond, ms: 1_000 }] : PER_CONVERSATION,
    );
  }

  /** Posts into a stored conversation; in a channel this starts a new thread. */
  send(conv: StoredConversation, out: Outgoing): Promise<SentMessage> {
    return this.track(async () => {
      await this.limiter.acquire([`conv:${conv.conversationId}`, `tenant:${conv.tenantId ?? ''}`]);
      try {
        const res = await this.inConversation(conv, (ctx) => ctx.sendActivity(toActivity(out)));
        metrics.messageSent('sent');
        return { conversationId: conv.conversationId, activityId: res?.id ?? '' };
      } catch (err) {
        // A 429 that outlived the connector client's own retries: Teams is throttling this app.
        metrics.messageSent((err as { statusCode?: unknown }).statusCode === 429 ? 'throttled' : 'failed');
        throw err;
      }
    });
  }

  /** Replaces a message the bot sent earlier (e.g. a triage card), for everyone who sees it. */
  update(conv: StoredConversation, activityId: string, out: Outgoing): Promise<void> {
    return this.track(async () => {
      await this.limiter.acquire([`conv:${conv.conversationId}`, `tenant:${conv.tenantId ?? ''}`]);
      await this.inConversation(conv, (ctx) => ctx.updateActivity({ ...toActivity(out), id: activityId }));
    });
  }

  /** A 1:1 message to a user the bot has a personal chat with; false when it has none (not installed). */
  async toUser(userKey: string, out: Outgoing): Promise<boolean> {
    const chat = await this.conversations.personalChat(userKey);
    if (!chat) {
      this.log.warn({ userKey }, 'no personal chat with user; message not sent');
      return false;
    }
    try {
      await this.send(chat, out);
      return true;
    } catch (err) {
      // 403 MessageWritesBlocked: the user blocked or uninstalled the bot. Retrying will not help.
      this.log.warn({ err, userKey }, 'could not send 1:1 message');
      return false;
    }
  }

  /**
   * Runs `work` in a proactive turn and returns its result. The adapter would hand a failure to its turn-error
   * handler and resolve anyway; callers must see a 403 or a lost connection, so the error is carried out.
   */
  private async inConversation<T>(
    conv: StoredConversation,
    work: (ctx: TurnContext) => Promise<T>,
  ): Promise<T> {
    let result: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    await this.adapter.continueConversationAsync(this.botAppId, referenceOf(conv), async (ctx) => {
      try {
        result = { ok: true, value: await work(ctx) };
      } catch (error) {
        result = { ok: false, error };
      }
    });
    if (!result) throw new Error('the proactive turn did not run');
    if (!result.ok) throw result.error;
    return result.value;
  }

  /** Resolves when every send started so far has finished. */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(work: () => Promise<T>): Promise<T> {
    const p = work();
    this.inFlight.add(p);
    p.then(
      () => this.inFlight.delete(p),
      () => this.inFlight.delete(p),
    );
    return p;
  }
}
