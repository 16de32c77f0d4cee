import { describe, expect, it } from 'vitest';
import { PostStore } from '../../src/conversations/posts.js';
import { DeliveryStore } from '../../src/outbound/deliveries.js';
import { type DeliveryResult, type OutboundMessage, WITHDRAWN } from '../../src/outbound/message.js';
import { QueueOutbox } from '../../src/outbound/outbox.js';
import { OutboundQueue } from '../../src/outbound/queue.js';
import { openQueue, queueName } from '../../src/storage/queues.js';
import { azuriteConnection } from '../support/storage.js';
import { personalChat, standInSuite, TestAccount } from './support.js';

/*
 * `withdraw` (a cancelled broadcast's copies): a message no worker has taken is settled before any attempt, so its
 * queue copy is dropped when a worker takes it, however long the queue; one that ended keeps its answer, and one
 * whose attempt is under way is left to it. The listener hears how each ended.
 */

const suite = standInSuite();

const toUser = (key: string, user: string): Extract<OutboundMessage, { op: 'send' }> => ({
  op: 'send',
  key,
  to: { kind: 'user', userKey: `aad-${user}` },
  content: `for ${user}`,
  topic: 'broadcast:s1',
});

/** This account's outbox with no worker of its own: what it enqueues waits on the queue (a backlog). */
async function outboxWithoutWorker(account: TestAccount): Promise<QueueOutbox> {
  const queue = new OutboundQueue(await openQueue(azuriteConnection(), queueName(account.prefix, 'outbound')));
  return new QueueOutbox(queue, await DeliveryStore.open(account.tables), await PostStore.open(account.tables));
}

describe('withdrawing a message', () => {
  it('still on the queue: no worker sends it, and the listener hears it withdrawn', async () => {
    const account = suite.account();
    await (await account.conversations()).remember(personalChat(suite.connector, 'amina'));
    const backlog = await outboxWithoutWorker(account);
    const heard: [string, DeliveryResult][] = [];
    backlog.onResult('broadcast:', async (m, r) => void heard.push([m.key, r]));
    const m = toUser('broadcast|s1|amina', 'amina');
    await backlog.enqueue([m]);
    await backlog.withdraw([m]);
    expect(heard).toEqual([['broadcast|s1|amina', { state: 'failed', reason: WITHDRAWN }]]);

    const worker = await account.instance();
    expect(await worker.settled(20_000)).toBe(true);
    expect(suite.connector.deliveries.get('a:chat-amina')).toBeUndefined();
    expect(await account.row(m)).toMatchObject({ state: 'failed', reason: WITHDRAWN });
  });

  it('already sent: nothing changes, and the listener hears it was sent', async () => {
    const account = suite.account();
    await (await account.conversations()).remember(personalChat(suite.connector, 'ben'));
    const { outbox } = await account.instance();
    const m = toUser('broadcast|s1|ben', 'ben');
    await outbox.enqueue([m]);
    await account.settled([m]);
    const heard: DeliveryResult['state'][] = [];
    outbox.onResult('broadcast:', async (_m, r) => void heard.push(r.state));
    await outbox.withdraw([m]);
    expect(heard).toEqual(['sent']);
    expect(await account.row(m)).toMatchObject({ state: 'sent' });
    expect(suite.connector.deliveries.get('a:chat-ben')).toHaveLength(1);
  });

  it('given back after a failed try: settled withdrawn, so no worker claims it again; under way: left to its worker', async () => {
    const account = suite.account();
    const rows = await DeliveryStore.open(account.tables);
    const now = Date.now();
    const retried = toUser('broadcast|s1|cara', 'cara');
    const claim = await rows.claim(retried, 'w1', now, 30_000, now);
    if (claim.kind !== 'claimed') throw new Error(claim.kind);
    await rows.release(retried, claim.etag, 'HTTP 503');
    expect(await rows.withdraw(retried)).toEqual({ state: 'failed', reason: WITHDRAWN });
    expect((await rows.claim(retried, 'w2', now, 30_000, now)).kind).toBe('settled');

    const inFlight = toUser('broadcast|s1|dan', 'dan');
    expect((await rows.claim(inFlight, 'w1', now, 30_000, now)).kind).toBe('claimed');
    expect(await rows.withdraw(inFlight)).toBeUndefined();
    expect(await rows.read(inFlight)).toMatchObject({ state: 'sending', holder: 'w1' });
  });
});
