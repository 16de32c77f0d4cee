import { describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../../src/outbound/message.js';
import { personalChat, standInSuite } from './support.js';

// A stand-in of this file's own: every connection it counts is one this file's instance opened.
const suite = standInSuite({ latencyMs: 40 });

describe('the first request to a service the instance has not sent to yet', () => {
  it('goes over a connection opened before its slot (while the slot was planned), not one opened as it leaves', async () => {
    const account = suite.account();
    const chats = await account.conversations();
    await chats.remember(personalChat(suite.connector, 'dana'));
    const { outbox } = await account.instance();
    const m: OutboundMessage = { op: 'send', key: 'warm-1', to: { kind: 'user', userKey: 'aad-dana' }, content: 'Welcome to FieldLedger.' };
    await outbox.enqueue([m]);
    const [row] = await account.settled([m]);
    expect(row?.state).toBe('sent');
    const slot = row!.slot!;
    const arrived = suite.connector.deliveries.get('a:chat-dana')?.[0]?.at ?? 0;
    expect(arrived).toBeGreaterThanOrEqual(slot);
    // One connection carried it, and it was open before the slot: the request did not wait to open one (TCP, then
    // TLS with Teams: up to ~340 ms on a loaded machine, past the 20 ms a request may be late for its slot).
    expect(suite.connector.connectionTimes).toHaveLength(1);
    expect(suite.connector.connectionTimes[0]).toBeLessThan(slot);
  });
});
