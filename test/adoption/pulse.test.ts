import { describe, expect, it } from 'vitest';
import { broadcastAudienceResolver } from '../../src/adoption/audience.js';
import { pulseAnsweredCard, pulseCard, pulseResultsCard } from '../../src/adoption/cards.js';
import { checkAnswers, checkPulseInput, PULSE_LIMITS, type PulseInput, readTextCursor, sentNotice, seriesOf } from '../../src/adoption/pulse.js';
import { type AdoptionCaller, audienceOf, PulseService } from '../../src/adoption/pulse-service.js';
import { PulseStore } from '../../src/adoption/pulse-store.js';
import { ManualClock } from '../../src/clock.js';
import type { Rollout } from '../../src/rollout/model.js';
import { CapturedOutbox } from '../support/outbox.js';
import { readable } from '../support/app.js';
import { testTables } from '../support/storage.js';

const lead: AdoptionCaller = { person: { id: 'aad-lead', name: 'Lee Lead' }, role: 'rolloutTeam' };
const staff = (n: number): AdoptionCaller => ({ person: { id: `aad-staff-${n}`, name: `Staff ${n}` }, role: 'staff' });
const STAFF = Array.from({ length: 8 }, (_, i) => staff(i));
/** The rollout's people model: two of the staff (one with an id in capitals, as Teams may give it) are supervisors. */
const SUPERVISORS: AdoptionCaller[] = [staff(2), { person: { id: 'AAD-STAFF-3', name: 'Staff 3' }, role: 'staff' }];
const ROLLOUT: Rollout = {
  cohorts: [{ id: 'wave-a', name: 'Wave A', goLive: '2027-02-01', zone: 'UTC' }],
  groups: [{ id: 'supervisors', name: 'Supervisors' }],
  members: [],
  problems: [],
};

/** Who has a 1:1 chat with the bot (user keys, lower case): the staff, and the rollout lead. */
const CHATS = new Set([...STAFF.map((s) => s.person.id), 'aad-lead']);

const INPUT: PulseInput = {
  title: 'How is FieldLedger going?',
  q1Kind: 'scale',
  q1Text: 'How confident are you submitting the monthly report?',
  q2Kind: 'choice',
  q2Text: 'Where do you go first when stuck?',
  q2Options: 'Rollout Desk\nA champion\nOffice hours',
  q3Kind: 'text',
  q3Text: 'What would help you most?',
};

async function pulses(minAnswers = 5) {
  const clock = new ManualClock('2027-01-11T09:00:00Z');
  const outbox = new CapturedOutbox();
  const store = await PulseStore.open(testTables());
  const service = new PulseService({
    store,
    outbox,
    resolveAudience: broadcastAudienceResolver({
      personalChatUsers: async () => STAFF.map((s) => s.person.id),
      teamMembers: async () => [],
      championIds: async () => ['aad-champ'],
      rolloutTeamIds: ['aad-lead'],
      rollout: () => ROLLOUT,
      members: async (kind, id) => (kind === 'group' && id === 'supervisors' ? SUPERVISORS.map((s) => s.person) : []),
      reachedUsers: async () => [],
      acknowledged: async () => new Set(),
    }, async (keys) => ({ reachable: new Set(keys.filter((k) => CHATS.has(k))), unchecked: 0 })),
    clock,
    minAnswers,
    openDays: 14,
    questionCard: (p, a, n) => pulseCard(p, minAnswers, a, n),
  });
  return { service, outbox, clock, store };
}

/**
 * A Refresh press as the rollout team sees it: the press asks for a count, the scheduled job counts (off the
 * turn) — a minute on, as counts asked for are made at most once a minute — and the next press shows it.
 */
async function refreshed(s: PulseService, pulseId: string, clock: ManualClock) {
  await s.results(lead, pulseId);
  clock.advance(60_000);
  await s.recountDue();
  return s.results(lead, pulseId);
}

async function sent(s: PulseService) {
  const res = await s.send(lead, INPUT, { kind: 'everyone' });
  if (res.kind !== 'sent') throw new Error(JSON.stringify(res.errors));
  return res.pulse;
}

