import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StoredConversation } from '../../src/conversations/store.js';
import type { Content } from '../../src/outbound/message.js';
import type { RequestOptions } from '../../src/outbound/transport.js';
import { TeamsTransport } from '../../src/teams/transport.js';
import { personalChat, sendsTo, standInSuite, until } from './support.js';

/*
 * A CPU-starved instance: every request is held up between the worker's last look at the clock and the socket
 * for longer than the slot allows (here 120 ms, past the 20 ms late and the 40 ms guard), every time. Refused at
 * the socket and planned again, each plan was missed again: a broadcast never finished. It must finish, every
 * recipient once, with no 429 of our own making.
 */
const suite = standInSuite();

afterEach(() => {
  vi.restoreAllMocks();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Every request to the connector reaches the transport's last check `ms` late; counts the tries and the refusals. */
function starveRequests(ms: number): { tries: number; refused: number } {
  const seen = { tries: 0, refused: 0 };
  const send = TeamsTransport.prototype.send;
  vi.spyOn(TeamsTransport.prototype, 'send').mockImplementation(async function (
    this: TeamsTransport,
    conv: StoredConversation,
    content: Content,
    opts: RequestOptions,
  ) {
    seen.tries++;
    await sleep(ms);
    const go = () => {
      const ok = opts.go();
      if (!ok) seen.refused++;
      return ok;
    };
    return send.call(this, conv, content, { ...opts, go });
  });
  return seen;
}

describe('a CPU-starved worker (every request late at the socket)', () => {
  it('still sends every message, once, with no 429 of its own making, in a bounded number of tries', async () => {
    const seen = starveRequests(120);
    const account = suite.account();
    const chats = await account.conversations();
    const users = Array.from({ length: 30 }, (_, i) => `starved${i}`);
    await Promise.all(users.map((u) => chats.remember(personalChat(suite.connector, u))));
    const { outbox } = await account.instance(50);
    const messages = sendsTo(users, 'starved:', 'Maintenance tonight', 'maintenance');
    await outbox.enqueue(messages);
    // Counted, not timed: stop looking once every message is delivered, or once the tries show it going round.
    const MAX_TRIES = 8 * users.length;
    await until(() => suite.connector.counts.delivered >= users.length || seen.tries > MAX_TRIES, 90_000, 'deliveries or tries');
    expect({ delivered: suite.connector.counts.delivered, withinTries: seen.tries <= MAX_TRIES }).toEqual({
      delivered: users.length,
      withinTries: true,
    });
    const rows = await account.settled(messages, 30_000);
    expect(rows.every((r) => r.state === 'sent')).toBe(true);
    expect(seen.refused).toBeGreaterThan(0); // it was starved: its first plans were refused at the socket
    expect(suite.connector.tally(users.map((u) => `a:chat-${u}`))).toMatchObject({ delivered: users.length, duplicates: 0, missed: 0 });
    expect(suite.connector.counts.selfCaused429).toBe(0);
    expect(suite.connector.busiest().tenantPerWindow).toBeLessThanOrEqual(50);
  }, 120_000);
});
