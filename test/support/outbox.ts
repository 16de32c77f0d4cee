import { type OutboundMessage, type Outbox, type ResultListener, WITHDRAWN } from '../../src/outbound/message.js';
import { ResultListeners } from '../../src/outbound/outbox.js';

/** Keeps what a feature enqueued, so a test of its rules reads who is told what (no HTTP, no sending). */
export class CapturedOutbox implements Outbox {
  readonly messages: OutboundMessage[] = [];

  async enqueue(messages: readonly OutboundMessage[]): Promise<void> {
    this.messages.push(...messages);
  }

  /** Messages taken back (Outbox.withdraw), in order. */
  readonly withdrawn: OutboundMessage[] = [];

  /** As the real outbox for a message no worker took: its topic's listeners hear it withdrawn. */
  async withdraw(messages: readonly OutboundMessage[]): Promise<void> {
    this.withdrawn.push(...messages);
    for (const m of messages) await this.listeners.notify(m, { state: 'failed', reason: WITHDRAWN });
  }

  /** Who got a 1:1 message (user keys), in order. */
  users(): string[] {
    return this.messages.flatMap((m) => (m.op === 'send' && m.to.kind === 'user' ? [m.to.userKey] : []));
  }

  /** Listeners features register; a test can notify them to play a delivery result back. */
  readonly listeners = new ResultListeners();

  onResult(prefix: string, listener: ResultListener): void {
    this.listeners.on(prefix, listener);
  }

  clear(): void {
    this.messages.length = 0;
  }
}
