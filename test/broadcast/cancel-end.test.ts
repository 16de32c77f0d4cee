import { describe, expect, it } from 'vitest';
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
 * How a send cancelled while messages were on their way ends: with its report once their answers are back (not
 * only at the next scheduled pass), and, when those answers were lost (the instance holding them stopped), by
 * settling them failed — never handing them over again, as they may never have reached the queue — instead of
 * "Cancelled: finishing what was already handed over" for ever.
 */

describe('a cancelled send whose handed-over messages never got an answer', () => {
  it('settles them failed at the scheduled pass, sends nothing more, and ends with the cancelled report', async () => {
    const { f, send: started } = await sendingWelcome(10, 1, { staleMs: 60_000 });
    const handed = f.outbox.broadcastSends().length;
    await f.b.service.cancel(LEAD, started.id);
    // The instance holding what was on its way stops: those messages, and their answers, are lost.
    f.outbox.lose();

    f.clock.advance(2 * 60_000);
    await f.b.service.tick();
    await finished(f, started.id);

    const send = await f.b.sends.get(started.id);
    expect(send).toMatchObject({ status: 'cancelled', counts: { failed: handed, cancelled: 10 - handed, pending: 0 } });
    expect(f.outbox.broadcastSends().length).toBe(handed);
    expect(JSON.stringify(f.outbox.requesterCards().at(-1))).toContain('Delivery report (cancelled)');
  });

  it('answers that come back later than a moment after the cancel still end it with the report, without a scheduled pass', async () => {
    const { f, send: started } = await sendingWelcome(10, 1);
    await f.b.service.cancel(LEAD, started.id);
    // Teams answers what was on its way a second later (no scheduler pass runs here).
    await new Promise((r) => setTimeout(r, 1_000));
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
