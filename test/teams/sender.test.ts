import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import type { StoredConversation } from '../../src/conversations/store.js';
import { ConversationStore } from '../../src/conversations/store.js';
import { startTestApp } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

let app: App;
let connector: RecordingConnector;
beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app } = await startTestApp());
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

function personal(id: string, user: string): Omit<StoredConversation, 'updatedAt'> {
  return {
    conversationId: id,
    conversationType: 'personal',
    serviceUrl: connector.url,
    tenantId: 'tenant-1',
    channelId: 'msteams',
    bot: { id: '28:bot' },
    user: { id: `29:${user}`, aadObjectId: `aad-${user}`, name: user },
  };
}

describe('ProactiveSender', () => {
  it('sends a 1:1 message to a user through their stored personal chat', async () => {
    const store = await ConversationStore.open(app.tables, new ManualClock());
    await store.remember(personal('a:chat-amina', 'amina'));
    expect(await app.sender.toUser('aad-amina', 'Your issue R-0001 was resolved.')).toBe(true);
    const sent = connector.sentTo('a:chat-amina');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.body.text).toBe('Your issue R-0001 was resolved.');
  });

  it('reports false, without throwing, for a user it has no chat with', async () => {
    expect(await app.sender.toUser('aad-nobody', 'hello')).toBe(false);
  });

  it('does not retry a 403 (the user blocked the bot) and reports false', async () => {
    const store = await ConversationStore.open(app.tables, new ManualClock());
    await store.remember(personal('a:chat-blocked', 'blocked'));
    const before = connector.calls.length;
    const rejectedBefore = connector.rejected.length;
    connector.failNext(403, 3);
    expect(await app.sender.toUser('aad-blocked', 'hi')).toBe(false);
    expect(connector.rejected.length - rejectedBefore).toBe(1);
    expect(connector.calls.length).toBe(before);
    connector.clearFailures();
  });

  it('retries a 429 and delivers once', async () => {
    const conv = { ...personal('a:chat-busy', 'busy'), updatedAt: '' };
    connector.failNext(429, 1, { 'retry-after': '0' });
    const sent = await app.sender.send(conv, 'after a throttle');
    expect(sent.activityId).not.toBe('');
    expect(connector.sentTo('a:chat-busy')).toHaveLength(1);
  });

  it('updates a message it sent earlier', async () => {
    const conv = { ...personal('a:chat-update', 'upd'), updatedAt: '' };
    const sent = await app.sender.send(conv, 'first');
    await app.sender.update(conv, sent.activityId, 'second');
    const put = connector.calls.find((c) => c.method === 'PUT' && c.conversationId === 'a:chat-update');
    expect(put?.activityId).toBe(sent.activityId);
    expect(put?.body.text).toBe('second');
  });
});
