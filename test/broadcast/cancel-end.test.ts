import { describe, expect, it } from 'vitest';
import { parseOutboundKey } from '../../src/broadcast/runner.js';
import type { OutboundMessage } from '../../src/outbound/message.js';
import { finished, LEAD, sendingWelcome, settle, TestOutbox } from './support.js';

/** A queue that answers 503 to the next broadcast batch: its rows say handed over, nothing is on the queue. */
class FlakyOutbox extends TestOutbox {
  failNext = 0;
  override async enqueue(messages: readonly OutboundMessage[]): Promise<void> {
    if (this.failNext > 0 && messages.some((m) => m.op === 'send' && m.topic)) {
      this.failNext--;
      throw new Error('503 queue unavailable');
    }
    return super.enqueue(messages);
  }
}

/*
 * How a send cancelled while messages were on their way ends: what was still unsent at the cancel stays unsent —
 * a copy on a backlogged queue is taken back from the outbound path (withdrawn) and reported "Not sent (cancelled)" —
 * what was on its way keeps the answer Teams gives, however late, and the report follows once those answers are back
 * (not only at the next scheduled pass).
 */

/** A queue that refuses the next `failWithdraw` withdrawals (storage not answering at the cancel). */
class NoWithdrawOutbox extends TestOutbox {
  failWithdraw = 0;
  override async withdraw(messages: readonly OutboundMessage[]): Promise<void> {
    if (this.failWithdraw > 0) {
      this.failWithdraw--;
      throw new Error('503 storage unavailable');
    }
    return super.withdraw(messages);
  }
}

/** A queue whose withdrawal waits until released (storage answering slowly, or thousands of rows to take back). */
class SlowWithdrawOutbox extends TestOutbox {
  private release: () => void = () => undefined;
  private readonly gate = new Promise<void>((r) => (this.release = r));
  open(): void {
    this.release();
  }
  override async withdraw(messages: readonly OutboundMessage[]): Promise<void> {
    await this.gate;
    return super.withdraw(messages);
  }
}

/** A queue that keeps which keys were taken back. */
class KeptWithdrawOutbox extends TestOutbox {
  readonly withdrawnKeys: string[] = [];
  override async withdraw(messages: readonly OutboundMessage[]): Promise<void> {
    this.withdrawnKeys.push(...messages.map((m) => m.key));
    return super.withdraw(messages);
  }
}

const broadcastDelivered = (f: { outbox: TestOutbox }) => f.outbox.delivered.filter((k) => k.startsWith('broadcast|'));

