import { describe, expect, it } from 'vitest';
import type { AdaptiveCard } from '../../src/cards/template.js';
import { DeliveryStore } from '../../src/outbound/deliveries.js';
import type { DeliveryResult, OutboundMessage } from '../../src/outbound/message.js';
import { OutboundInputError } from '../../src/outbound/outbox.js';
import { channel, personalChat, standInSuite, TestAccount, until } from './support.js';

const suite = standInSuite();
let account: TestAccount;

const send = (key: string, userKey: string, text: string, extra: Partial<OutboundMessage> = {}): OutboundMessage => ({
  op: 'send',
  key,
  to: { kind: 'user', userKey },
  content: text,
  ...extra,
} as OutboundMessage);

describe('the durable outbound path', () => {
  it('sends a message enqueued twice (a retried turn) once', async () => {
    account = suite.account();
    const chats = await account.conversations();
    await chats.remember(personalChat(suite.connector, 'amina'));
    const { outbox } = await account.instance();
    const m = send('notice:R-0001:resolved', 'aad-amina', 'Your issue R-0001 was resolved.');
    await outbox.enqueue([m]);
    await outbox.enqueue([m]);
    const [row] = await account.settled([m]);
    expect(row?.state).toBe('sent');
    // The second copy is dropped by its row; give the worker time to take it off the queue.
    await until(async () => (await account.row(m))?.state === 'sent');
    const second = send('notice:R-0001:other', 'aad-amina', 'later');
    await outbox.enqueue([second]);
    await account.settled([second]);
    const texts = (suite.connector.deliveries.get('a:chat-amina') ?? []).map((d) => d.body.text);
    expect(texts).toEqual(['Your issue R-0001 was resolved.', 'later']);
  });

  it('refuses a malformed message with a clear reason and enqueues none of the batch', async () => {
    account = suite.account();
    const chats = await account.conversations();
    await chats.remember(personalChat(suite.connector, 'ben'));
    const { outbox } = await account.instance();
    const good = send('ok-1', 'aad-ben', 'fine');
    const bad = { op: 'update', key: 'u-1', post: { kind: 'issue-triage', id: '' }, version: 1.5, content: 'x' } as OutboundMessage;
    await expect(outbox.enqueue([good, bad])).rejects.toThrow(OutboundInputError);
    await expect(outbox.enqueue([good, bad])).rejects.toThrow(/version must be a whole number/);
    const later = send('ok-2', 'aad-ben', 'after');
    await outbox.enqueue([later]);
    await account.settled([later]);
    expect(await account.row(good)).toBeUndefined();
    expect((suite.connector.deliveries.get('a:chat-ben') ?? []).map((d) => d.body.text)).toEqual(['after']);
  });

  it('carries a card too large for a queue message whole (kept in a table row)', async () => {
    account = suite.account();
    const chats = await account.conversations();
    await chats.remember(personalChat(suite.connector, 'chen'));
    const { outbox } = await account.instance();
    const body = Array.from({ length: 400 }, (_, i) => ({ type: 'TextBlock', text: `Line ${i}: ${'é'.repeat(40)} ${'x'.repeat(40)}`, wrap: true }));
    const card = { type: 'AdaptiveCard', version: '1.5', body } as unknown as AdaptiveCard;
    expect(JSON.stringify(card).length).toBeGreaterThan(40_000);
    const m = send('big-1', 'aad-chen', '', { content: card } as Partial<OutboundMessage>);
    await outbox.enqueue([m]);
    await account.settled([m]);
    const got = suite.connector.deliveries.get('a:chat-chen')?.[0]?.body.attachments as { content: unknown }[];
    expect(got?.[0]?.content).toEqual(card);
  });

  it('does not retry a 403 (the person blocked the bot) and records it as blocked', async () => {
    account = suite.account();
    const chats = await account.conversations();
    await chats.remember(personalChat(suite.connector, 'dara'));
    const { outbox } = await account.instance();
    suite.connector.script('a:chat-dara', 403, 5, { code: 'MessageWritesBlocked' });
    const m = send('kudos-1', 'aad-dara', 'Well done!');
    await outbox.enqueue([m]);
    const [row] = await account.settled([m]);
    expect(row?.state).toBe('blocked');
    expect(suite.connector.conversationTimes.get('a:chat-dara')).toHaveLength(1);
    expect(suite.connector.deliveries.get('a:chat-dara')).toBeUndefined();
  });

  it('sends the fallback when the person has no chat with the bot, and tells the topic listener both results', async () => {
    account = suite.account();
    const chats = await account.conversations();
    await chats.remember(channel(suite.connector, '19:triage@thread.tacv2'));
    await chats.setChannelRole('triage', { ...channel(suite.connector, '19:triage@thread.tacv2'), updatedAt: '' }, 'lead');
    const { outbox } = await account.instance();
    const heard: [string, DeliveryResult['state']][] = [];
    outbox.onResult('escalation:', async (msg, result) => {
      heard.push([msg.key, result.state]);
    });
    const m = send('escalation:R-0007:lead', 'aad-nobody', 'R-0007 is blocking work', {
      topic: 'escalation:R-0007',
      fallback: { to: { kind: 'channel', role: 'triage' }, content: 'R-0007 is blocking work (no lead could be reached)' },
    } as Partial<OutboundMessage>);
    await outbox.enqueue([m]);
    const [row] = await account.settled([m]);
    expect(row?.state).toBe('notInstalled');
    await until(() => heard.length === 2, 10_000, 'both results');
    expect(heard).toEqual([
      ['escalation:R-0007:lead', 'notInstalled'],
      ['escalation:R-0007:lead~fallback', 'sent'],
    ]);
    const deliveries = await DeliveryStore.open(account.tables);
    expect(await deliveries.tally('escalation:R-0007')).toEqual({ notInstalled: 1, sent: 1 });
    expect(suite.connector.deliveries.get('19:triage@thread.tacv2')?.map((d) => d.body.text)).toEqual([
      'R-0007 is blocking work (no lead could be reached)',
    ]);
  });

  it('on 429 waits Retry-After for that conversation only; the others keep going', async () => {
    account = suite.account();
    const chats = await account.conversations();
    for (const u of ['eve', 'fay', 'gus', 'hal']) await chats.remember(personalChat(suite.connector, u));
    const { outbox } = await account.instance();
    suite.connector.script('a:chat-eve', 429, 1, { retryAfterSec: 3 });
    const first = send('m-eve-1', 'aad-eve', 'one');
    await outbox.enqueue([first]);
    await until(() => (suite.connector.conversationTimes.get('a:chat-eve')?.length ?? 0) === 1, 10_000, 'the throttled request');
    const throttledAt = suite.connector.conversationTimes.get('a:chat-eve')![0]!;
    const others = ['fay', 'gus', 'hal'].map((u) => send(`m-${u}`, `aad-${u}`, `hi ${u}`));
    await outbox.enqueue(others);
    await account.settled([first, ...others]);
    const eveTimes = suite.connector.conversationTimes.get('a:chat-eve')!;
    expect(eveTimes).toHaveLength(2); // the client library did not retry by itself; the worker did, once
    expect(eveTimes[1]! - throttledAt).toBeGreaterThanOrEqual(3_000);
    const otherDelivered = others.map((m) => suite.connector.deliveries.get(`a:chat-${m.key.slice(2)}`)?.[0]?.at ?? Infinity);
    for (const at of otherDelivered) expect(at).toBeLessThan(eveTimes[1]!);
    expect(suite.connector.counts.selfCaused429).toBe(0);
  });
});
