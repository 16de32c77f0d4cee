import { describe, expect, it } from 'vitest';
import { announceForm } from '../../src/broadcast/cards.js';
import { CARD_BUDGET_BYTES, TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import type { Rollout } from '../../src/rollout/model.js';
import { fixture, LEAD, rolloutTeam } from './support.js';

/*
 * `announce` on the largest rollout file allowed: 200 user groups and 200 cohorts, ids of 100 characters and
 * names of 120. The form lists who may hear it; it must stay one card Teams accepts, and every group and
 * cohort must stay reachable.
 */

const name = (kind: string, i: number) => `${kind} ${i} ${'n'.repeat(120)}`.slice(0, 120);
const id = (kind: string, i: number) => `${kind}-${i}-${'x'.repeat(100)}`.slice(0, 100);
const ROLLOUT: Rollout = {
  cohorts: Array.from({ length: 200 }, (_, i) => ({ id: id('c', i), name: name('Cohort', i), goLive: '2027-03-01', zone: 'UTC' })),
  groups: Array.from({ length: 200 }, (_, i) => ({ id: id('g', i), name: name('Group', i) })),
  members: [],
  problems: [],
};

describe('the announce form on the largest rollout file', () => {
  it('is one card under 40 KB, and a user group it could not list is chosen by typing its id', async () => {
    // Someone is in that group: an announcement now to a group of nobody is refused (announce-nobody.test.ts).
    const f = await fixture({ rollout: ROLLOUT, members: { [`group:${id('g', 199)}`]: ['aad-someone'] } });
    const { choices } = f.b.service.announceAudiences();
    const card = announceForm({ audience: 'channel:announcements' }, {}, f.b.service.announceAudiences(), f.b.service.timeZone);
    expect(utf16Bytes(card)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    const text = JSON.stringify(card);
    expect(text).toContain('Everyone who has the app');
    expect(choices.some((c) => c.value === `group:${id('g', 199)}`)).toBe(false);
    expect(text).toMatch(/\d+ more user groups and cohorts/);

    const values = { title: 'Hello', body: 'A note.', audience: 'typed', audienceTyped: ` ${id('g', 199).toUpperCase()} `, timing: 'now', date: '', time: '' };
    const res = await f.b.service.announce(LEAD, values, 'card-1', rolloutTeam.id);
    expect(res).toMatchObject({ kind: 'started', send: { audience: { kind: 'group', groupId: id('g', 199) } } });
    // Nothing typed, or a name that is none of them: said on the form, nothing sent.
    expect(await f.b.service.announce(LEAD, { ...values, audienceTyped: '' }, 'card-2', rolloutTeam.id)).toMatchObject({ kind: 'invalid', errors: { audience: expect.stringContaining('Type the id') } });
    expect(await f.b.service.announce(LEAD, { ...values, audienceTyped: 'no-such-group' }, 'card-3', rolloutTeam.id)).toMatchObject({ kind: 'invalid', errors: { audience: expect.stringContaining('no-such-group') } });
  });
});

/** An input of the card by id (the form's elements are at the top level or in a column). */
function input(card: unknown, id: string): { value?: string } | undefined {
  let found: { value?: string } | undefined;
  JSON.stringify(card, (_k, v: unknown) => {
    if (v && typeof v === 'object' && (v as { id?: unknown }).id === id) found = v as { value?: string };
    return v;
  });
  return found;
}

describe('the announce form shown again with an error', () => {
  const values = { title: 'Go-live moved', audience: 'everyone', audienceTyped: '', timing: 'now', date: '', time: '' };

  it('fits one card when the body typed is near the 40,000 characters a card sends, showing what fits and saying what did not', async () => {
    const f = await fixture({ rollout: ROLLOUT });
    const body = Array.from({ length: 6000 }, (_, i) => `word${i}`).join(' ').slice(0, 39_990);
    const res = await f.b.service.announce(LEAD, { ...values, body }, 'card-long', rolloutTeam.id);
    if (res.kind !== 'invalid') throw new Error(res.kind);
    const card = announceForm(res.values, res.errors, f.b.service.announceAudiences(), f.b.service.timeZone);
    expect(utf16Bytes(card)).toBeLessThanOrEqual(CARD_BUDGET_BYTES);
    // The box holds the start of what was typed — more than the limit, so there is enough to shorten from —
    // and the card says how much was not kept, and from where.
    const shown = input(card, 'body')?.value ?? '';
    expect(body.startsWith(shown)).toBe(true);
    expect(shown.length).toBeGreaterThan(4000);
    const text = JSON.stringify(card);
    expect(text).toContain('39,990 characters');
    expect(text).toMatch(/too long to show again in full/);
    expect(text).toContain(`${(body.length - shown.length).toLocaleString('en-GB')} characters`);
    expect(input(card, 'title')?.value).toBe('Go-live moved');
    expect(input(card, 'audience')?.value).toBe('everyone');
  });

  it('keeps a body within the limit whole, and the audience chosen, when the rollout’s groups leave no room for it', async () => {
    const f = await fixture({ rollout: ROLLOUT });
    // 4,000 characters that JSON writes as two each (quotes, backslashes, line breaks), on a form with no title.
    const body = `x${'"\\\n'.repeat(1333)}`;
    const chosen = ROLLOUT.groups[3]!;
    const res = await f.b.service.announce(LEAD, { ...values, title: '', body, audience: `group:${chosen.id}` }, 'card-dense', rolloutTeam.id);
    expect(res).toMatchObject({ kind: 'invalid', errors: { title: expect.any(String) } });
    if (res.kind !== 'invalid') return;
    const card = announceForm(res.values, res.errors, f.b.service.announceAudiences(), f.b.service.timeZone);
    expect(utf16Bytes(card)).toBeLessThanOrEqual(CARD_BUDGET_BYTES);
    expect(input(card, 'body')?.value).toBe(body);
    expect(input(card, 'audience')?.value).toBe(`group:${chosen.id}`);
    const text = JSON.stringify(card);
    expect(text).toContain(`group:${chosen.id}`);
    expect(text).not.toMatch(/too long to show again/);
    // Those no longer listed are still reachable by typing, as the card says.
    expect(text).toMatch(/\d+ more user groups and cohorts/);
  });
});
