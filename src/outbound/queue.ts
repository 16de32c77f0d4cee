import type { QueueClient } from '@azure/storage-queue';
import { statusOf } from '../storage/tables.js';
import type { OutboundMessage } from './message.js';

/** What a queue message holds: the message itself, or (too large for the queue) its key and where its row is. */
export type QueueBody =
  | { v: 1; m: OutboundMessage }
  /** Several small messages in one queue message (a broadcast): far fewer queue calls per send. */
  | { v: 1; batch: OutboundMessage[] }
  | { v: 1; large: { key: string; topic?: string } };

export interface Received {
  id: string;
  popReceipt: string;
  dequeueCount: number;
  body: QueueBody | undefined;
}

/** A queue message is at most 64 KiB; its text is base64 (a third larger), with room for the XML around it. */
export const MAX_QUEUE_TEXT = 60_000;

export const encodeBody = (body: QueueBody): string => Buffer.from(JSON.stringify(body), 'utf8').toString('base64');

export function decodeBody(text: string): QueueBody | undefined {
  try {
    const body = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as QueueBody;
    return body && body.v === 1 && ('m' in body || 'large' in body || Array.isArray((body as { batch?: unknown }).batch))
      ? body
      : undefined;
  } catch {
    return undefined;
  }
}

/** The outbound queue: messages never expire on their own; a received one is hidden until deleted or deferred. */
export class OutboundQueue {
  constructor(readonly client: QueueClient) {}

  /** Adds a message, visible after `delayMs` (0: now). */
  async send(text: string, delayMs = 0): Promise<void> {
    await this.client.sendMessage(text, {
      messageTimeToLive: -1,
      ...(delayMs > 0 ? { visibilityTimeout: Math.ceil(delayMs / 1_000) } : {}),
    });
  }

  /** How many messages are in the queue, hidden ones included (approximate, as the service counts). */
  async size(): Promise<number> {
    return (await this.client.getProperties()).approximateMessagesCount ?? 0;
  }

  async receive(count: number, visibilitySec: number): Promise<Received[]> {
    const res = await this.client.receiveMessages({ numberOfMessages: count, visibilityTimeout: visibilitySec });
    return res.receivedMessageItems.map((item) => ({
      id: item.messageId,
      popReceipt: item.popReceipt,
      dequeueCount: item.dequeueCount,
      body: decodeBody(item.messageText),
    }));
  }

  /** Done with it. Gone already (another worker took it after our hold ran out) is fine: its row decides. */
  async delete(r: Received): Promise<void> {
    try {
      await this.client.deleteMessage(r.id, r.popReceipt);
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }

  /** Back to the queue, visible again after `ms` (0: now, for another instance to take). */
  async defer(r: Received, ms: number): Promise<void> {
    try {
      const res = await this.client.updateMessage(r.id, r.popReceipt, undefined, Math.max(0, Math.ceil(ms / 1_000)));
      if (res.popReceipt) r.popReceipt = res.popReceipt;
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }
}
