import { describe, expect, it } from 'vitest';
import { finished, fixture, LEAD, sendingWelcome, welcomePlan } from './support.js';

/* What `plan` and `send <id>` say of sends under way (one cancelled part-way, a second send of one still going), and `plan <page>` past the end. */

describe('plan: a send cancelled mid-send', () => {
  it('does not say "0 of N had been sent" while those already on their way finish; once they have, it counts them', async () => {
    const { f, send: started } = await sendingWelcome(10, 2);
    await f.b.service.cancel(LEAD, started.id);

    const status = async () => {
      const page = await f.b.service.planPage(LEAD, { kind: 'start' });
      if (!('items' in page)) throw new Error(page.text);
      return page.items.find((i) => i.id === 'welcome')!.status;
    };
    const during = await status();
    expect(during).toContain('Cancelled by Lee Lead');
    expect(during).not.toContain('0 of 10 had been sent');

    await finished(f, started.id);
    const sent = f.outbox.delivered.filter((k) => k.startsWith('broadcast|')).length;
    expect(sent).toBeGreaterThan(0);
    expect(await status()).toContain(`Cancelled by Lee Lead: ${sent} of 10 had been sent`);
  });
});

describe('send <id> while a send of it is under way', () => {
  it('the second confirmation says it is being sent already, so confirming it sends it again', async () => {
    const { f, send: started } = await sendingWelcome(4, 0);

    const again = await f.b.service.prepareSend(LEAD, 'welcome');
    expect(again).toMatchObject({ kind: 'confirm', confirmation: { notes: [expect.stringContaining('It is being sent already (Sending to 4')] } });

    await finished(f, started.id);
    expect(await f.b.service.prepareSend(LEAD, 'welcome')).toMatchObject({ kind: 'confirm', confirmation: { notes: [] } });
  });
});

describe('plan <page> past the last page', () => {
  it('shows the whole last page and says how many pages there are, not the last message alone', async () => {
    const f = await fixture();
    // Eight messages: two pages (1–6, 7–8).
    f.plan.current = {
      ...welcomePlan(['aad-a']),
      messages: Array.from({ length: 8 }, (_, i) => ({ ...welcomePlan(['aad-a']).messages[0]!, id: `note-${i + 1}` })),
    };
    const page = await f.b.service.planPage(LEAD, { kind: 'number', index: 4 });
    expect(page).toMatchObject({ first: 6, total: 8, notice: 'The plan has 2 pages; here is the last.' });
    expect('items' in page && page.items.map((i) => i.id)).toEqual(['note-7', 'note-8']);
    expect(await f.b.service.planPage(LEAD, { kind: 'number', index: 1 })).toMatchObject({ first: 6, notice: '' });
  });
});