describe('a cancel while copies are still on a backlogged queue', () => {
  it('sends none of them after the cancel, and reports them as not sent (cancelled)', async () => {
    const { f, send: started } = await sendingWelcome(10, 0);
    expect(f.outbox.broadcastSends().length).toBeGreaterThan(0);
    const handed = f.outbox.broadcastSends().length;
    const reply = await f.b.service.cancel(LEAD, started.id);
    expect(reply.text).toContain(`${10 - handed} not sent; ${handed} already handed over are being taken back`);
    await finished(f, started.id);

    expect(broadcastDelivered(f)).toEqual([]);
    const send = await f.b.sends.get(started.id);
    expect(send).toMatchObject({ status: 'cancelled', counts: { sent: 0, failed: 0, cancelled: 10, pending: 0 } });
    const report = JSON.stringify(f.outbox.requesterCards().at(-1));
    expect(report).toContain('Delivery report (cancelled)');
    expect(report).toContain('"Not sent (cancelled)","value":"10"');
  });

  it('replies before the withdrawal is done (a turn must answer within seconds); the counts come right as it ends', async () => {
    const outbox = new SlowWithdrawOutbox();
    const { f, send: started } = await sendingWelcome(10, 0, { outbox });
    const handed = f.outbox.broadcastSends().length;
    expect(handed).toBeGreaterThan(0);
    const reply = await Promise.race([
      f.b.service.cancel(LEAD, started.id),
      new Promise<'still waiting'>((r) => setTimeout(() => r('still waiting'), 2_000)),
    ]);
    outbox.open();
    expect(reply).not.toBe('still waiting');
    expect(reply !== 'still waiting' && reply.text).toContain(`${10 - handed} not sent; ${handed} already handed over are being taken back`);
    await finished(f, started.id);

    expect(broadcastDelivered(f)).toEqual([]);
    expect((await f.b.sends.get(started.id))?.counts).toMatchObject({ sent: 0, failed: 0, cancelled: 10, pending: 0 });
  });

  it('does not take back the copy of someone forgotten since the cancel listed them: nothing is filed under their key after the forget', async () => {
    const outbox = new KeptWithdrawOutbox();
    const { f, send: started } = await sendingWelcome(10, 0, { outbox });
    const [theirs, other] = f.outbox.broadcastSends();
    const key = parseOutboundKey(theirs!.key)!.recipient;
    // Their forget deletes their row right after the cancel listed the rows handed over.
    const rows = f.b.deliveries.rows.bind(f.b.deliveries);
    f.b.deliveries.rows = async function* (...args) {
      yield* rows(...args);
      f.b.deliveries.rows = rows;
      await f.b.deliveries.remove(started.id, key);
    };
    await f.b.service.cancel(LEAD, started.id);
    await f.b.runner.idle();

    expect(outbox.withdrawnKeys).toEqual([other!.key]);
    expect(await f.b.deliveries.get(started.id, key)).toBeUndefined();
  });

  it('when the withdrawal fails at the cancel, the next scheduled pass withdraws them: still nobody gets it', async () => {
    const outbox = new NoWithdrawOutbox();
    const { f, send: started } = await sendingWelcome(10, 0, { outbox });
    outbox.failWithdraw = 1;
    await f.b.service.cancel(LEAD, started.id);
    await f.b.service.tick();
    await finished(f, started.id);

    expect(broadcastDelivered(f)).toEqual([]);
    expect((await f.b.sends.get(started.id))?.counts).toMatchObject({ sent: 0, failed: 0, cancelled: 10 });
  });

  it('copies already taken by a worker keep their answer: one that comes back after the stale time counts as sent', async () => {
    const { f, send: started } = await sendingWelcome(10, 0, { staleMs: 60_000 });
    const onTheirWay = f.outbox.take(2);
    expect(onTheirWay).toHaveLength(2);
    await f.b.service.cancel(LEAD, started.id);
    // Teams is slow: the scheduled pass comes first, well after the stale time.
    f.clock.advance(5 * 60_000);
    await f.b.service.tick();
    await settle(f);
    await f.outbox.answerTaken();
    await finished(f, started.id);

    expect(broadcastDelivered(f).sort()).toEqual([...onTheirWay].sort());
    expect((await f.b.sends.get(started.id))?.counts).toMatchObject({ sent: 2, failed: 0, cancelled: 8, pending: 0 });
    const report = JSON.stringify(f.outbox.requesterCards().at(-1));
    expect(report).toContain('"Sent","value":"2"');
    expect(report).not.toContain('"Failed"');
  });

  it('answers that come back later than a moment after the cancel still end it with the report, without a scheduled pass', async () => {
    const { f, send: started } = await sendingWelcome(10, 0);
    f.outbox.take(2);
    await f.b.service.cancel(LEAD, started.id);
    // Teams answers what was on its way a second later (no scheduler pass runs here).
    await new Promise((r) => setTimeout(r, 1_000));
    await f.outbox.answerTaken();
    await finished(f, started.id);
    expect(JSON.stringify(f.outbox.requesterCards().at(-1))).toContain('Delivery report (cancelled)');
  });
});

describe('a cancelled send whose hand-over never reached the queue', () => {
  for (const [label, staleMs, wait] of [
    ['a pass after the cancel', 60_000, 2 * 60_000],
    ['the first pass 60 days later (a send stuck finishing from before)', 15 * 60_000, 60 * 86_400_000],
  ] as const) {
    it(`sends nobody the cancelled message at ${label}, and ends with its report`, async () => {
      const outbox = new FlakyOutbox();
      outbox.failNext = 1;
      const { f, send: started } = await sendingWelcome(6, 0, { outbox, staleMs });
      await f.b.service.cancel(LEAD, started.id);
      await settle(f);
      const deliveredAtCancel = f.outbox.delivered.length;

      f.clock.advance(wait);
      await f.b.service.tick();
      await finished(f, started.id);

      expect(f.outbox.delivered.slice(deliveredAtCancel).filter((k) => k.startsWith('broadcast|'))).toEqual([]);
      const send = await f.b.sends.get(started.id);
      expect(send?.counts?.pending).toBe(0);
      expect(send?.counts?.sent).toBe(0);
      expect(JSON.stringify(f.outbox.requesterCards().at(-1))).toContain('Delivery report (cancelled)');
    });
  }
});
