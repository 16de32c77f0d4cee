import { afterEach, describe, expect, it, vi } from 'vitest';
import { QueueClient } from '@azure/storage-queue';
import { DeliveryStore } from '../../src/outbound/deliveries.js';
import { decodeBody, OutboundQueue, type Received } from '../../src/outbound/queue.js';
import { queueName } from '../../src/storage/queues.js';
import { azuriteConnection } from '../support/storage.js';
import { personalChat, sendsTo, standInSuite, until } from './support.js';

// Teams answers slowly: a request is still out when the queue message's hold runs out.
const suite = standInSuite({ latencyMs: 2_500 });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a queue message whose hold runs out while its worker still has it', () => {
  it('is handled once: the worker takes the new hold over instead of starting the message again, and deletes it when sent', async () => {
    const account = suite.account();
    const chats = await account.conversations();
    await chats.remember(personalChat(suite.connector, 'dina'));
    // Storage too slow to keep the message hidden: the hold's renewals (of `visibilitySec`) never land in time.
    const defer = OutboundQueue.prototype.defer;
    vi.spyOn(OutboundQueue.prototype, 'defer').mockImplementation(async function (this: OutboundQueue, r: Received, ms: number) {
      if (ms === 1_000) return;
      return defer.call(this, r, ms);
    });
    const claims = vi.spyOn(DeliveryStore.prototype, 'claim');
    const { outbox, worker } = await account.instance(25, 'w1', { visibilitySec: 1 });
    const [m] = sendsTo(['dina'], 'notice:slow:', 'Your issue R-0042 was resolved.');
    await outbox.enqueue([m!]);
    const [row] = await account.settled([m!]);
    expect(row?.state).toBe('sent');
    await until(() => !worker.busy, 10_000, 'the worker to let the message go');
    // Nothing of it is left on the queue, and it was claimed once: not handled again by the same worker.
    const queue = new QueueClient(azuriteConnection(), queueName(account.prefix, 'outbound'));
    expect((await queue.getProperties()).approximateMessagesCount).toBe(0);
    expect(claims).toHaveBeenCalledTimes(1);
    expect(suite.connector.deliveries.get('a:chat-dina')).toHaveLength(1);
  });
});

describe('a pack on the outbound queue', () => {
  it('one of a pack that cannot be put back on its own (storage refuses) still goes out: the pack comes back whole', async () => {
    const account = suite.account();
    const chats = await account.conversations();
    for (const u of ['ema', 'finn']) await chats.remember(personalChat(suite.connector, u));
    // Teams throttles finn's chat once: finn's message waits, put back on the queue on its own, which storage refuses.
    suite.connector.script('a:chat-finn', 429, 1, { retryAfterSec: 1 });
    const send = OutboundQueue.prototype.send;
    vi.spyOn(OutboundQueue.prototype, 'send').mockImplementation(async function (this: OutboundQueue, text: string, ms?: number) {
      const body = decodeBody(text);
      if (body && 'm' in body) throw Object.assign(new Error('storage did not answer'), { statusCode: 503 });
      return send.call(this, text, ms);
    });
    const { outbox } = await account.instance();
    const messages = sendsTo(['ema', 'finn'], 'notice:pack:', 'Training moves to Thursday.');
    await outbox.enqueue(messages); // one queue message carrying both
    const rows = await account.settled(messages, 20_000);
    expect(rows.map((r) => r.state)).toEqual(['sent', 'sent']);
    expect(suite.connector.deliveries.get('a:chat-ema')).toHaveLength(1);
    expect(suite.connector.deliveries.get('a:chat-finn')).toHaveLength(1);
  });
});

describe('a worker stopping (SIGTERM) while a receive is out', () => {
  it('gives back at once what that receive brought, for another instance to take, instead of keeping it hidden', async () => {
    const account = suite.account();
    const chats = await account.conversations();
    await chats.remember(personalChat(suite.connector, 'gita'));
    let stopped: Promise<void> | undefined;
    let stop: () => Promise<void> = async () => {};
    const receive = OutboundQueue.prototype.receive;
    vi.spyOn(OutboundQueue.prototype, 'receive').mockImplementation(async function (this: OutboundQueue, count: number, sec: number) {
      const got = await receive.call(this, count, sec);
      if (got.length && !stopped) stopped = stop(); // the stop lands while this receive is on its way back
      return got;
    });
    // A long hold: what the stopped worker keeps hidden stays hidden long after it stopped.
    const instance = await account.instance(25, 'w1', { visibilitySec: 30 });
    stop = () => instance.stop();
    const [m] = sendsTo(['gita'], 'notice:stop:', 'Office hours are cancelled today.');
    await instance.outbox.enqueue([m!]);
    await until(() => stopped !== undefined, 10_000, 'the receive that brings the message');
    await stopped;
    expect(await account.row(m!)).toBeUndefined(); // never started
    const queue = new QueueClient(azuriteConnection(), queueName(account.prefix, 'outbound'));
    const visible = await queue.peekMessages({ numberOfMessages: 32 });
    expect(visible.peekedMessageItems.map((p) => decodeBody(p.messageText))).toEqual([{ v: 1, m: expect.objectContaining({ key: m!.key }) }]);
  });
});
