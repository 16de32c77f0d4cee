import type { QueueClient } from '@azure/storage-queue';
import { statusOf } from '../storage/tables.js';
import type { OutboundMessage } from './message.js';

/**
 * What a queue message holds: the message itself, or (too large for the queue) its key and where its row is;
 * and `f`, the failures (storage errors) handling it met so far, which its backoff grows with: the queue's
 * receive count also counts the times it was given back without a failure (its slot passed, it waited for room).
 * `l`: the rounds a worker was late for every slot it planned (a starved event loop) and gave it back, which a
 * pause grows with apart from the failures (a storage error after them backs off by its own count).
 */
export type QueueBody = (
  | { v: 1; m: OutboundMessage }
  /** Several small messages in one queue message (a broadcast): far fewer queue calls per send. */
  | { v: 1; batch: OutboundMessage[] }
  | { v: 1; large: { key: string; topic?: string } }
) & { f?: number; l?: number };

const count = (n: unknown): number => (typeof n === 'number' && n > 0 ? Math.floor(n) : 0);

/** The failures a queue message's body says it met. */
export const failuresOf = (body: QueueBody | undefined): number => count(body?.f);

/** The rounds late for every slot that a queue message's body says it went back after. */
export const lateRoundsOf = (body: QueueBody | undefined): number => count(body?.l);

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
  delete(r: Received): Promise<void> {
    return this.onHeld(r, async (popReceipt) => {
      await this.client.deleteMessage(r.id, popReceipt);
    });
  }

  /** Back to the queue, visible again after `ms` (0: now, for another instance to take); with `body`, holding that. */
  defer(r: Received, ms: number, body?: QueueBody): Promise<void> {
    return this.onHeld(r, async (popReceipt) => {
      const res = await this.client.updateMessage(r.id, popReceipt, body && encodeBody(body), Math.max(0, Math.ceil(ms / 1_000)));
      if (res.popReceipt) r.popReceipt = res.popReceipt;
      if (body) r.body = body;
    });
  }

  /** Calls about one received message, in order: each starts with the pop receipt the one before it left. */
  private readonly calls = new WeakMap<Received, Promise<unknown>>();

  /**
   * Runs `call` with the message's current pop receipt, after the calls before it. A receipt replaced meanwhile
   * (the worker received the message again and took the new hold over) is tried again with the new one. Gone
   * (404), or received since by someone else (400 PopReceiptMismatch), the message is theirs: its row decides.
   */
  private onHeld(r: Received, call: (popReceipt: string) => Promise<void>): Promise<void> {
    const run = async () => {
      for (let tries = 0; ; tries++) {
        const popReceipt = r.popReceipt;
        try {
          await call(popReceipt);
          return;
        } catch (err) {
          if (statusOf(err) === 404) return;
          if (statusOf(err) !== 400 || codeOf(err) !== 'PopReceiptMismatch') throw err;
          if (r.popReceipt === popReceipt || tries >= 2) return;
        }
      }
    };
    const prev = this.calls.get(r) ?? Promise.resolve();
    const next = prev.then(run, run);
    this.calls.set(r, next.catch(() => {}));
    return next;
  }
}

function codeOf(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; details?: { errorCode?: unknown } };
  const code = e.details?.errorCode ?? e.code;
  return typeof code === 'string' ? code : undefined;
}
