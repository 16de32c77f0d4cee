import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeBody, OutboundQueue } from '../../src/outbound/queue.js';
import { personalChat, sendsTo, standInSuite } from './support.js';

// Teams answers slowly: a request is still out when the queue message's hold runs out.
const suite = standInSuite({ latencyMs: 2_500 });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a pack on the outbound queue', () => {
  it('one of a pack that cannot be put back on its own (storage refuses) still goes out: the pack comes back whole', async () => {
    const account = suite.account();
    const chats = await account.conversations();
    for (const u of ['ema', 'finn']) await chats.remember(personalChat(suite.connector, u));
    // Teams throttles finn's chat once: finn's message waits, put back on the queue on its own, which storage refuses.
    suite.connector.script('a:chat-finn', 429, 1, { retryAfterSec: 1 });
    const send = OutboundQueue.prototype.send;
    vi.spyOn(OutboundQueue.prototype, 'send').mockImplementation(async function (this: OutboundQueue, text: string, ms?: number) {
      const body = decodeBody(text);
      if (body && 'm' in body) throw Object.assign(new Error('storage did not answer'), { statusCode: 503 });
      return send.call(this, text, ms);
    });
    const { outbox } = await account.instance();
    const messages = sendsTo(['ema', 'finn'], 'notice:pack:', 'Training moves to Thursday.');
    await outbox.enqueue(messages); // one queue message carrying both
    const rows = await account.settled(messages, 20_000);
    expect(rows.map((r) => r.state)).toEqual(['sent', 'sent']);
    expect(suite.connector.deliveries.get('a:chat-ema')).toHaveLength(1);
    expect(suite.connector.deliveries.get('a:chat-finn')).toHaveLength(1);
  }, 40_000);
});
