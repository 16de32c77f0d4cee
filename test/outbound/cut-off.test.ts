import { describe, expect, it } from 'vitest';
import { BUDGET_TABLE } from '../../src/outbound/budget.js';
import { DeliveryStore } from '../../src/outbound/deliveries.js';
import { LeaseStore } from '../../src/outbound/send-lease.js';
import { personalChat, sendsTo, standInSuite, until } from './support.js';

const suite = standInSuite({ tenantPerSecond: 25 });

/**
 * A worker that stopped for good (SIGKILL, power cut) is played by its traces alone: its send lease (the last
 * time it promised it might send until) and its claims, each saying the slot its request would leave at, never
 * earlier. Another worker then meets the same messages when the queue hands them out again.
 */
describe('attempts a stopped worker left behind', () => {
  it('sends again, once, those whose slot its lease never reached; leaves those inside it unconfirmed, never resent', async () => {
    const account = suite.account();
    const chats = await account.conversations();
    // Twelve recipients, and one more (`never`) for the last case below.
    const users = [...Array.from({ length: 12 }, (_, i) => `c${i}`), 'never'];
    await Promise.all(users.map((u) => chats.remember(personalChat(suite.connector, u))));
    const all = sendsTo(users, 'plan:cutoff:', 'FieldLedger goes live on Monday', 'broadcast:cutoff');
    const messages = all.slice(0, 12);
    const never = all[12]!;

    // The stopped worker: its last renewal promised nothing after `upTo`. Its claims' holds have run out.
    const gone = 'gone.0001';
    const upTo = Date.now() - 60_000;
    const leases = new LeaseStore(await account.tables.table(BUDGET_TABLE));
    await leases.write(gone, upTo, undefined);
    const store = await DeliveryStore.open(account.tables);
    const claimedAt = upTo - 500;
    // Half were planned after the lease's reach (they provably never left), half inside it (they may have).
    const after = messages.slice(0, 6);
    const inside = messages.slice(6);
    for (const [i, m] of after.entries()) await store.claim(m, gone, claimedAt, 1_000, upTo + 1 + i * 40);
    for (const [i, m] of inside.entries()) await store.claim(m, gone, claimedAt, 1_000, upTo - i * 40);
    // A worker that never confirmed a lease never sent anything: its attempts are sent again too.
    await store.claim(never, 'never-leased.0002', claimedAt, 1_000, upTo - 1_000);

    const { outbox } = await account.instance(25);
    await outbox.enqueue(all);
    const rows = await account.settled(all, 60_000);

    for (const u of [...users.slice(0, 6), 'never']) expect(suite.connector.deliveries.get(`a:chat-${u}`), u).toHaveLength(1);
    expect(rows.slice(0, 6).map((r) => r.state)).toEqual(Array(6).fill('sent'));
    expect(rows[12]!.state).toBe('sent');
    // Inside the lease: on record as unconfirmed (a broadcast's "resend to failed" offers them), not sent.
    for (const [i, m] of inside.entries()) {
      expect(rows[6 + i], m.key).toMatchObject({ state: 'failed', reason: expect.stringMatching(/^unconfirmed/) });
      expect(suite.connector.deliveries.has(`a:chat-${users[6 + i]}`)).toBe(false);
    }
    // Enqueued again (a retried turn): nothing more is sent, and the unconfirmed stay so.
    await outbox.enqueue(all);
    await account.settled(all, 30_000);
    const { settled } = await account.instance(25);
    expect(await settled(30_000)).toBe(true);
    expect(suite.connector.counts.delivered).toBe(7);
  }, 120_000);

  it('does not wait out the hold of a worker gone silent: ends its lease and sends what it never reached, once', async () => {
    const account = suite.account();
    const chats = await account.conversations();
    const users = Array.from({ length: 6 }, (_, i) => `g${i}`);
    await Promise.all(users.map((u) => chats.remember(personalChat(suite.connector, u))));
    const messages = sendsTo(users, 'plan:gone:', 'FieldLedger goes live on Monday', 'broadcast:gone');
    // A worker that went silent 30 s ago; its claims' holds run for another ten minutes.
    const gone = 'silent.0003';
    const leases = new LeaseStore(await account.tables.table(BUDGET_TABLE));
    const upTo = Date.now() - 30_000;
    await leases.write(gone, upTo, undefined);
    const store = await DeliveryStore.open(account.tables);
    const holdUntil = upTo + 600_000;
    for (const [i, m] of messages.entries()) await store.claim(m, gone, upTo - 500, 600_500, upTo + 1 + i * 40);

    const { outbox } = await account.instance(25);
    await outbox.enqueue(messages);
    const rows = await account.settled(messages, 60_000);
    // Sent while the old holds still ran, once each, by the new worker; the silent worker's lease is ended.
    expect(Date.now()).toBeLessThan(holdUntil);
    for (const [i, u] of users.entries()) {
      expect(suite.connector.deliveries.get(`a:chat-${u}`), u).toHaveLength(1);
      expect(rows[i]).toMatchObject({ state: 'sent' });
      expect(rows[i]!.holder).not.toBe(gone);
    }
    expect(await leases.read(gone)).toMatchObject({ revoked: true, upTo });
  }, 90_000);

  it('a live worker only sends under a lease it has confirmed in storage, which reaches past each send', async () => {
    const account = suite.account();
    const chats = await account.conversations();
    const users = Array.from({ length: 20 }, (_, i) => `l${i}`);
    await Promise.all(users.map((u) => chats.remember(personalChat(suite.connector, u))));
    const outbound = await account.instance(25);
    const incarnation = outbound.worker.lease.incarnation;
    const leases = new LeaseStore(await account.tables.table(BUDGET_TABLE));
    expect(await leases.upTo(incarnation)).toBeUndefined(); // idle: nothing written
    const messages = sendsTo(users, 'tip:', 'Tip of the week');
    await outbound.outbox.enqueue(messages);
    await account.settled(messages, 60_000);
    await until(async () => (await leases.upTo(incarnation)) !== undefined, 5_000, 'a lease row');
    const stored = (await leases.upTo(incarnation))!;
    // Each request left at or after the slot its row states, under a lease stored in time: so every sent
    // attempt's slot is within the lease's stored reach (the rule a kill is settled by).
    const store = await DeliveryStore.open(account.tables);
    for (const m of messages) {
      const row = await store.read(m);
      expect(row).toMatchObject({ state: 'sent', holder: incarnation });
      expect(row!.slot).toBeLessThanOrEqual(stored);
    }
  }, 90_000);
});
