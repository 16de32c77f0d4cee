import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStore } from '../../src/outbound/deliveries.js';
import type { OutboundMessage } from '../../src/outbound/message.js';
import { WorkerProcess } from '../support/outbound-child.js';
import { azuriteConnection } from '../support/storage.js';
import { TeamsConnectorStandIn } from '../support/teams-connector.js';
import { personalChat, TEST_WORKER, TestAccount, until } from './support.js';

const TEST_WORKER_IN_FLIGHT = 24;

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
  it('resumes after SIGKILL: none messaged twice, none lost silently (a cut-off attempt is on record as unconfirmed)', async () => {
    const { users, messages } = await broadcast(120);
    // Enqueued by "the app" (this process), then sent by a worker process only. (This process also runs the
    // stand-in: enqueuing while it measures arrivals would delay its clock and fake a burst.)
    const { outbox } = await account.instance(25, 'enqueuer');
    await account.stop(); // its worker must not send; the outbox (queue + tables) stays usable
    await outbox.enqueue(messages);
    const first = worker('first');
    await first.ready;
    await until(() => connector.counts.delivered >= 40, 30_000, '40 deliveries');
    await first.kill();
    const deliveredAtKill = connector.counts.delivered;
    expect(deliveredAtKill).toBeLessThan(120);

    const second = worker('second');
    await second.ready;
    const rows = await account.settled(messages, 150_000);
    const tally = connector.tally(users.map((u) => `a:chat-${u}`));
    // Never twice: an attempt the kill cut off is not resent.
    expect(tally.duplicates).toBe(0);
    // Never lost silently: whoever did not get it has a row saying the attempt was cut off (a feature's
    // "resend to failed" covers them); those are at most the requests that were out when the kill came.
    const unconfirmed = users.filter((_, i) => rows[i]!.state === 'failed');
    for (const i of users.keys()) if (rows[i]!.state === 'failed') expect(rows[i]!.reason).toMatch(/^unconfirmed/);
    const missed = users.filter((u) => !connector.deliveries.has(`a:chat-${u}`));
    expect(missed.every((u) => unconfirmed.includes(u))).toBe(true);
    expect(unconfirmed.length).toBeLessThanOrEqual(TEST_WORKER_IN_FLIGHT);
    expect(rows.filter((r) => r.state === 'sent').length + unconfirmed.length).toBe(120);
    expect(connector.counts.selfCaused429).toBe(0);
  }, 240_000);

  it('on SIGTERM finishes what it sent, gives back what waits, and a new instance completes the rest once', async () => {
    const { users, messages } = await broadcast(80);
    const { outbox } = await account.instance(25, 'enqueuer');
    await account.stop();
    await outbox.enqueue(messages);
    const first = worker('first');
    await first.ready;
    await until(() => connector.counts.delivered >= 20, 30_000, '20 deliveries');
    await first.stop();
    // Nothing the stopped worker claimed is left hanging: every row is settled or back to pending.
    const store = await DeliveryStore.open(account.tables);
    const states = await Promise.all(messages.map(async (m) => (await store.read(m))?.state));
    expect(states.filter((s) => s === 'sending')).toEqual([]);
    const second = worker('second');
    await second.ready;
    const rows = await account.settled(messages, 150_000);
    expect(rows.filter((r) => r.state !== 'sent')).toEqual([]);
    expect(connector.tally(users.map((u) => `a:chat-${u}`))).toMatchObject({ delivered: 80, duplicates: 0, missed: 0 });
  }, 240_000);
});
