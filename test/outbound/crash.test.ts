import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BUDGET_TABLE } from '../../src/outbound/budget.js';
import { DeliveryStore } from '../../src/outbound/deliveries.js';
import { LeaseStore } from '../../src/outbound/send-lease.js';
import { WorkerProcess } from '../support/outbound-child.js';
import { azuriteConnection } from '../support/storage.js';
import { TeamsConnectorStandIn } from '../support/teams-connector.js';
import { personalChat, sendsTo, TEST_WORKER, TestAccount, until } from './support.js';

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

/**
 * A worker process that loads now and starts taking messages on `go()`. Its claims hold 3 × 1 s of re-planning
 * (not 3 × 3 s) + the request's 3 s + 1 s: what a kill cut off is settled 6 s sooner, by the same rules.
 */
function worker(id: string): WorkerProcess {
  const w = new WorkerProcess({
    storage: azuriteConnection(),
    prefix: account.prefix,
    tenant: 25,
    id,
    worker: { ...TEST_WORKER, maxHoldMs: 1_000 },
    waiting: true,
  });
  children.push(w);
  return w;
}

/**
 * A fresh account with `n` people to send to, and the two instances' processes: both load while the people are
 * stored, so neither's load time counts (the second's would otherwise fall between the kill and its take-over).
 */
async function broadcast(n: number) {
  account = new TestAccount();
  const first = worker('first');
  const second = worker('second');
  const chats = await account.conversations();
  const users = Array.from({ length: n }, (_, i) => `r${i}`);
  // The store's bulk path: single writes in one burst, beside two processes loading, can miss the storage deadline.
  await chats.rememberAll(users.map((u) => personalChat(connector, u)));
  const messages = sendsTo(users, 'plan:launch:', 'FieldLedger goes live on Monday', 'broadcast:launch');
  return { users, messages, first, second };
}

describe('a crash mid-send', () => {
  it('resumes after SIGKILL: none messaged twice; what its lease never reached is sent again, the rest is on record as unconfirmed', async () => {
    const { users, messages, first, second } = await broadcast(120);
    // Enqueued by "the app" (this process), then sent by a worker process only. (This process also runs the
    // stand-in: enqueuing while it measures arrivals would delay its clock and fake a burst.)
    const { outbox } = await account.instance(25, 'enqueuer');
    await account.stop(); // its worker must not send; the outbox (queue + tables) stays usable
    await outbox.enqueue(messages);
    first.go();
    await first.ready;
    await until(() => connector.counts.delivered >= 40, 30_000, '40 deliveries');
    await first.kill();
    const deliveredAtKill = connector.counts.delivered;
    expect(deliveredAtKill).toBeLessThan(120);
    // What the kill left: attempts claimed and not recorded, each with its slot, and the worker's last lease.
    const store = await DeliveryStore.open(account.tables);
    const atKill = await Promise.all(messages.map((m) => store.read(m)));
    const cut = users.filter((_, i) => atKill[i]?.state === 'sending');
    const holders = new Set(cut.map((u) => atKill[users.indexOf(u)]!.holder!));
    expect(holders.size).toBeLessThanOrEqual(1);
    const leases = new LeaseStore(await account.tables.table(BUDGET_TABLE));
    const upTo = holders.size ? await leases.upTo([...holders][0]!) : undefined;
    const provablyUnsent = cut.filter((u) => upTo === undefined || atKill[users.indexOf(u)]!.slot! > upTo);
    const unsure = cut.filter((u) => !provablyUnsent.includes(u));
    const before = new Map(users.map((u) => [u, connector.deliveries.get(`a:chat-${u}`)?.length ?? 0]));

    second.go();
    await second.ready;
    const rows = await account.settled(messages, 150_000);
    const tally = connector.tally(users.map((u) => `a:chat-${u}`));
    expect(tally.duplicates).toBe(0);
    // Never sent by the killed worker (its lease never reached their slot): sent now, once.
    for (const u of provablyUnsent) {
      expect(before.get(u), u).toBe(0);
      expect(connector.deliveries.get(`a:chat-${u}`), u).toHaveLength(1);
      expect(rows[users.indexOf(u)]!.state).toBe('sent');
    }
    // Inside the lease: the request may have left; on record as unconfirmed (a feature's "resend to failed"
    // covers them) and never sent again.
    for (const u of unsure) {
      expect(rows[users.indexOf(u)], u).toMatchObject({ state: 'failed', reason: expect.stringMatching(/^unconfirmed/) });
      expect(connector.deliveries.get(`a:chat-${u}`)?.length ?? 0, u).toBe(before.get(u));
    }
    // Never lost silently: whoever did not get it is one of those.
    const missed = users.filter((u) => !connector.deliveries.has(`a:chat-${u}`));
    expect(missed.every((u) => unsure.includes(u))).toBe(true);
    expect(unsure.length).toBeLessThanOrEqual(TEST_WORKER_IN_FLIGHT);
    expect(rows.filter((r) => r.state === 'sent').length + unsure.length).toBe(120);
    expect(connector.counts.selfCaused429).toBe(0);
  }, 240_000);

  it('on SIGTERM finishes what it sent, gives back what waits, and a new instance completes the rest once', async () => {
    const { users, messages, first, second } = await broadcast(80);
    const { outbox } = await account.instance(25, 'enqueuer');
    await account.stop();
    await outbox.enqueue(messages);
    first.go();
    await first.ready;
    await until(() => connector.counts.delivered >= 20, 30_000, '20 deliveries');
    await first.stop();
    // Nothing the stopped worker claimed is left hanging: every row is settled or back to pending.
    const store = await DeliveryStore.open(account.tables);
    const states = await Promise.all(messages.map(async (m) => (await store.read(m))?.state));
    expect(states.filter((s) => s === 'sending')).toEqual([]);
    second.go();
    await second.ready;
    const rows = await account.settled(messages, 150_000, () => `first worker's log:\n${first.log}\nsecond worker's log:\n${second.log}`);
    expect(rows.filter((r) => r.state !== 'sent')).toEqual([]);
    expect(connector.tally(users.map((u) => `a:chat-${u}`))).toMatchObject({ delivered: 80, duplicates: 0, missed: 0 });
  }, 240_000);
});
