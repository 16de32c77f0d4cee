import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OutboundMessage } from '../../src/outbound/message.js';
import { busiest } from '../../src/outbound/windows.js';
import { channel, fullArrivalWindows, personalChat, recordDepartures, sendsTo, standInSuite, TestAccount } from './support.js';

// A low tenant limit, so it binds with a few hundred messages.
const TENANT_LIMIT = 20;
const suite = standInSuite({ tenantPerSecond: TENANT_LIMIT });
let account: TestAccount;
/**
 * How much later than its planned slot a request may reach Teams and the tenant's windows still hold: the 40 ms
 * the tenant's window is measured longer (`guardMs`), less the 20 ms a request may leave after its slot
 * (`maxLateMs`), as `startOutbound` sets them.
 */
const TRANSIT_ALLOWED_MS = 40 - 20;

afterEach(() => {
  vi.restoreAllMocks();
});

const CHANNEL = '19:announcements-limits@thread.tacv2';

async function run(instances: number) {
  account = suite.account();
  const chats = await account.conversations();
  const users = Array.from({ length: 100 }, (_, i) => `u${i}`);
  // In transactions and a few at a time (the store's bulk path): a hundred single writes in one burst met the 4 s
  // storage deadline on a loaded machine, and the test failed in its own set-up.
  await chats.rememberAll(users.map((u) => personalChat(suite.connector, u)));
  await chats.remember(channel(suite.connector, CHANNEL));
  const outbound = [];
  for (let i = 0; i < instances; i++) outbound.push(await account.instance(TENANT_LIMIT));
  const messages: OutboundMessage[] = [
    ...users.map((u): OutboundMessage => ({ op: 'send', key: `tip:${u}`, to: { kind: 'user', userKey: `aad-${u}` }, content: 'Tip of the week' })),
    // A burst into one channel: its own windows (7/1 s, 8/2 s) bind long before the tenant's.
    ...Array.from({ length: 24 }, (_, i): OutboundMessage => ({
      op: 'send',
      key: `thread:${i}`,
      to: { kind: 'conversation', conversationId: CHANNEL },
      content: `Thread ${i}`,
    })),
  ];
  // Half through each instance's outbox: both enqueue and both send.
  await Promise.all(outbound.map((o, i) => o.outbox.enqueue(messages.filter((_, j) => j % instances === i))));
  const rows = await account.settled(messages, 60_000);
  return { users, rows };
}

describe('Teams limits, held across instances', () => {
  for (const instances of [1, 2]) {
    it(`${instances} instance(s) on one account: no 429 of their own making, every recipient once`, async () => {
      const { users, rows } = await run(instances);
      expect(rows.every((r) => r.state === 'sent')).toBe(true);
      expect(suite.connector.counts.selfCaused429).toBe(0);
      const tally = suite.connector.tally(users.map((u) => `a:chat-${u}`));
      expect(tally).toMatchObject({ delivered: 100, duplicates: 0, missed: 0 });
      expect(suite.connector.deliveries.get(CHANNEL)).toHaveLength(24);
      const busiest = suite.connector.busiest();
      expect(busiest.tenantPerWindow).toBeLessThanOrEqual(TENANT_LIMIT);
      expect(busiest.conversationPer1s).toBeLessThanOrEqual(7);
    }, 90_000);
  }

  it('a broadcast enqueued at once is shared by two instances: each takes a pack or two at a time, not all of them', async () => {
    account = suite.account();
    const chats = await account.conversations();
    const users = Array.from({ length: 200 }, (_, i) => `s${i}`);
    // In transactions and a few at a time (the store's bulk path): a hundred single writes in one burst met the 4 s
  // storage deadline on a loaded machine, and the test failed in its own set-up.
  await chats.rememberAll(users.map((u) => personalChat(suite.connector, u)));
    const left = recordDepartures();
    const first = await account.instance(TENANT_LIMIT, 'first');
    await account.instance(TENANT_LIMIT, 'second');
    const messages = sendsTo(users, 'shared:', 'Tip of the week');
    await first.outbox.enqueue(messages); // four packs of 50
    const rows = await account.settled(messages, 90_000);
    expect(rows.every((r) => r.state === 'sent')).toBe(true);
    expect(suite.connector.tally(users.map((u) => `a:chat-${u}`))).toMatchObject({ delivered: 200, duplicates: 0, missed: 0 });
    const byInstance = (name: string) => rows.filter((r) => r.holder?.startsWith(`${name}.`)).length;
    expect(byInstance('first')).toBeGreaterThan(0);
    expect(byInstance('second')).toBeGreaterThan(0);
    // The two instances together never let more than the limit leave in any 1 s, checked over every request of the
    // send (all 200 left through the last check, and every request that arrived had left through it) …
    const departures = [...left.values()].flat().sort((a, b) => a - b);
    expect(departures.length).toBeGreaterThanOrEqual(200);
    for (const [conversation, arrived] of suite.connector.conversationTimes) expect(left.get(conversation)?.length ?? 0).toBeGreaterThanOrEqual(arrived.length);
    expect(busiest(departures, 1_000)).toBeLessThanOrEqual(TENANT_LIMIT);
    // … and Teams' windows (arrivals) hold too, but for a request the loaded machine held up on its way for longer
    // than the guard allows for (after the senders' last check, or in the stand-in before it stamped the arrival).
    const arrivals = fullArrivalWindows(suite.connector.conversationTimes, left, TENANT_LIMIT, TRANSIT_ALLOWED_MS);
    expect(arrivals.unexplained).toEqual([]);
    // Excused windows are shown, and few: a machine slow enough to excuse most of them would make this check hold nothing.
    if (arrivals.excused.length) console.warn(`${arrivals.excused.length} of ${arrivals.windows} arrival windows excused (slow on the way):`, arrivals.excused);
    expect(arrivals.excused.length, JSON.stringify(arrivals.excused)).toBeLessThanOrEqual(arrivals.windows * 0.2);
  }, 120_000);
});
