import { describe, expect, it } from 'vitest';
import { broadcastAudienceResolver } from '../../src/adoption/audience.js';
import { pulseCard } from '../../src/adoption/cards.js';
import type { PulseInput } from '../../src/adoption/pulse.js';
import { type AdoptionCaller, PulseService } from '../../src/adoption/pulse-service.js';
import { PulseStore } from '../../src/adoption/pulse-store.js';
import { ManualClock } from '../../src/clock.js';
import { EMPTY_ROLLOUT } from '../../src/rollout/model.js';
import { mapLimit } from '../../src/map-limit.js';
import { CapturedOutbox } from '../support/outbox.js';
import { testTables } from '../support/storage.js';
import { reads } from '../support/table-reads.js';

/*
 * A pulse to thousands of staff: "Refresh results" must not read every answer. Rows and calls are counted, not
 * timed; the figures must stay exact with answers at the same moment, answers sent twice, and answers changed.
 */

const lead: AdoptionCaller = { person: { id: 'aad-lead', name: 'Lee Lead' }, role: 'rolloutTeam' };
const person = (i: number): AdoptionCaller => ({ person: { id: `aad-p-${String(i).padStart(4, '0')}`, name: `P ${i}` }, role: 'staff' });
const PEOPLE = Array.from({ length: 400 }, (_, i) => person(i).person.id);
const INPUT: PulseInput = {
  title: 'How is it going?',
  q1Kind: 'scale',
  q1Text: 'How confident are you?',
  q2Kind: 'choice',
  q2Text: 'Where do you go first?',
  q2Options: 'Rollout Desk\nA champion\nOffice hours',
  q3Kind: 'text',
  q3Text: 'What would help?',
};

async function setUp() {
  const store = await PulseStore.open(testTables());
  const service = new PulseService({
    store,
    outbox: new CapturedOutbox(),
    resolveAudience: broadcastAudienceResolver({
      personalChatUsers: async () => PEOPLE,
      teamMembers: async () => [],
      championIds: async () => [],
      rolloutTeamIds: ['aad-lead'],
      rollout: () => EMPTY_ROLLOUT,
      members: async () => [],
      reachedUsers: async () => [],
      acknowledged: async () => new Set(),
    }),
    clock: new ManualClock('2027-01-11T09:00:00Z'),
    minAnswers: 5,
    openDays: 14,
    questionCard: (p, a, n) => pulseCard(p, 5, a, n),
  });
  const res = await service.send(lead, INPUT, { kind: 'everyone' });
  if (res.kind !== 'sent') throw new Error(JSON.stringify(res.errors));
  return { service, pulse: res.pulse };
}

const answerOf = (i: number) => ({ q1: String((i % 5) + 1), q2: String(i % 3), ...(i % 2 ? { q3: `Idea ${i}` } : {}) });

describe('pulse results as answers grow', () => {
  it('a refresh reads as much with 360 answers as with 120, and its figures are exact', { timeout: 180_000 }, async () => {
    const { service, pulse } = await setUp();
    await mapLimit([...Array(120).keys()], 8, (i) => service.answer(person(i), pulse.id, answerOf(i)));
    const few = await reads(() => service.results(lead, pulse.id));
    expect(few.value).toMatchObject({ answers: 120, shown: true });
    await mapLimit([...Array(240).keys()], 8, (i) => service.answer(person(120 + i), pulse.id, answerOf(120 + i)));
    const many = await reads(() => service.results(lead, pulse.id));
    expect(many.value?.answers).toBe(360);
    expect(many.value?.questions[0]?.result).toEqual({ kind: 'scale', counts: [72, 72, 72, 72, 72], mean: 3 });
    expect(many.value?.questions[1]?.result).toEqual({ kind: 'choice', options: [{ label: 'Rollout Desk', count: 120 }, { label: 'A champion', count: 120 }, { label: 'Office hours', count: 120 }] });
    expect(many.value?.questions[2]?.answered).toBe(180);
    expect(many.rows).toBeLessThanOrEqual(few.rows);
    expect(many.calls).toBeLessThanOrEqual(few.calls);
  });

  it('counts each person once: answers at the same moment, the same answer sent twice, an answer changed', { timeout: 120_000 }, async () => {
    const { service, pulse } = await setUp();
    // 40 people at once, each of the first ten sending twice at the same time (a double click, Teams' retry).
    await Promise.all([...Array(40).keys(), ...Array(10).keys()].map((i) => service.answer(person(i), pulse.id, { q1: '2', q2: '0' })));
    // Ten change their answer, two of them twice at once to different values.
    await Promise.all([...Array(10).keys()].map((i) => service.answer(person(i), pulse.id, { q1: '5', q2: '2', q3: 'Changed' })));
    await Promise.all([service.answer(person(0), pulse.id, { q1: '4' }), service.answer(person(0), pulse.id, { q1: '4' })]);
    const r = await service.results(lead, pulse.id);
    expect(r?.answers).toBe(40);
    expect(r?.questions[0]?.result).toEqual({ kind: 'scale', counts: [0, 30, 0, 1, 9], mean: expect.closeTo((30 * 2 + 4 + 9 * 5) / 40, 2) });
    expect(r?.questions[1]?.result).toEqual({ kind: 'choice', options: [{ label: 'Rollout Desk', count: 30 }, { label: 'A champion', count: 0 }, { label: 'Office hours', count: 9 }] });
    expect(r?.questions.map((q) => q.answered)).toEqual([40, 39, 9]);
  });
});
