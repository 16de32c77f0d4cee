import { QueueClient } from '@azure/storage-queue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConversationStore } from '../../src/conversations/store.js';
import type { OutboundMessage } from '../../src/outbound/message.js';
import { encodeBody, failuresOf, lateRoundsOf, OutboundQueue, type QueueBody, type Received } from '../../src/outbound/queue.js';
import { OutboundWorker } from '../../src/outbound/worker.js';
import { queueName } from '../../src/storage/queues.js';
import { azuriteConnection } from '../support/storage.js';
import { personalChat, standInSuite, until } from './support.js';

const suite = standInSuite();

type InTime = (...args: unknown[]) => Promise<boolean>;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a storage error while handling a message that had come round the queue before', () => {
  it('backs off by the failures it had (about 1 s, then 2 s), not by how often it was received', async () => {
    const account = suite.account();
    const chats = await account.conversations();
    await chats.remember(personalChat(suite.connector, 'hana'));
    const m: OutboundMessage = { op: 'send', key: 'notice:backoff:hana', to: { kind: 'user', userKey: 'aad-hana' }, content: 'Your seat is booked.' };
    // The message went round the queue four times without a failure (given back: its slot passed, it waited
    // for room), as any worker does with it: each receive counts, none was a failure.
    const raw = new QueueClient(azuriteConnection(), queueName(account.prefix, 'outbound'));
    await raw.createIfNotExists();
    await raw.sendMessage(encodeBody({ v: 1, m }), { messageTimeToLive: -1 });
    for (let i = 0; i < 4; i++) {
      const [got] = (await raw.receiveMessages({ numberOfMessages: 1, visibilityTimeout: 30 })).receivedMessageItems;
      expect(got?.dequeueCount).toBe(i + 1);
      await raw.updateMessage(got!.messageId, got!.popReceipt, undefined, 0);
    }
    // Then storage fails twice while the worker looks up the person's chat.
    const personalChat_ = ConversationStore.prototype.personalChat;
    let faults = 2;
    vi.spyOn(ConversationStore.prototype, 'personalChat').mockImplementation(function (this: ConversationStore, key: string) {
      if (faults > 0 && key === 'aad-hana') {
        faults--;
        return Promise.reject(Object.assign(new Error('storage did not answer'), { statusCode: 503 }));
      }
      return personalChat_.call(this, key);
    });
    // The delays the worker chose when it put the message back after a failure (one more failure in its body). Not
    // the renewals of its hold, nor a put-back of a round late for every slot: on a loaded machine the worker may be
    // too late for its slots and give the message back with a pause of its own (worker.ts `late`), which is no failure.
    const delays: number[] = [];
    const failuresCarried: number[] = [];
    let lateRounds = 0;
    const defer = OutboundQueue.prototype.defer;
    vi.spyOn(OutboundQueue.prototype, 'defer').mockImplementation(function (this: OutboundQueue, r: Received, ms: number, body?: QueueBody) {
      if (body) {
        failuresCarried.push(failuresOf(body));
        if (failuresOf(body) > failuresOf(r.body)) delays.push(ms);
        if (lateRoundsOf(body) > lateRoundsOf(r.body)) lateRounds++;
      }
      return defer.call(this, r, ms, body);
    });
    // Made certain rather than left to the machine's load: after its failures, the worker is too late for every slot
    // of one round (a starved event loop) and gives the message back once more, without a failure.
    const inTime = (OutboundWorker.prototype as unknown as { inTime: InTime }).inTime;
    vi.spyOn(OutboundWorker.prototype as unknown as { inTime: InTime }, 'inTime').mockImplementation(async function (
      this: OutboundWorker,
      ...args: unknown[]
    ) {
      const onTime = await inTime.apply(this, args);
      return lateRounds === 0 ? false : onTime;
    });
    await account.instance(50, 'w1', { visibilitySec: 30 });
    // Backoff of the 1st failure (between half and 1.5 times 1 s), not of the 5th receive (16 s).
    await until(() => delays.length >= 1, 20_000, 'the first failure');
    expect(delays[0]).toBeGreaterThanOrEqual(500);
    expect(delays[0]).toBeLessThanOrEqual(1_500);
    const [row] = await account.settled([m], 30_000);
    expect(row?.state).toBe('sent');
    expect(faults).toBe(0);
    // The 2nd failure backs off longer (the count travels with the message): 2 s, not the 6th receive's 32 s.
    expect(delays).toHaveLength(2);
    expect(delays[1]).toBeGreaterThanOrEqual(1_000);
    expect(delays[1]).toBeLessThanOrEqual(3_000);
    // Every put-back kept the failures counted so far (a late round's among them): none started the count again.
    expect(failuresCarried).toEqual([...failuresCarried].sort((a, b) => a - b));
    expect(failuresCarried).toEqual([1, 2, 2]);
    expect(lateRounds).toBe(1);
    expect(suite.connector.deliveries.get('a:chat-hana')).toHaveLength(1);
  }, 60_000);
});
