import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { ConversationStore } from '../../src/conversations/store.js';
import { startTestApp } from '../support/app.js';
import { TeamsConnectorStandIn } from '../support/teams-connector.js';
import { personalChat, until } from './support.js';

let app: App;
let connector: TeamsConnectorStandIn;
beforeAll(async () => {
  connector = await new TeamsConnectorStandIn().start();
  ({ app } = await startTestApp());
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

describe('the app’s outbox', () => {
  it('takes a message from a feature and its own worker delivers it (chats saved in bulk are found by either id)', async () => {
    const chats = await ConversationStore.open(app.tables, new ManualClock());
    await chats.rememberAll([personalChat(connector, 'kim'), personalChat(connector, 'lou')]);
    await app.outbox.enqueue([
      { op: 'send', key: 'welcome:kim', to: { kind: 'user', userKey: 'aad-kim' }, content: 'Welcome, Kim' },
      { op: 'send', key: 'welcome:lou', to: { kind: 'user', userKey: '29:lou' }, content: 'Welcome, Lou' },
    ]);
    await until(() => connector.counts.delivered === 2, 15_000, 'both deliveries');
    expect(connector.deliveries.get('a:chat-kim')?.map((d) => d.body.text)).toEqual(['Welcome, Kim']);
    expect(connector.deliveries.get('a:chat-lou')?.map((d) => d.body.text)).toEqual(['Welcome, Lou']);
  });
});
