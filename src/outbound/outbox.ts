import type { PostStore } from '../conversations/posts.js';
import type { DeliveryStore } from './deliveries.js';
import type { DeliveryIndex } from './delivery-index.js';
import type { DeliveryResult, OutboundMessage, Outbox, ResultListener } from './message.js';
import { encodeBody, MAX_QUEUE_TEXT, type OutboundQueue } from './queue.js';
import { correlationId } from '../telemetry/correlation.js';
import { mapLimit } from '../map-limit.js';


/** Listeners by topic prefix (`broadcast:` hears every `broadcast:…` topic). */
export class ResultListeners {
  private readonly listeners: { prefix: string; fn: ResultListener }[] = [];

  on(topicPrefix: string, fn: ResultListener): void {
    this.listeners.push({ prefix: topicPrefix, fn });
  }

  /** Called at least once per result (again after a crash): listeners must be idempotent, e.g. upsert a row. */
  async notify(message: OutboundMessage, result: DeliveryResult): Promise<void> {
    if (message.op !== 'send' || !message.topic) return;
    const topic = message.topic;
    for (const l of this.listeners) if (topic.startsWith(l.prefix)) await l.fn(message, result);
  }
}

export class OutboundInputError extends Error {}

const MAX_KEY = 400;

/** Checks a message before anything is written: a bad one is refused with a message that says why. */
export function checkMessage(m: OutboundMessage): void {
  const where = `outbound message ${JSON.stringify(String(m.key).slice(0, 60))}`;
  if (typeof m.key !== 'string' || !m.key.trim()) throw new OutboundInputError('outbound message: key is empty');
  if (m.key.length > MAX_KEY) throw new OutboundInputError(`${where}: key is longer than ${MAX_KEY} characters`);
  if (m.op !== 'send' && m.op !== 'update') throw new OutboundInputError(`${where}: op must be send or update`);
  const version = m.op === 'send' ? m.post?.version : m.version;
  if (version !== undefined && (!Number.isSafeInteger(version) || version < 0))
    throw new OutboundInputError(`${where}: version must be a whole number ≥ 0`);
  if (m.op === 'update' && (!m.post?.kind || !m.post.id))
    throw new OutboundInputError(`${where}: an update needs the post's kind and id`);
  if (m.content === undefined || m.content === null || m.content === '')
    throw new OutboundInputError(`${where}: content is empty`);
}

/**
 * `enqueue` stores each message on the Storage queue and returns: nothing is sent inside the caller's turn.
 * A message too large for a queue message is kept in a table row and the queue message carries its key.
 */
export class QueueOutbox implements Outbox {
  readonly listeners = new ResultListeners();
  private readonly enqueued: (() => void)[] = [];

  constructor(
    private readonly queue: OutboundQueue,
    private readonly deliveries: DeliveryStore,
    private readonly posts: PostStore,
    private readonly opts: {
      parallel?: number;
      /** Messages per queue message at most. */
      packSize?: number;
      /** Where a withdrawn message's row is filed, as the worker files what it takes (retention and `forget`). */
      index?: Pick<DeliveryIndex, 'record'>;
    } = {},
  ) {}

  private get parallel(): number {
    return this.opts.parallel ?? 16;
  }

  private get packSize(): number {
    return this.opts.packSize ?? 50;
  }

  async enqueue(batch: readonly OutboundMessage[]): Promise<void> {
    for (const m of batch) checkMessage(m);
    // The sends' log lines carry the correlation id of the turn or job that asked for them.
    const corr = correlationId();
    const messages = corr ? batch.map((m) => (m.corr ? m : { ...m, corr })) : batch;
    // An update enqueued while a send of its post is still queued waits for it rather than finding no post.
    for (const m of messages) if (m.op === 'send' && m.post) await this.posts.markPending(m.post.kind, m.post.id, m.key);
    const texts = await this.pack(messages);
    let next = 0;
    const worker = async () => {
      while (next < texts.length) await this.queue.send(texts[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.parallel, texts.length) }, worker));
    for (const fn of this.enqueued) fn();
  }

  /** Called after each enqueue: this instance's worker looks at the queue at once instead of at its next poll. */
  onEnqueued(fn: () => void): void {
    this.enqueued.push(fn);
  }

  /**
   * Queue messages for these messages: small ones packed up to `packSize` per queue message (a broadcast of
   * 10,000 is 200 queue messages, not 10,000), a large one kept in a table row with its key on the queue.
   */
  private async pack(messages: readonly OutboundMessage[]): Promise<string[]> {
    const texts: string[] = [];
    let pack: OutboundMessage[] = [];
    let bytes = 0;
    const flush = () => {
      if (pack.length === 1) texts.push(encodeBody({ v: 1, m: pack[0]! }));
      else if (pack.length > 1) texts.push(encodeBody({ v: 1, batch: pack }));
      pack = [];
      bytes = 0;
    };
    for (const m of messages) {
      const size = Buffer.byteLength(JSON.stringify(m)) + 1;
      // base64 is 4/3 of the JSON; keep room for the envelope.
      if (((size + 32) * 4) / 3 > MAX_QUEUE_TEXT) {
        await this.deliveries.savePayload(m.key, JSON.stringify(m));
        texts.push(encodeBody({ v: 1, large: { key: m.key, topic: m.op === 'send' ? m.topic : undefined } }));
        continue;
      }
      if (pack.length >= this.packSize || ((bytes + size + 32) * 4) / 3 > MAX_QUEUE_TEXT) flush();
      pack.push(m);
      bytes += size;
    }
    flush();
    return texts;
  }

  async withdraw(batch: readonly OutboundMessage[]): Promise<void> {
    for (const m of batch) checkMessage(m);
    const sends = batch.filter((m): m is Extract<OutboundMessage, { op: 'send' }> => m.op === 'send');
    if (!sends.length) return;
    // Filed before its row is written: a row written and never filed would outlive retention and `forget`.
    await this.opts.index?.record(sends);
    await mapLimit(sends, this.parallel, async (m) => {
      const result = await this.deliveries.withdraw(m);
      if (result) await this.listeners.notify(m, result);
    });
  }

  /** Registers a listener for the results of messages whose topic starts with `topicPrefix`. */
  onResult(topicPrefix: string, fn: ResultListener): void {
    this.listeners.on(topicPrefix, fn);
  }

}
