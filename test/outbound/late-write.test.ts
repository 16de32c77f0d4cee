import { afterEach, describe, expect, it, vi } from 'vitest';
import { PostStore } from '../../src/conversations/posts.js';
import type { StoredConversation } from '../../src/conversations/store.js';
import type { Content, OutboundMessage } from '../../src/outbound/message.js';
import { TeamsTransport } from '../../src/teams/transport.js';
import { channel, personalChat, recordTakenSlots, sendsTo, standInSuite, until } from './support.js';

/*
 * A request held up after the worker's last look at the clock and before its bytes reach the socket (a starved
 * event loop, a token refresh): late for its slot by more than the guard allows. At 10/s the slots are 104 ms apart
 * and a 1 s window holds 10 of them with 40 ms to spare, so a request 70 ms late shares a window with the next ten
 * requests sent on time: one too many, and Teams answers 429. It must not go out on that stale slot.
 */
const TENANT_LIMIT = 10;
const suite = standInSuite({ tenantPerSecond: TENANT_LIMIT });

afterEach(() => {
  vi.restoreAllMocks();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('a request held up between its last check and the socket', () => {
  it('is not sent on its stale slot: no 429 of our own making at the tenant limit, everyone gets it once', async () => {
    const send = TeamsTransport.prototype.send;
    let calls = 0;
    let heldUp = 0;
    vi.spyOn(TeamsTransport.prototype, 'send').mockImplementation(async function (
      this: TeamsTransport,
      conv: StoredConversation,
      content: Content,
      opts,
    ) {
      // Every 8th request, from the 6th on, once the broadcast runs at the limit: 70 ms late, past the 20 ms allowed.
      if (++calls % 8 === 6 && heldUp < 4) {
        heldUp++;
        await sleep(70);
      }
      return send.call(this, conv, content, opts);
    });
    const account = suite.account();
    const chats = await account.conversations();
    const users = Array.from({ length: 40 }, (_, i) => `late${i}`);
    await Promise.all(users.map((u) => chats.remember(personalChat(suite.connector, u))));
    const { outbox, worker } = await account.instance(TENANT_LIMIT);
    const messages = sendsTo(users, 'late-write:', 'Maintenance tonight');
    await outbox.enqueue(messages);
    const rows = await account.settled(messages, 60_000);
    expect(heldUp).toBe(4);
    // Each held-up request was refused at the socket and sent in a new slot.
    expect(worker.stats.counts.late).toBeGreaterThanOrEqual(4);
    expect(rows.every((r) => r.state === 'sent')).toBe(true);
    expect(suite.connector.tally(users.map((u) => `a:chat-${u}`))).toMatchObject({ delivered: 40, duplicates: 0, missed: 0 });
    expect(suite.connector.counts.selfCaused429).toBe(0);
    expect(suite.connector.busiest().tenantPerWindow).toBeLessThanOrEqual(TENANT_LIMIT);
  }, 90_000);
});

describe('a card update whose timer fires early', () => {
  it('is not made before its slot', async () => {
    const TRIAGE = '19:triage-early@thread.tacv2';
    const account = suite.account();
    const chats = await account.conversations();
    await chats.remember(channel(suite.connector, TRIAGE));
    await chats.setChannelRole('triage', { ...channel(suite.connector, TRIAGE), updatedAt: '' }, 'lead');
    const { outbox } = await account.instance(TENANT_LIMIT);
    const card = (version: number): OutboundMessage =>
      version === 1
        ? { op: 'send', key: 'early:post', to: { kind: 'channel', role: 'triage' }, content: 'v1', post: { kind: 'issue-triage', id: 'R-9', version } }
        : { op: 'update', key: `early:v${version}`, post: { kind: 'issue-triage', id: 'R-9' }, version, content: `v${version}` };
    await outbox.enqueue([card(1)]);
    await account.settled([card(1)]);
    const posts = await PostStore.open(account.tables);
    await until(async () => (await posts.state('issue-triage', 'R-9'))?.version === 1, 20_000, 'the card to be recorded');

    // From here every timer fires 40 ms early (Node's timers count from the event loop's cached time; slots are
    // fractional ms): the update's wait for its slot ends before the slot.
    const slots = recordTakenSlots();
    const realSetTimeout = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number, ...rest: unknown[]) =>
      realSetTimeout(fn, Math.max(0, (ms ?? 0) - 40), ...rest)) as unknown as typeof setTimeout);
    await outbox.enqueue([card(2)]);
    const [row] = await account.settled([card(2)]);
    vi.mocked(globalThis.setTimeout).mockRestore();
    expect(row?.state).toBe('updated');
    const arrivals = suite.connector.conversationTimes.get(TRIAGE) ?? [];
    expect(arrivals).toHaveLength(2); // the post, and its one update
    expect(slots.length).toBeGreaterThan(0);
    // Teams saw the update no earlier than the slot it was planned for.
    expect(arrivals[1]).toBeGreaterThanOrEqual(Math.max(...slots));
  });
});
