import type { AdaptiveCard } from '../cards/template.js';
import type { ChannelRole } from '../conversations/store.js';

/**
 * What features hand to the outbound path: plain values, no botbuilder. Nothing a feature enqueues is
 * sent inside the user's turn; the outbound worker sends it under Teams' limits, durably (see outbox.ts).
 */

/** Where a message goes; the worker resolves it to a stored conversation when it sends. */
export type Destination =
  /** The 1:1 chat with a person (Entra object id, or Teams id when there is none). */
  | { kind: 'user'; userKey: string }
  /** A new thread in the channel set up for this role (`setup triage|support|announcements`). */
  | { kind: 'channel'; role: ChannelRole }
  /** A conversation the bot already knows (a thread, a group chat). */
  | { kind: 'conversation'; conversationId: string };

export type Content = string | AdaptiveCard;

/** A card the bot posted that stands for something (an issue's triage card), so it can be updated in place. */
export interface PostRef {
  kind: string;
  id: string;
}

/** Set by the outbound path itself: the correlation id of the turn or job that enqueued the message. */
interface Traced {
  corr?: string;
}

export type OutboundMessage = Traced &
  (
  | {
      op: 'send';
      /** Names the message once and for all: enqueued twice (a retried turn), sent once. */
      key: string;
      to: Destination;
      content: Content;
      /** Remember the sent message under this post, at this version of what it shows. */
      post?: PostRef & { version: number };
      /** Sent instead when `to` cannot be reached (no chat with the person, or they blocked the bot). */
      fallback?: { to: Destination; content: Content };
      /** Results of this message are reported to the listener registered for this topic (e.g. a broadcast). */
      topic?: string;
    }
  | {
      op: 'update';
      key: string;
      /** The post to replace; nothing happens when it was never posted. */
      post: PostRef;
      /** What the new content shows; an update never replaces a newer version with an older one. */
      version: number;
      content: Content;
    }
  );

/** How one message ended (reported to a topic's listener). @public */
export type DeliveryResult =
  /** `conversationId`: where it was posted (a channel's root), told to listeners when known. */
  | { state: 'sent'; activityId: string; conversationId?: string }
  | { state: 'updated' }
  /** An update older than what the post already shows, or a repeat of a message already sent. */
  | { state: 'skipped'; reason: string }
  /** The person has no chat with the bot (the app is not installed for them). */
  | { state: 'notInstalled' }
  /** 403: the person blocked or uninstalled the bot. Not retried. */
  | { state: 'blocked' }
  | { state: 'failed'; reason: string };

/** A withdrawn message's reason (Outbox.withdraw): settled before any attempt, so it is never sent. */
export const WITHDRAWN = 'withdrawn: not sent, taken back before it went';

/**
 * A feature's hook for how its messages ended (a broadcast's delivery rows, a progress card). Called at least
 * once per result — again after a crash — so it must be idempotent (e.g. upsert a row).
 */
export type ResultListener = (
  message: Extract<OutboundMessage, { op: 'send' }>,
  result: DeliveryResult,
) => Promise<void>;

/** The durable outbound path: `enqueue` returns once the messages are stored, not sent. */
export interface Outbox {
  /** Refuses (OutboundInputError) a batch with any malformed message, storing none of it. */
  enqueue(messages: readonly OutboundMessage[]): Promise<void>;
  /**
   * Takes back sends enqueued earlier (a cancel): a key no attempt has taken yet is settled failed with reason
   * WITHDRAWN, so its queue copy is dropped when a worker takes it. The topic's listener then hears how each key
   * ended: withdrawn, or the answer it already had; a key whose attempt is under way is heard when it ends.
   */
  withdraw(messages: readonly OutboundMessage[]): Promise<void>;
  /** Results of sends whose `topic` starts with `topicPrefix` (`broadcast:` hears every `broadcast:…`). */
  onResult(topicPrefix: string, listener: ResultListener): void;
}
