import { describe, expect, it } from 'vitest';
import { pulseComposeCard } from '../../src/adoption/cards.js';
import { audienceOf } from '../../src/adoption/pulse-service.js';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';

/*
 * The pulse compose card on the largest rollout file allowed: 200 user groups and 200 cohorts, ids of 100
 * characters and names of 120. It must stay one card Teams accepts, and every group and cohort reachable.
 */

const name = (kind: string, i: number) => `${kind} ${i} ${'n'.repeat(120)}`.slice(0, 120);
const id = (kind: string, i: number) => `${kind}-${i}-${'x'.repeat(100)}`.slice(0, 100);
const AUDIENCES = {
  groups: Array.from({ length: 200 }, (_, i) => ({ id: id('g', i), name: name('Group', i) })),
  cohorts: Array.from({ length: 200 }, (_, i) => ({ id: id('c', i), name: name('Cohort', i) })),
};

describe('the pulse compose card on the largest rollout file', () => {
  it('is one card under 40 KB; a cohort it could not list is chosen by typing its id or name', () => {
    const card = pulseComposeCard({ draftId: '2027-01-11-0123456789abcdef', minAnswers: 5, audiences: AUDIENCES });
    expect(utf16Bytes(card)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    const text = JSON.stringify(card);
    expect(text).toContain(`group:${id('g', 0)}`);
    expect(text).not.toContain(`cohort:${id('c', 199)}`);
    expect(text).toMatch(/\d+ more user groups and cohorts/);
    expect(audienceOf('typed', '', ` ${id('c', 199).toUpperCase()} `, AUDIENCES)).toEqual({ kind: 'cohort', cohortId: id('c', 199) });
    expect(audienceOf('typed', '', name('Group', 150), AUDIENCES)).toEqual({ kind: 'group', groupId: id('g', 150) });
    expect(audienceOf('typed', '', 'no-such-cohort', AUDIENCES)).toEqual({ error: expect.stringContaining('no-such-cohort') });
    expect(audienceOf('typed', '', '', AUDIENCES)).toEqual({ error: expect.stringContaining('Type the id') });
  });
});
