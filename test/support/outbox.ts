import type { OutboundMessage, Outbox, ResultListener } from '../../src/outbound/message.js';

/** Keeps what a feature enqueued, so a test of its rules reads who is told what (no HTTP, no sending). */
export class CapturedOutbox implements Outbox {
  readonly messages: OutboundMessage[] = [];

  async enqueue(messages: readonly OutboundMessage[]): Promise<void> {
    this.messages.push(...messages);
  }

  /** Messages taken back (Outbox.withdraw), in order. */
  readonly withdrawn: OutboundMessage[] = [];

  async withdraw(messages: readonly OutboundMessage[]): Promise<void> {
    this.withdrawn.push(...messages);
  }

  /** Who got a 1:1 message (user keys), in order. */
  users(): string[] {
    return this.messages.flatMap((m) => (m.op === 'send' && m.to.kind === 'user' ? [m.to.userKey] : []));
  }

  /** Listeners features register; a test can call them to play a delivery result back. */
  readonly listeners: { prefix: string; listener: ResultListener }[] = [];

  onResult(prefix: string, listener: ResultListener): void {
    this.listeners.push({ prefix, listener });
  }

  clear(): void {
    this.messages.length = 0;
  }
}
