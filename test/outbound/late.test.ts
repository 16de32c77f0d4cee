import { afterEach, describe, expect, it, vi } from 'vitest';
import { PostStore } from '../../src/conversations/posts.js';
import { TenantBudget } from '../../src/outbound/budget.js';
import { DeliveryStore } from '../../src/outbound/deliveries.js';
import type { OutboundMessage } from '../../src/outbound/message.js';
import { OutboundQueue, type Received } from '../../src/outbound/queue.js';
import { OutboundWorker } from '../../src/outbound/worker.js';
import { channel, personalChat, sendsTo, standInSuite } from './support.js';

const suite = standInSuite();

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * A CPU-starved worker: its event loop comes back too late (past `maxLateMs`) for the next `n` slots it waits
 * for, whatever they are. The slot's wait itself is real; only its verdict is "late", as the worker would find.
 */
function lateForSlots(n: number): { left: () => number } {
  let late = n;
  const inTime = (OutboundWorker.prototype as unknown as { inTime: (...a: unknown[]) => Promise<boolean> }).inTime;
  vi.spyOn(OutboundWorker.prototype as unknown as { inTime: (...a: unknown[]) => Promise<boolean> }, 'inTime').mockImplementation(
    async function (this: OutboundWorker, ...args: unknown[]) {
      const onTime = await inTime.apply(this, args);
      if (late > 0) {
        late--;
        return false;
      }
      return onTime;
    },
  );
  return { left: () => late };
}

describe('a worker late for its slots for a while (a starved event loop)', () => {
  it('keeps its claim and takes later slots until it is on time: the message is not given back nor sent round the queue', async () => {
    const account = suite.account();
    const chats = await account.conversations();
    await chats.remember(personalChat(suite.connector, 'ines'));
    const late = lateForSlots(20);
    const releases = vi.spyOn(DeliveryStore.prototype, 'release');
    // Times the message was put back on the queue (not the renewals of its hold, of `visibilitySec`).
    const HOLD_SEC = 30;
    const putBack: number[] = [];
    const defer = OutboundQueue.prototype.defer;
    vi.spyOn(OutboundQueue.prototype, 'defer').mockImplementation(function (this: OutboundQueue, r: Received, ms: number, ...rest) {
      if (ms !== HOLD_SEC * 1_000) putBack.push(ms);
      return defer.call(this, r, ms, ...rest);
    });
    const claims = vi.spyOn(DeliveryStore.prototype, 'claim');
    const { outbox } = await account.instance(50, 'w1', { visibilitySec: HOLD_SEC });
    const [m] = sendsTo(['ines'], 'notice:late:', 'Your training moved to Thursday.');
    await outbox.enqueue([m!]);
    const [row] = await account.settled([m!], 30_000);
    expect(row?.state).toBe('sent');
    expect(late.left()).toBe(0); // it was late for all twenty
    // Claimed once, never given back, never put back on the queue: the one worker that would send it kept it.
    expect(claims).toHaveBeenCalledTimes(1);
    expect(releases).toHaveBeenCalledTimes(0);
    expect(putBack).toEqual([]);
    expect(suite.connector.deliveries.get('a:chat-ines')).toHaveLength(1);
  });

  it('an update to a card keeps its turn and plans again until it is on time, rather than going round the queue', async () => {
    const account = suite.account();
    const chats = await account.conversations();
    const TRIAGE = '19:triage-late@thread.tacv2';
    await chats.remember(channel(suite.connector, TRIAGE));
    await chats.setChannelRole('triage', { ...channel(suite.connector, TRIAGE), updatedAt: '' }, 'lead');
    const HOLD_SEC = 30;
    const { outbox } = await account.instance(50, 'w1', { visibilitySec: HOLD_SEC });
    const post: OutboundMessage = { op: 'send', key: 'late-post:R-0100', to: { kind: 'channel', role: 'triage' }, content: 'R-0100 v1', post: { kind: 'issue-triage', id: 'R-0100', version: 1 } };
    await outbox.enqueue([post]);
    expect((await account.settled([post]))[0]?.state).toBe('sent');

    // The worker comes back 200 ms after each of the next twelve slots it plans (a starved event loop).
    let late = 12;
    const take = TenantBudget.prototype.take;
    vi.spyOn(TenantBudget.prototype, 'take').mockImplementation(async function (this: TenantBudget, ...args) {
      const slot = await take.apply(this, args);
      if (late <= 0) return slot;
      late--;
      return slot - 200;
    });
    const turns = vi.spyOn(PostStore.prototype, 'beginUpdate');
    const putBack: number[] = [];
    const defer = OutboundQueue.prototype.defer;
    vi.spyOn(OutboundQueue.prototype, 'defer').mockImplementation(function (this: OutboundQueue, r: Received, ms: number, ...rest) {
      if (ms !== HOLD_SEC * 1_000) putBack.push(ms);
      return defer.call(this, r, ms, ...rest);
    });
    const update: OutboundMessage = { op: 'update', key: 'late-card:R-0100:v2', post: { kind: 'issue-triage', id: 'R-0100' }, version: 2, content: 'R-0100 v2' };
    await outbox.enqueue([update]);
    expect((await account.settled([update], 30_000))[0]?.state).toBe('updated');
    expect(late).toBe(0);
    // One turn at the post, never handed back to the queue.
    expect(turns).toHaveBeenCalledTimes(1);
    expect(putBack).toEqual([]);
  });
});
