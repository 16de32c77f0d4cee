import { describe, expect, it } from 'vitest';
import { finished, LEAD, sendingWelcome } from './support.js';

/*
 * How a send cancelled while messages were on their way ends: with its report once their answers are back (not
 * only at the next scheduled pass), and, when those answers were lost (the instance holding them stopped), by
 * handing them over again under their key — sent at most once — instead of "Cancelled: finishing what was already
 * handed over" for ever.
 */

describe('a cancelled send whose handed-over messages never got an answer', () => {
  it('hands them over again (same key) at the scheduled pass, and ends with the cancelled report', async () => {
    const { f, send: started } = await sendingWelcome(10, 1, { staleMs: 60_000 });
    const handed = f.outbox.broadcastSends().length;
    await f.b.service.cancel(LEAD, started.id);
    // The instance holding what was on its way stops: those messages, and their answers, are lost.
    f.outbox.lose();

    f.clock.advance(2 * 60_000);
    await f.b.service.tick();
    await finished(f, started.id);

    const send = await f.b.sends.get(started.id);
    expect(send).toMatchObject({ status: 'cancelled', counts: { sent: handed, cancelled: 10 - handed, pending: 0 } });
    // Each recipient got it at most once: the keys handed over again are the ones handed over before.
    expect(new Set(f.outbox.delivered).size).toBe(f.outbox.delivered.length);
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