describe('a pulse’s questions and answers (rules)', () => {
  it('takes 1–3 questions of the three kinds and says what is wrong with each field', () => {
    expect(checkPulseInput(INPUT)).toMatchObject({ ok: true, questions: [{ kind: 'scale' }, { kind: 'choice', options: ['Rollout Desk', 'A champion', 'Office hours'] }, { kind: 'text' }] });
    expect(checkPulseInput({ title: '', q1Kind: 'choice', q1Text: 'Which?', q1Options: 'Only one', q2Kind: 'poll', q2Text: 'x' })).toEqual({
      ok: false,
      errors: { title: 'Give the pulse a title.', q1Options: 'Give 2 to 6 options, one per line.', q2Kind: 'Choose a 1–5 scale, a choice or a free text.' },
    });
    expect(checkPulseInput({ title: 'Empty' })).toEqual({ ok: false, errors: { form: 'Ask at least one question.' } });
  });

  it('refuses two options that read the same: differing only in case, spacing or how an accent is encoded', () => {
    const twice = { title: 'Lunch', q1Kind: 'choice', q1Text: 'Where?' };
    expect(checkPulseInput({ ...twice, q1Options: 'Caf\u00e9\nCAFE\u0301' })).toEqual({ ok: false, errors: { q1Options: 'Each option must be different.' } });
    expect(checkPulseInput({ ...twice, q1Options: 'A champion\nA  champion' })).toEqual({ ok: false, errors: { q1Options: 'Each option must be different.' } });
  });

  it('puts pulses asking the same questions (however spaced or cased) in one series', () => {
    const a = checkPulseInput(INPUT);
    const b = checkPulseInput({ ...INPUT, q1Text: '  how confident are you  submitting the monthly report? ' });
    const c = checkPulseInput({ ...INPUT, q2Options: 'Rollout Desk\nA champion' });
    if (!a.ok || !b.ok || !c.ok) throw new Error('invalid');
    expect(seriesOf(a.questions)).toBe(seriesOf(b.questions));
    expect(seriesOf(a.questions)).not.toBe(seriesOf(c.questions));
  });

  it('refuses an answer outside the scale or the options (card data can be forged)', async () => {
    const { service } = await pulses();
    const pulse = await sent(service);
    expect(checkAnswers(pulse, { q1: '7' })).toEqual({ ok: false, message: '"How confident are you submitting the monthly report?": choose 1 to 5.' });
    expect(checkAnswers(pulse, { q2: '9' })).toMatchObject({ ok: false });
    expect(checkAnswers(pulse, {})).toEqual({ ok: false, message: 'Answer at least one question, then press Send.' });
    expect(checkAnswers(pulse, { q1: '4', q2: '1', q3: ' More training ' })).toEqual({ ok: true, answers: { q1: 4, q2: 1, q3: 'More training' } });
  });
});

