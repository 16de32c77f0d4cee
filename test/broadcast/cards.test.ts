import { describe, expect, it } from 'vitest';
import { announceForm, celebrateForm, confirmCard, messageCard, progressCard } from '../../src/broadcast/cards.js';
import { progressOf } from '../../src/broadcast/progress.js';
import type { Send } from '../../src/broadcast/model.js';
import { validationErrors } from '../support/cards.js';
import { CHAMPION, fixture, LEAD, rolloutTeam } from './support.js';

const content = {
  title: 'Go-live **Monday** <at>Everyone</at>',
  body: 'From **Monday**:\n\n1. Sync first.\n2. Then record.\n\n<at>Boss</at> says hi. [Checklist](https://x.example/c)',
  links: [{ title: 'Checklist', url: 'https://x.example/c' }],
};

describe('the message card recipients read', () => {
  it('shows the body\'s markdown (lists, bold, links) but never a mention or the title as formatting', () => {
    const card = messageCard(content, { sendId: 's1', refreshUserId: '29:adele', footer: 'From the FieldLedger rollout team' });
    const text = JSON.stringify(card);
    expect(validationErrors(card)).toEqual([]);
    expect(text).toContain('1. Sync first.\\n2. Then record.');
    expect(text).toContain('**Monday**:');
    expect(text).toContain('[Checklist](https://x.example/c)');
    expect(text).not.toContain('<at>');
    expect(card.body?.[0]).toMatchObject({ text: expect.not.stringContaining('**') });
    expect(card.refresh).toEqual({
      action: { type: 'Action.Execute', title: 'Refresh', verb: 'broadcast.refresh', data: { action: 'broadcast.refresh', sendId: 's1' } },
      userIds: ['29:adele'],
    });
    expect(text).toContain('"verb":"broadcast.ack"');
  });

  it('has no refresh in a channel, and once acknowledged says so instead of offering "Got it"', () => {
    const card = messageCard(content, { sendId: 's1', acknowledgedAt: '2027-01-11T09:30:00Z' });
    expect(card).not.toHaveProperty('refresh');
    const text = JSON.stringify(card);
    expect(text).toContain('✓ You acknowledged this on 11 Jan 2027 09:30 UTC');
    expect(text).not.toContain('broadcast.ack');
  });
});

describe('the sender\'s cards', () => {
  it('the confirmation states how many recipients, and how many lack the app', () => {
    const text = JSON.stringify(
      confirmCard({ id: 'welcome', title: 'Welcome', audienceLabel: 'Wave B', toChannel: false, recipients: 42, notInstalled: 3, notes: [], version: 'v1' }),
    );
    expect(text).toContain('42 people, 1:1');
    expect(text).toContain('Send to 42 people');
    expect(text).toContain('3 (reported as \\"not installed\\")');
    const nobody = JSON.stringify(confirmCard({ id: 'w', title: 'W', audienceLabel: 'x', toChannel: false, recipients: 0, notInstalled: 0, notes: ['cohort "z" is no longer in the rollout file'], version: 'v1' }));
    expect(nobody).toContain('Nobody to send this to');
    expect(nobody).not.toContain('broadcast.send');
  });

  it('the progress card: sent of total, rate and time left from the answers so far', () => {
    const send = { id: 's', content: { title: 'T', body: 'b', links: [] }, audienceLabel: 'everyone', status: 'sending', startedAt: '2027-01-11T09:00:00Z' } as unknown as Send;
    const byState = { pending: 600, sent: 390, failed: 10, blocked: 0, notInstalled: 0, cancelled: 0 };
    const p = progressOf(send, { byState, held: 0, queued: 100, waiting: 500, unconfirmed: 0, total: 1000 }, new Date('2027-01-11T09:00:10Z'));
    expect(p.rate).toBe(40);
    const text = JSON.stringify(progressCard(p));
    expect(text).toContain('390 of 1,000');
    expect(text).toContain('40.0 messages/s');
    expect(text).toContain('under a minute');
    expect(text).toContain('broadcast.cancelSend');
  });
});

describe('the forms stop typing where the server stops accepting', () => {
  type Input = { type: string; id: string; maxLength?: number };
  const inputs = (card: { body?: unknown[] }): Input[] => {
    const out: Input[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (o.type === 'Input.Text') out.push(o as unknown as Input);
        Object.values(o).forEach(walk);
      }
    };
    walk(card.body);
    return out;
  };
  const limitOf = (card: { body?: unknown[] }, id: string): number => {
    const max = inputs(card).find((i) => i.id === id)?.maxLength;
    if (typeof max !== 'number') throw new Error(`${id} has no maxLength`);
    return max;
  };

  it('announce: every text input has a maxLength, and the server takes exactly that many characters and refuses one more', async () => {
    const f = await fixture({ rollout: { cohorts: [], groups: [{ id: 'g1', name: 'Field officers' }], members: [], problems: [] } });
    const card = announceForm({ audience: 'channel:announcements' }, {}, { ...f.b.service.announceAudiences(), omitted: 1 }, f.b.service.timeZone);
    expect(inputs(card).filter((i) => i.maxLength === undefined).map((i) => i.id)).toEqual([]);
    const values = { title: 'Maintenance', body: 'Down on Saturday.', audience: 'rollout-team', audienceTyped: '', timing: 'now', date: '', time: '' };
    for (const field of ['title', 'body'] as const) {
      const max = limitOf(card, field);
      const at = await f.b.service.announce(LEAD, { ...values, [field]: 'x'.repeat(max) }, `k-${field}-at`, rolloutTeam.id);
      expect(at, `${field} at ${max}`).toMatchObject({ kind: 'started' });
      const over = await f.b.service.announce(LEAD, { ...values, [field]: 'x'.repeat(max + 1) }, `k-${field}-over`, rolloutTeam.id);
      expect(over, `${field} at ${max + 1}`).toMatchObject({ kind: 'invalid', errors: { [field]: expect.stringContaining(`at most ${max}`) } });
    }
  });

  it('celebrate: "what they achieved" and the picture have a maxLength the server accepts, and refuses one past', async () => {
    const f = await fixture();
    const card = celebrateForm({}, {}, []);
    expect(inputs(card).filter((i) => i.maxLength === undefined).map((i) => i.id)).toEqual([]);
    const base = { who: 'aad-adele', what: 'Great triage', image: '' };
    const what = limitOf(card, 'what');
    expect(await f.b.celebrations.celebrate(CHAMPION, { ...base, what: 'x'.repeat(what) }, 'k-what')).toMatchObject({ kind: 'posted' });
    expect(await f.b.celebrations.celebrate(CHAMPION, { ...base, what: 'x'.repeat(what + 1) }, 'k-what')).toMatchObject({ kind: 'invalid', errors: { what: expect.any(String) } });
    const image = limitOf(card, 'image');
    const url = (n: number) => `https://x.example/${'p'.repeat(n - 'https://x.example/'.length)}`;
    expect(await f.b.celebrations.celebrate(CHAMPION, { ...base, image: url(image) }, 'k-image')).toMatchObject({ kind: 'posted' });
    expect(await f.b.celebrations.celebrate(CHAMPION, { ...base, image: url(image + 1) }, 'k-image')).toMatchObject({ kind: 'invalid', errors: { image: expect.any(String) } });
  });
});
