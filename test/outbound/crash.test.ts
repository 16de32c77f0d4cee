import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStore } from '../../src/outbound/deliveries.js';
import type { OutboundMessage } from '../../src/outbound/message.js';
import { WorkerProcess } from '../support/outbound-child.js';
import { azuriteConnection } from '../support/storage.js';
import { TeamsConnectorStandIn } from '../support/teams-connector.js';
import { personalChat, TEST_WORKER, TestAccount, until } from './support.js';

let connector: TeamsConnectorStandIn;
let account: TestAccount;
const children: WorkerProcess[] = [];
beforeAll(async () => {
  // Teams answers after a while: a kill then often falls while requests are out (the hard case).
  connector = await new TeamsConnectorStandIn({ tenantPerSecond: 25, latencyMs: 40 }).start();
});
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill()));
  await account?.stop();
  connector.reset();
});
afterAll(async () => {
  await connector?.stop();
});

function worker(id: string): WorkerProcess {
  const w = new WorkerProcess({ storage: azuriteConnection(), prefix: account.prefix, tenant: 25, id, worker: TEST_WORKER });
  children.push(w);
  return w;
}

async function broadcast(n: number) {
  account = new TestAccount();
  const chats = await account.conversations();
  const users = Array.from({ length: n }, (_, i) => `r${i}`);
  await Promise.all(users.map((u) => chats.remember(personalChat(connector, u))));
  const messages = users.map((u): OutboundMessage => ({
    op: 'send',
    key: `plan:launch:${u}`,
    to: { kind: 'user', userKey: `aad-${u}` },
    content: 'FieldLedger goes live on Monday',
    topic: 'broadcast:launch',
  }));
  return { users, messages };
}

describe('a crash mid-send', () => {
  it('resumes after SIGKILL with no recipient missed and none messaged twice', async () => {
    const { users, messages } = await broadcast(120);
    const first = worker('first');
    await first.ready;
    // Enqueued by "the app" (this process): the worker process only sends.
    const { outbox } = await account.instance(25, 'enqueuer');
    await account.stop(); // its worker must not send; the outbox (queue + tables) stays usable
    await outbox.enqueue(messages);
    await until(() => connector.counts.delivered >= 40, 30_000, '40 deliveries');
    await first.kill();
    const deliveredAtKill = connector.counts.delivered;
    expect(deliveredAtKill).toBeLessThan(120);

    const second = worker('second');
    await second.ready;
    const rows = await account.settled(messages, 60_000);
    const tally = connector.tally(users.map((u) => `a:chat-${u}`));
    expect(tally).toMatchObject({ delivered: 120, duplicates: 0, missed: 0 });
    // Any attempt the kill cut off is on record as unconfirmed, not silently resent.
    const cutOff = rows.filter((r) => r.state === 'failed');
    for (const r of cutOff) expect(r.reason).toMatch(/^unconfirmed/);
    expect(rows.filter((r) => r.state === 'sent').length + cutOff.length).toBe(120);
    expect(connector.counts.selfCaused429).toBe(0);
  }, 120_000);

  it('on SIGTERM finishes what it sent, gives back what waits, and a new instance completes the rest once', async () => {
    const { users, messages } = await broadcast(80);
    const first = worker('first');
    await first.ready;
    const { outbox } = await account.instance(25, 'enqueuer');
    await account.stop();
    await outbox.enqueue(messages);
    await until(() => connector.counts.delivered >= 20, 30_000, '20 deliveries');
    await first.stop();
    // Nothing the stopped worker claimed is left hanging: every row is settled or back to pending.
    const store = await DeliveryStore.open(account.tables);
    const states = await Promise.all(messages.map(async (m) => (await store.read(m))?.state));
    expect(states.filter((s) => s === 'sending')).toEqual([]);
    const second = worker('second');
    await second.ready;
    const rows = await account.settled(messages, 60_000);
    expect(rows.every((r) => r.state === 'sent')).toBe(true);
    expect(connector.tally(users.map((u) => `a:chat-${u}`))).toMatchObject({ delivered: 80, duplicates: 0, missed: 0 });
  }, 120_000);
});