describe('PulseService', () => {
  it('sends the pulse 1:1 to each person of the audience, once per person', async () => {
    const { service, outbox } = await pulses();
    const pulse = await sent(service);
    expect(outbox.users()).toEqual(STAFF.map((s) => s.person.id));
    expect(new Set(outbox.messages.map((m) => m.key)).size).toBe(STAFF.length);
    expect(pulse).toMatchObject({ sentTo: 8, audience: 'everyone who uses Rollout Desk', closesAt: '2027-01-25T09:00:00.000Z' });
    const card = outbox.messages[0]!.op === 'send' ? outbox.messages[0]!.content : undefined;
    expect(readable([{ type: 'message', attachments: [{ contentType: 'card', content: card as Record<string, unknown> }] }])).toContain('Where do you go first when stuck?');
  });

  it('goes to a user group of the rollout (the communication plan’s audience rules), and only its members may answer', async () => {
    const { service, outbox } = await pulses();
    const res = await service.send(lead, INPUT, audienceOf('group:supervisors', ''));
    if (res.kind !== 'sent') throw new Error(JSON.stringify(res.errors));
    expect(res.pulse).toMatchObject({ sentTo: 2, audience: 'Supervisors' });
    expect(outbox.users().sort()).toEqual(['aad-staff-2', 'aad-staff-3']);
    expect(await service.answer(staff(3), res.pulse.id, { q1: '4' })).toMatchObject({ kind: 'answered' });
    expect(await service.answer(staff(4), res.pulse.id, { q1: '4' })).toEqual({ kind: 'message', text: 'This pulse was not sent to you.' });
    // A group since removed from the rollout file is named, and nothing is sent.
    outbox.clear();
    expect(await service.send(lead, INPUT, audienceOf('group:drivers', ''))).toEqual({
      kind: 'invalid',
      errors: { audience: 'There is no user group "drivers" in the rollout file any more.' },
    });
    expect(audienceOf('group:', '')).toEqual({ error: 'Choose who the pulse goes to.' });
    expect(outbox.messages).toEqual([]);
  });

  it('is sent only to those with a chat with the bot, and says how many of the audience could not be reached', async () => {
    const { service, outbox } = await pulses();
    // One listed id has no chat with the bot (never opened the app), one is listed twice in another case.
    const res = await service.send(lead, INPUT, audienceOf('people', 'aad-staff-1, aad-nobody; AAD-STAFF-1'));
    if (res.kind !== 'sent') throw new Error(JSON.stringify(res.errors));
    expect(res.pulse).toMatchObject({ sentTo: 1, unreachable: 1 });
    expect(outbox.users()).toEqual(['aad-staff-1']);
    expect(sentNotice(res.pulse)).toBe('Sent to 1 person (2 listed people); 1 could not be reached (no chat with the bot).');
    const results = await service.results(lead, res.pulse.id);
    const card = readable([{ type: 'message', attachments: [{ contentType: 'card', content: pulseResultsCard(results!, 'https://x') }] }]);
    expect(card).toContain('Sent to 1 person (1 could not be reached)');
    // Only the one it reached may answer.
    expect(await service.answer({ person: { id: 'aad-nobody', name: 'Nobody' }, role: 'staff' }, res.pulse.id, { q1: '3' })).toEqual({ kind: 'message', text: 'This pulse was not sent to you.' });
    // The champion has no chat either: nobody to send to, and nothing is sent.
    outbox.clear();
    expect(await service.send(lead, INPUT, { kind: 'champions' })).toEqual({
      kind: 'invalid',
      errors: { audience: 'Nobody in that audience can be reached by the bot yet (they have no chat with the bot).' },
    });
    expect(outbox.messages).toEqual([]);
  });

  it('refuses to send without the rollout team role, or to nobody', async () => {
    const { service, outbox } = await pulses();
    expect(await service.send(staff(1), INPUT, { kind: 'everyone' })).toEqual({ kind: 'invalid', errors: { form: 'Sending a pulse is for the rollout team.' } });
    expect(await service.send(lead, INPUT, audienceOf('people', ' , '))).toEqual({
      kind: 'invalid',
      errors: { audience: 'List the people (their Entra object ids), separated by commas.' },
    });
    expect(outbox.messages).toEqual([]);
  });

  it('keeps one answer per person: a second replaces the first, and the card shows what was sent', async () => {
    const { service, clock } = await pulses(1);
    const pulse = await sent(service);
    const first = await service.answer(staff(1), pulse.id, { q1: '2', q2: '0' });
    expect(first).toMatchObject({ kind: 'answered', replaced: false });
    const second = await service.answer(staff(1), pulse.id, { q1: '5', q3: 'Printed guides' });
    expect(second).toMatchObject({ kind: 'answered', replaced: true });
    const results = await refreshed(service, pulse.id, clock);
    expect(results?.answers).toBe(1);
    expect(results?.questions[0]?.result).toEqual({ kind: 'scale', counts: [0, 0, 0, 0, 1], mean: 5 });
    if (second.kind !== 'answered') throw new Error('not answered');
    const shown = readable([{ type: 'message', attachments: [{ contentType: 'card', content: pulseAnsweredCard(second.pulse, second.answers, true) }] }]);
    expect(shown).toContain('5 of 5');
    expect(shown).toContain('Printed guides');
    expect(shown).toContain('(not answered)');
    // "Change my answer" shows the form filled with the person's own answer.
    expect(await service.answerForm(staff(1), pulse.id)).toMatchObject({ kind: 'form', answers: { q1: 5, q3: 'Printed guides' } });
  });

  it('takes answers only from the people it was sent to, and only while it is open', async () => {
    const { service, clock } = await pulses();
    const pulse = await sent(service);
    expect(await service.answer(staff(99), pulse.id, { q1: '3' })).toEqual({ kind: 'message', text: 'This pulse was not sent to you.' });
    expect(await service.answer(staff(1), 'p-2027-01-11-00000000', { q1: '3' })).toEqual({ kind: 'message', text: 'This pulse was not sent to you.' });
    clock.set('2027-01-25T09:00:00Z');
    expect(await service.answer(staff(1), pulse.id, { q1: '3' })).toEqual({ kind: 'closed', pulse, answers: undefined });
    expect(await service.answerForm(staff(1), pulse.id)).toEqual({ kind: 'closed', pulse, answers: undefined });
    expect((await refreshed(service, pulse.id, clock))?.answers).toBe(0);
  });

  it('shows no figures at all below the minimum number of answers, then totals only, free text sorted and without names', async () => {
    const { service, clock } = await pulses(5);
    const pulse = await sent(service);
    const texts = ['More office hours', 'A printed guide', 'Faster sync', 'Nothing'];
    for (let i = 0; i < 4; i++) await service.answer(STAFF[i]!, pulse.id, { q1: String(i + 1), q2: '1', q3: texts[i] });
    const four = await refreshed(service, pulse.id, clock);
    expect(four).toMatchObject({ answers: 4, shown: false });
    expect(four?.questions.every((q) => q.result === null)).toBe(true);
    const waiting = readable([{ type: 'message', attachments: [{ contentType: 'card', content: pulseResultsCard(four!, 'https://x') }] }]);
    expect(waiting).toContain('Results appear once 5 people have answered (4 so far)');
    expect(waiting).not.toContain('More office hours');

    await service.answer(STAFF[4]!, pulse.id, { q1: '5', q2: '2' });
    const five = await refreshed(service, pulse.id, clock);
    expect(five).toMatchObject({ answers: 5, shown: true });
    // The free-text question has 4 answers of the 5: below the minimum for that question, so none is shown.
    expect(five?.questions.map((q) => q.result)).toEqual([
      { kind: 'scale', counts: [1, 1, 1, 1, 1], mean: 3 },
      { kind: 'choice', options: [{ label: 'Rollout Desk', count: 0 }, { label: 'A champion', count: 4 }, { label: 'Office hours', count: 1 }] },
      null,
    ]);
    expect(five?.questions.map((q) => q.answered)).toEqual([5, 5, 4]);
    const fewer = readable([{ type: 'message', attachments: [{ contentType: 'card', content: pulseResultsCard(five!, 'https://x') }] }]);
    expect(fewer).toContain('Fewer than 5 people answered this question (4 so far): not shown, so that nobody can be picked out.');
    expect(fewer).not.toContain('More office hours');
    expect(await service.texts(lead, pulse.id, 'q3')).toBeUndefined();

    await service.answer(STAFF[5]!, pulse.id, { q1: '5', q3: 'Nothing' });
    const six = await refreshed(service, pulse.id, clock);
    expect(six?.questions[2]?.result).toEqual({ kind: 'text', answers: ['A printed guide', 'Faster sync', 'More office hours', 'Nothing', 'Nothing'], more: 0, next: null });
    expect(JSON.stringify(six)).not.toMatch(/Staff \d|aad-staff/);
    // Champions see results; staff do not.
    expect(await service.results(staff(1), pulse.id)).toBeUndefined();
  });

  it('past the minimum, changes what it shows only in steps of the minimum: one more answer (or a changed one) cannot be read off the counts', async () => {
    const { service, clock } = await pulses(3);
    const pulse = await sent(service);
    for (let i = 0; i < 3; i++) await service.answer(STAFF[i]!, pulse.id, { q1: '3', q2: '0', q3: `Idea ${i}` });
    const three = await refreshed(service, pulse.id, clock);
    expect(three?.questions[0]).toEqual({ id: 'q1', text: INPUT.q1Text, answered: 3, result: { kind: 'scale', counts: [0, 0, 3, 0, 0], mean: 3 } });

    // A fourth answer, and one of the three changed: the counts, the choices and the free text shown stay as they were.
    await service.answer(STAFF[3]!, pulse.id, { q1: '1', q2: '2', q3: 'The fourth idea' });
    await service.answer(STAFF[0]!, pulse.id, { q1: '5', q2: '0', q3: 'Idea 0' });
    const four = await refreshed(service, pulse.id, clock);
    expect(four?.answers).toBe(4);
    expect(four?.questions.map((q) => q.result)).toEqual(three?.questions.map((q) => q.result));
    expect(four?.questions.map((q) => [q.answered, q.shownFrom])).toEqual([[4, 3], [4, 3], [4, 3]]);
    expect(JSON.stringify(four)).not.toContain('The fourth idea');
    expect((await service.texts(lead, pulse.id, 'q3'))?.answers).toEqual(['Idea 0', 'Idea 1', 'Idea 2']);
    const card = readable([{ type: 'message', attachments: [{ contentType: 'card', content: pulseResultsCard(four!, 'https://x') }] }]);
    expect(card).toContain('Shown as counted at 3 answers: results change only in steps of 3 answers, so that no single answer can be read off a change.');

    // Three more answers to the scale since it last changed: it shows the answers as they stand now; the others wait.
    for (const i of [4, 5]) await service.answer(STAFF[i]!, pulse.id, { q1: '4' });
    const six = await refreshed(service, pulse.id, clock);
    expect(six?.questions[0]).toEqual({ id: 'q1', text: INPUT.q1Text, answered: 6, result: { kind: 'scale', counts: [1, 0, 2, 2, 1], mean: 3.33 } });
    expect(six?.questions[1]).toMatchObject({ answered: 4, shownFrom: 3, result: three?.questions[1]?.result });
  });

  it('gives the dashboard a page of free-text answers at a time, each cut to the answer limit, with how many more there are', async () => {
    const { service, store, clock } = await pulses(5);
    const pulse = await sent(service);
    // Answers as stored (older rows, or written before the limit): one huge, and more than a page of them.
    const huge = `${'Please '.repeat(4_000)}end`; // 28,000 characters: near what a table cell holds
    await store.saveAnswer(pulse.id, 'r-huge', { q3: huge }, clock.now());
    for (let i = 0; i < 129; i++) await store.saveAnswer(pulse.id, `r-${i}`, { q1: 3, q3: `Answer ${String(i).padStart(3, '0')}` }, clock.now());

    await refreshed(service, pulse.id, clock);
    const panel = await service.pulse({ from: '2027-01-01', to: '2027-01-31' });
    const text = panel.pulses[0]!.questions.find((q) => q.id === 'q3')!.result;
    expect(text).toMatchObject({ kind: 'text', more: 80 });
    if (text?.kind !== 'text') throw new Error('not a text result');
    expect(text.answers).toHaveLength(50);
    expect(JSON.stringify(panel).length).toBeLessThan(20_000);

    // The next pages, on asking (each from the page before's `next`): the same order, nothing repeated or left out.
    const second = await service.texts(lead, pulse.id, 'q3', readTextCursor(text.next!));
    const third = await service.texts(lead, pulse.id, 'q3', readTextCursor(second!.next!));
    expect(second).toMatchObject({ more: 30, next: expect.any(String) });
    expect(third).toMatchObject({ more: 0, next: null });
    const all = [...text.answers, ...second!.answers, ...third!.answers];
    expect(new Set(all).size).toBe(130);
    expect(Math.max(...all.map((a) => a.length))).toBeLessThanOrEqual(PULSE_LIMITS.text);
    expect(all.find((a) => a.startsWith('Please'))).toMatch(/^Please .*…$/);
    expect(all.filter((a) => a.startsWith('Answer'))).toEqual(Array.from({ length: 129 }, (_, i) => `Answer ${String(i).padStart(3, '0')}`));
    // Only for those who may see results, and only of a free-text question.
    expect(await service.texts(staff(1), pulse.id, 'q3')).toBeUndefined();
    expect(await service.texts(lead, pulse.id, 'q1')).toBeUndefined();
  });

  it('pages free-text answers from the last one shown: an answer that comes in or is changed between pages is neither repeated nor skipped', async () => {
    const { service, store, clock } = await pulses(5);
    const pulse = await sent(service);
    for (let i = 0; i < 70; i++) await store.saveAnswer(pulse.id, `r-${i}`, { q3: `Answer ${String(i).padStart(3, '0')}` }, clock.now());
    // Two of the people it was sent to have answered too; one gave the same words as the answer ending page one.
    await service.answer(STAFF[0]!, pulse.id, { q3: 'Answer 048' });
    await service.answer(STAFF[1]!, pulse.id, { q3: 'Answer 020 too' });
    await refreshed(service, pulse.id, clock);
    const panel = await service.pulse({ from: '2027-01-01', to: '2027-01-31' });
    const first = panel.pulses[0]!.questions.find((q) => q.id === 'q3')!.result;
    if (first?.kind !== 'text') throw new Error('not a text result');
    expect(first.answers).toHaveLength(50);
    // Before "Show more answers" is pressed: new answers sorting among those shown — five, so the results move on
    // (they change in steps of the minimum) — and a shown one changed.
    await service.answer(STAFF[2]!, pulse.id, { q3: 'Actually fine' });
    await service.answer(STAFF[3]!, pulse.id, { q3: 'All good' });
    for (const i of [4, 5, 6]) await service.answer(STAFF[i]!, pulse.id, { q3: `About it ${i}` });
    await service.answer(STAFF[1]!, pulse.id, { q3: 'Zero issues now' });
    // ... and counted (a press, then the scheduled job) before it is.
    await refreshed(service, pulse.id, clock);
    expect(first.answers.at(-1)).toBe('Answer 048');
    const second = await service.texts(lead, pulse.id, 'q3', readTextCursor(first.next!));
    const seen = [...first.answers, ...second!.answers];
    const stored = [...Array.from({ length: 70 }, (_, i) => `Answer ${String(i).padStart(3, '0')}`), 'Answer 048'];
    // Every answer that was there all along is seen exactly as often as it was given; the change shows after.
    for (const a of new Set(stored)) expect(seen.filter((x) => x === a), a).toHaveLength(stored.filter((x) => x === a).length);
    expect(second!.answers.at(-1)).toBe('Zero issues now');
    expect(second!.more).toBe(0);
  });

  it('gives the trend of the same questions asked again, from the pulses that reached the minimum', async () => {
    const { service, clock } = await pulses(2);
    const first = await sent(service);
    for (const [i, v] of ['2', '3'].entries()) await service.answer(STAFF[i]!, first.id, { q1: v });
    clock.set('2027-02-08T09:00:00Z');
    const again = await sent(service);
    for (const [i, v] of ['4', '5', '4'].entries()) await service.answer(STAFF[i]!, again.id, { q1: v });
    await refreshed(service, first.id, clock);
    await refreshed(service, again.id, clock);
    const panel = await service.pulse({ from: '2027-01-01', to: '2027-02-28' });
    expect(panel.pulses.map((p) => p.id)).toEqual([again.id, first.id]);
    const scale = panel.trends.find((t) => t.kind === 'scale');
    expect(scale?.points.map((p) => [p.sentAt.slice(0, 10), p.mean, p.answers])).toEqual([
      ['2027-01-11', 2.5, 2],
      ['2027-02-08', 4.33, 3],
    ]);
  });
});
