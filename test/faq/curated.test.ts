import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { answerCard, curatedFormCard, curatedListCard } from '../../src/faq/cards.js';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import { CuratedAnswers } from '../../src/faq/curated-answers.js';
import { type CuratedAnswer, CuratedStore, exportMarkdown } from '../../src/faq/curated.js';
import { parseGuidanceDoc } from '../../src/faq/docs/parse.js';
import type { GuidanceLibrary } from '../../src/faq/docs/library.js';
import { type FaqIndex, openFaqLibrary } from '../../src/faq/engine/index.js';
import { groupGaps } from '../../src/faq/gaps.js';
import { FaqPersonalData } from '../../src/faq/privacy.js';
import { QuestionPrivacy, QuestionStore } from '../../src/faq/questions.js';
import { FaqService } from '../../src/faq/service.js';
import { reads } from '../support/table-reads.js';
import { testTables } from '../support/storage.js';
import { SAMPLE_GLOSSARY, SAMPLE_GUIDANCE } from './engine/corpus.js';

// Counted, not replaced: the test of a month of open questions checks how often they are grouped.
vi.mock('../../src/faq/gaps.js', async (load) => {
  const real = await load<typeof import('../../src/faq/gaps.js')>();
  return { ...real, groupGaps: vi.fn(real.groupGaps) };
});

const grace = { actor: { id: '29:grace', aadObjectId: 'aad-grace', name: 'Grace Mwansa' }, role: 'champion' as const };
const alex = { actor: { id: '29:alex', aadObjectId: 'aad-alex', name: 'Alex' }, role: 'rolloutTeam' as const };
const amina = { id: '29:amina', aadObjectId: 'aad-amina', name: 'Amina' };
const tomas = { id: '29:tomas', aadObjectId: 'aad-tomas', name: 'Tomas' };
const libraries: GuidanceLibrary<FaqIndex>[] = [];
afterEach(() => {
  for (const library of libraries.splice(0)) library.close();
});

/** The sample guidance, questions and curated answers on one Azurite prefix; `again` is a second instance. */
async function setup(showAuthor = false, tables = testTables(), tellScanRows?: number) {
  const clock = new ManualClock('2027-01-12T09:00:00Z');
  const instance = async () => {
    const questions = await QuestionStore.open(tables, clock);
    const store = await CuratedStore.open(tables, clock);
    // The index is first built before the curated answers exist: read them through a holder.
    const ref: { curated?: CuratedAnswers } = {};
    const library = await openFaqLibrary(SAMPLE_GUIDANCE, {
      glossaryFile: SAMPLE_GLOSSARY,
      pollMs: 0,
      extraSections: () => ref.curated?.engineSections() ?? [],
    });
    libraries.push(library);
    const curated = new CuratedAnswers(
      store,
      questions,
      () => library.current.sections,
      () => library.rebuild('curated answers'),
      tellScanRows ? { tellScanRows } : {},
    );
    ref.curated = curated;
    await curated.refresh();
    const faq = new FaqService(library, questions, { curated: { activeAnswer: (id) => curated.activeAnswer(id), showAuthor } });
    return { questions, store, curated, faq, library };
  };
  return { clock, tables, ...(await instance()), again: instance };
}

const DATA_QUESTION = 'is there a dark mode in the app';

describe('curated answers', () => {
  it('a champion answers a gap: the asker and everyone who asked the same in 30 days are told once, across instances', async () => {
    const { faq, curated, clock, again, questions } = await setup();
    const first = await faq.ask(DATA_QUESTION, amina);
    expect(first.kind).toBe('not-covered');
    clock.advance(3 * 86_400_000);
    await faq.ask('is there dark mode in the app for night visits', tomas);
    await faq.ask('is there dark mode in the app for night visits', tomas); // asked twice, told once
    const group = groupGaps(await questions.recent(30))[0]!;
    expect(group.count).toBe(3);

    const outcome = await curated.answerFromChampion(grace, {
      question: group.example,
      variants: group.questions,
      answer: 'Yes: **Settings → Display → Dark**. It also saves battery.',
      groupId: group.id,
    });
    expect(outcome.result.ok).toBe(true);
    expect(outcome.tell.map((r) => r.asker.name)).toEqual(['Amina', 'Tomas']);
    if (!outcome.result.ok) return;
    // Nobody is told twice, whichever instance asks next.
    expect((await curated.firstAskers(outcome.result.answer)).tell).toEqual([]);
    const second = await again();
    expect((await second.curated.firstAskers(outcome.result.answer)).tell).toEqual([]);
  });

  it('two champions answering the same gap at once: one answer is kept, the other champion is told, and each asker is told once', async () => {
    const { faq, curated, questions, store } = await setup();
    await faq.ask(DATA_QUESTION, amina);
    await faq.ask('is there a dark mode in the app for night visits', tomas);
    const group = groupGaps(await questions.recent(30))[0]!;
    const input = { question: group.example, variants: group.questions, groupId: group.id };
    const both = await Promise.all([
      curated.answerFromChampion(grace, { ...input, answer: 'Yes: Settings, Display, Dark.' }),
      curated.answerFromChampion(alex, { ...input, answer: 'No, not yet.' }),
    ]);
    expect(both.filter((o) => o.result.ok)).toHaveLength(1);
    const refused = both.find((o) => !o.result.ok)!;
    expect(refused.result).toMatchObject({ ok: false, reason: 'conflict', message: expect.stringContaining('already answered this question') });
    expect(refused.tell).toEqual([]);
    expect(both.flatMap((o) => o.tell.map((r) => r.asker.name)).sort()).toEqual(['Amina', 'Tomas']);
    expect(await store.active()).toHaveLength(1);
    // A second click later (a replayed card, or another champion) is refused the same way.
    const later = await curated.answerFromChampion(grace, { ...input, answer: 'Yes, again.' });
    expect(later.result).toMatchObject({ ok: false, reason: 'conflict' });
    expect(await store.active()).toHaveLength(1);
  });

  it('a gap whose answer is being written is not answered again; one whose answer was lost to a crash is, a minute on', async () => {
    const { faq, curated, questions, store, clock } = await setup();
    await faq.ask(DATA_QUESTION, amina);
    const group = groupGaps(await questions.recent(30))[0]!;
    // Another instance claimed the gap and is writing its answer (or crashed before it could).
    await store.claimGroup(group.id, store.newId());
    const input = { question: group.example, variants: group.questions, groupId: group.id, answer: 'Settings, Display, Dark.' };
    expect((await curated.answerFromChampion(grace, input)).result).toMatchObject({ ok: false, reason: 'conflict' });
    expect(await store.active()).toEqual([]);
    clock.advance(61_000);
    const outcome = await curated.answerFromChampion(grace, input);
    expect(outcome.result.ok).toBe(true);
    expect(outcome.tell.map((r) => r.asker.name)).toEqual(['Amina']);
  });

  it('the same question in other words then gets the curated answer, cited "Answered by a champion, 12 Jan 2027"', async () => {
    const { faq, curated } = await setup();
    await faq.ask(DATA_QUESTION, amina);
    await curated.answerFromChampion(grace, {
      question: DATA_QUESTION,
      answer: 'Yes: Settings, Display, Dark.',
    });
    const answer = await faq.ask('can i switch the app to dark mode at night', tomas);
    expect(answer.kind).toBe('answer');
    if (answer.kind !== 'answer') return;
    expect(answer.via).toBe('curated');
    expect(answer.text).toBe('Yes: Settings, Display, Dark.');
    const card = JSON.stringify(answerCard(answer));
    expect(card).toContain('Answered by a champion, 12 Jan 2027');
    expect(card).not.toContain('Grace');
  });

  it('names the author when the rollout team allows it', async () => {
    const { faq, curated } = await setup(true);
    await curated.answerFromChampion(grace, { question: DATA_QUESTION, answer: 'Your district office refunds it.' });
    const answer = await faq.ask(DATA_QUESTION, tomas);
    expect(JSON.stringify(answerCard(answer as Extract<typeof answer, { kind: 'answer' }>))).toContain(
      'Answered by Grace Mwansa, 12 Jan 2027',
    );
  });

  it('a forgotten champion is no longer named on the answers the bot gives, on this instance or another', async () => {
    const { faq, curated, store, tables, clock, again } = await setup(true);
    const other = await again();
    await curated.answerFromChampion(grace, { question: DATA_QUESTION, answer: 'Your district office refunds it.' });
    await other.curated.refresh();
    const cited = async (f: FaqService) => {
      const answer = await f.ask(DATA_QUESTION, tomas);
      return JSON.stringify(answerCard(answer as Extract<typeof answer, { kind: 'answer' }>));
    };
    expect(await cited(other.faq)).toContain('Answered by Grace Mwansa');

    // The rollout team forgets Grace on this instance; the other instance reloads its answers on its timer.
    const privacy = new FaqPersonalData(await QuestionPrivacy.open(tables, clock), store, { refresh: () => curated.refresh() });
    await privacy.forget({ ids: [grace.actor.aadObjectId, grace.actor.id] }, { id: 'former:grace', name: 'Former member 3f9a' });
    await other.curated.refresh();
    for (const f of [faq, other.faq]) {
      const card = await cited(f);
      expect(card).not.toContain('Grace');
      expect(card).toContain('Answered by Former member 3f9a');
    }
  });

  it('the curated list shows an author’s display name as text, never as a link', async () => {
    const { curated } = await setup(true);
    const odd = { actor: { id: '29:odd', aadObjectId: 'aad-odd', name: '[Reset your password](https://evil.example) **now**' }, role: 'champion' as const };
    await curated.answerFromChampion(odd, { question: DATA_QUESTION, answer: 'Settings, Display, Dark.' });
    const page = await curated.list(grace);
    if (!page.ok) throw new Error('refused');
    const card = JSON.stringify(curatedListCard(page.items, { status: 'active', showAuthor: true }));
    expect(card).toContain('Answered by');
    expect(card).not.toContain('](https://evil.example)');
    expect(card).not.toContain('**now**');
  });

  it('never shadows a better guidance section', async () => {
    const { faq, curated } = await setup();
    await curated.answerFromChampion(grace, {
      question: 'tablet stolen',
      answer: 'Tell your supervisor.',
    });
    const answer = await faq.ask('someone stole my tablet on the bus, what do I do??', amina);
    expect(answer.kind === 'answer' && answer.via).toBe('guidance');
    expect(answer.kind === 'answer' && answer.source.heading).toBe('My tablet was lost or stolen — what do I do?');
  });

  it('refuses a staff member forging the answer action, and stores nothing', async () => {
    const { curated, store } = await setup();
    const forged = await curated.answerFromChampion(
      { actor: amina, role: 'staff' },
      { question: DATA_QUESTION, answer: 'Everything is free!' },
    );
    expect(forged.result).toMatchObject({ ok: false, reason: 'forbidden' });
    expect(forged.tell).toEqual([]);
    expect(await store.active()).toEqual([]);
  });

  it('names what is wrong with a bad answer and changes nothing', async () => {
    const { curated, store } = await setup();
    for (const [input, message] of [
      [{ question: DATA_QUESTION }, 'Write an answer, or pick the guidance section that answers it.'],
      [{ question: DATA_QUESTION, sectionId: 'nope.md#gone' }, 'That guidance section no longer exists; pick another.'],
      [{ question: DATA_QUESTION, answer: 'x'.repeat(4001) }, 'The answer is longer than 4000 characters.'],
    ] as const) {
      expect((await curated.answerFromChampion(grace, input)).result).toEqual({ ok: false, reason: 'invalid', message });
    }
    expect(await store.active()).toEqual([]);
  });

  it('a huge pasted answer is refused with the form shown again, small enough for Teams to show it', async () => {
    const { curated, faq } = await setup();
    const pasted = 'Open Settings and choose Display. '.repeat(600);
    const refused = await curated.answerFromChampion(grace, { question: DATA_QUESTION, answer: pasted });
    expect(refused.result).toMatchObject({ ok: false, message: 'The answer is longer than 4000 characters.' });
    const long = 'why is there no dark mode in the app '.repeat(13).slice(0, 500);
    const group = { id: 'g', example: long, count: 9, askers: 9, questions: Array.from({ length: 5 }, (_, i) => `${i} ${long}`.slice(0, 500)) };
    const card = curatedFormCard(group, faq.nearestSections([DATA_QUESTION], 15), { error: 'The answer is longer than 4000 characters.', answer: pasted });
    expect(utf16Bytes(card)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
  });

  it('edits with the card’s version: a stale edit is refused with the current answer; retired answers leave the engine', async () => {
    const { curated, faq } = await setup();
    const created = await curated.answerFromChampion(grace, {
      question: DATA_QUESTION,
      sectionId: 'offline-data-entry-and-sync.md#how-do-i-sync-my-tablet',
    });
    if (!created.result.ok) throw new Error('not created');
    const { id } = created.result.answer;
    const { result: edited } = await curated.edit(alex, id, 1, { answer: 'Your district office refunds work data.' });
    expect(edited).toMatchObject({ ok: true, answer: { version: 2, answer: 'Your district office refunds work data.' } });
    expect(edited.ok && edited.answer.sectionId).toBeUndefined();
    const { result: stale } = await curated.edit(grace, id, 1, { answer: 'Older idea' });
    expect(stale).toMatchObject({ ok: false, reason: 'conflict', current: { version: 2 } });
    expect(await curated.retire({ actor: amina, role: 'staff' }, id, 2)).toMatchObject({ reason: 'forbidden' });

    expect((await faq.ask(DATA_QUESTION, amina)).kind).toBe('answer');
    expect(await curated.retire(grace, id, 2)).toMatchObject({ ok: true, answer: { status: 'retired', version: 3 } });
    expect((await faq.ask(DATA_QUESTION, amina)).kind).toBe('not-covered');
  });

  it('an edit is for everyone sent the earlier answer, each under their own wording; Save of the unchanged answer is for nobody; the forgotten are not told', async () => {
    const { faq, curated, questions, tables, clock, store } = await setup();
    await faq.ask(DATA_QUESTION, amina);
    await faq.ask('is there dark mode in the app for night visits', tomas);
    const group = groupGaps(await questions.recent(30))[0]!;
    const outcome = await curated.answerFromChampion(grace, {
      question: group.example,
      variants: group.questions,
      answer: 'No dark mode yet.',
      groupId: group.id,
    });
    if (!outcome.result.ok) throw new Error('not created');
    const { id } = outcome.result.answer;
    const edited = await curated.edit(grace, id, 1, { answer: 'Yes: Settings, Display, Dark.' });
    expect(edited.result.ok).toBe(true);
    expect(edited.tell.map((r) => [r.asker.name, r.question]).sort()).toEqual([
      ['Amina', DATA_QUESTION],
      ['Tomas', 'is there dark mode in the app for night visits'],
    ]);
    expect(edited.tell.every((r) => r.questionId !== '')).toBe(true);
    if (edited.result.ok) await curated.correctionsQueued(edited.result.answer); // the turn queued them
    // Save pressed on a card drawn since, the text left as it is: nothing changed, nothing is written, nobody is told.
    const again = await curated.edit(grace, id, 2, { answer: 'Yes: Settings, Display, Dark.' });
    expect(again).toMatchObject({ result: { ok: true, answer: { version: 2 } }, unchanged: true, tell: [] });

    // Amina's data is forgotten: she is not sent the next correction.
    const privacy = new FaqPersonalData(await QuestionPrivacy.open(tables, clock), store);
    await privacy.forget({ ids: [amina.aadObjectId, amina.id] }, { id: 'former:amina', name: 'Former user 1' });
    expect((await curated.edit(grace, id, 2, { answer: 'Yes: Settings, Display, Dark (from version 2.1).' })).tell.map((r) => r.asker.name)).toEqual(['Tomas']);
  });

  it('a retired answer cannot be edited (a card from before it was retired): the champion is told, nothing changes', async () => {
    const { curated, store, faq } = await setup();
    const created = await curated.answerFromChampion(grace, { question: DATA_QUESTION, answer: 'Settings, Display, Dark.' });
    if (!created.result.ok) throw new Error('not created');
    const { id } = created.result.answer;
    expect(await curated.retire(alex, id, 1)).toMatchObject({ ok: true });
    const { result: edited } = await curated.edit(grace, id, 2, { answer: 'Dark mode is under Settings.' });
    expect(edited).toMatchObject({ ok: false, message: expect.stringContaining('retired') });
    expect(await store.get(id)).toMatchObject({ status: 'retired', version: 2, answer: 'Settings, Display, Dark.' });
    expect((await faq.ask(DATA_QUESTION, amina)).kind).toBe('not-covered');
  });

  it('lists a page at a time and exports markdown ready to paste (rollout team only)', async () => {
    const { curated, clock } = await setup();
    for (const n of [1, 2, 3]) {
      clock.advance(60_000);
      await curated.answerFromChampion(grace, { question: `question number ${n} about refunds`, answer: `Answer ${n}.` });
    }
    const first = await curated.list(grace, { size: 2 });
    if (!first.ok) throw new Error('refused');
    expect(first.items.map((a) => a.question)).toEqual(['question number 3 about refunds', 'question number 2 about refunds']);
    const second = await curated.list(grace, { size: 2, ...(first.next ? { next: first.next } : {}) });
    expect(second.ok && second.items.map((a) => a.question)).toEqual(['question number 1 about refunds']);
    expect(await curated.list({ actor: amina, role: 'staff' })).toMatchObject({ ok: false, reason: 'forbidden' });

    expect(await curated.export(grace)).toMatchObject({ ok: false, reason: 'forbidden' });
    const exported = await curated.export(alex);
    expect(exported.ok && exported.markdown).toContain('## question number 1 about refunds\n\nAnswer 1.\n');
  });
});

describe('curated answers exported as markdown', () => {
  it('askers’ wordings go in as plain text: no HTML, link or heading of theirs reaches the guidance', async () => {
    const { curated } = await setup();
    await curated.answerFromChampion(grace, {
      question: 'why <img src=x onerror=alert(1)> [click](javascript:alert(1)) *now*',
      variants: ['a ---->> <script>alert(1)</script>', 'b --!> <b>bold</b>'],
      answer: 'Use **Settings**.',
    });
    const exported = await curated.export(alex);
    if (!exported.ok) throw new Error('refused');
    const md = exported.markdown;
    expect(md).not.toMatch(/<(img|script|b)\b/);
    expect(md).not.toContain('](javascript:');
    // The other wordings stay inside one comment: it is closed once, at its end.
    const comment = md.split('\n').find((l) => l.startsWith('<!--'))!;
    expect(comment.match(/--!?>/g)).toEqual(['-->']);
    expect(comment.endsWith('-->')).toBe(true);
    // The champion's own markdown is kept.
    expect(md).toContain('Use **Settings**.');
  });
});

describe('curated answers and retention', () => {
  it('the record that someone was told of an answer goes once older than the period; newer ones stay', async () => {
    const { faq, curated, clock, store, tables } = await setup();
    await faq.ask(DATA_QUESTION, amina);
    await curated.answerFromChampion(grace, { question: DATA_QUESTION, answer: 'Settings, Display, Dark.' });
    clock.advance(20 * 86_400_000);
    await faq.ask('can the canteen menu be shown in the app', tomas);
    await curated.answerFromChampion(alex, { question: 'can the canteen menu be shown in the app', answer: 'Not yet.' });
    const privacy = new FaqPersonalData(await QuestionPrivacy.open(tables, clock), store);
    const told = async (who: typeof amina) =>
      (await privacy.describe({ ids: [who.aadObjectId, who.id] })).holdings.find((h) => h.kind === 'faq.told')?.count ?? 0;
    expect(await told(amina)).toBe(1);
    expect(await told(tomas)).toBe(1);

    // 40 days after Amina was told, 20 after Tomas: a 30-day period takes Amina's record only.
    clock.advance(20 * 86_400_000);
    await privacy.expire(new Date(clock.now().getTime() - 30 * 86_400_000), 500);
    expect(await told(amina)).toBe(0);
    expect(await told(tomas)).toBe(1);
  });
});

describe('a curated answer pointing at a guidance section', () => {
  it('that the guidance no longer has (the docs changed since): staff are never given an empty answer', async () => {
    const { faq, curated, store } = await setup();
    // Written when the section existed; the docs have been edited since.
    await store.create({ question: DATA_QUESTION, sectionId: 'old-guide.md#dark-mode' }, grace.actor);
    await curated.refresh();
    const answer = await faq.ask(DATA_QUESTION, amina);
    if (answer.kind === 'answer') {
      expect(answer.via).not.toBe('curated');
      expect(answer.text.trim()).not.toBe('');
    }
  });
});

describe('curated answers and retention of their questions', () => {
  it('the answer outlives the questions it answered: still given, still editable, and those told get the correction', async () => {
    const { faq, curated, questions, clock, store, tables } = await setup();
    await faq.ask(DATA_QUESTION, amina);
    // A champion answers 20 days after Amina asked.
    clock.advance(20 * 86_400_000);
    const group = groupGaps(await questions.recent(30))[0]!;
    const outcome = await curated.answerFromChampion(grace, { question: group.example, variants: group.questions, answer: 'No dark mode yet.', groupId: group.id });
    if (!outcome.result.ok) throw new Error('not created');
    expect(outcome.tell.map((r) => r.asker.name)).toEqual(['Amina']);
    // Day 40: a 35-day period deletes Amina's question (day 0) but not the record that she was told (day 20).
    clock.advance(20 * 86_400_000);
    const privacy = new FaqPersonalData(await QuestionPrivacy.open(tables, clock), store);
    expect(await privacy.expire(new Date(clock.now().getTime() - 35 * 86_400_000), 500)).toBeGreaterThan(0);
    expect(await questions.recent(90)).toEqual([]);
    const { id } = outcome.result.answer;
    expect(await store.get(id)).toMatchObject({ status: 'active', answer: 'No dark mode yet.' });
    const asked = await faq.ask('is there a dark mode in the app for the night', tomas);
    expect(asked.kind === 'answer' && asked.text).toBe('No dark mode yet.');
    const edited = await curated.edit(grace, id, 1, { answer: 'Yes: Settings, Display, Dark.' });
    expect(edited.result.ok).toBe(true);
    expect(edited.tell.map((r) => r.asker.name)).toEqual(['Amina']);
  });
});

describe('curated answers under load', () => {
  it('a champion answering with 600 different open questions in the last 30 days: the month is grouped once, not once per question', async () => {
    const { curated, questions } = await setup();
    // Each question different from every other: 600 gap groups, as after a busy month.
    const asked = Array.from({ length: 600 }, (_, i) => `why does screen${i} show code${i} after step${i}`);
    for (let i = 0; i < asked.length; i += 50) {
      await Promise.all(asked.slice(i, i + 50).map((q) => questions.record(q, amina, { answered: false })));
    }
    const group = groupGaps(await questions.recent(30))[0]!;
    vi.mocked(groupGaps).mockClear();
    const outcome = await curated.answerFromChampion(grace, { question: group.example, answer: 'Restart it.', groupId: group.id });
    // Grouping a month is the costly step (600 questions: about 8 s of the turn's CPU when done per question);
    // Teams gives a turn about 15 s.
    expect(vi.mocked(groupGaps).mock.calls.length).toBeLessThanOrEqual(2);
    expect(outcome.tell.map((r) => r.question)).toEqual([group.example]);
  }, 120_000);
});

describe('a gap asked by many people', () => {
  it('300 askers: each is claimed once, and the claims are not made one after another inside the champion\'s turn', async () => {
    const { curated, questions, store } = await setup();
    for (let i = 0; i < 300; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          questions.record(DATA_QUESTION, { id: `29:p${i + j}`, aadObjectId: `aad-p${i + j}`, name: `P ${i + j}` }, { answered: false }),
        ),
      );
    }
    const group = groupGaps(await questions.recent(30))[0]!;
    expect(group.askers).toBe(300);
    // Each claim is a storage write: 300 in a row at Azure's tens of ms each would outlast Teams' ~15 s turn.
    let inFlight = 0;
    let most = 0;
    const claim = store.claimNotice.bind(store);
    vi.spyOn(store, 'claimNotice').mockImplementation(async (...args) => {
      most = Math.max(most, ++inFlight);
      try {
        return await claim(...args);
      } finally {
        inFlight--;
      }
    });
    const outcome = await curated.answerFromChampion(grace, { question: group.example, answer: 'Restart it.', groupId: group.id });
    expect(outcome.tell).toHaveLength(300);
    expect(new Set(outcome.tell.map((r) => r.asker.id)).size).toBe(300);
    expect(most).toBeGreaterThanOrEqual(8);
  }, 120_000);
});

describe('saving an answer inside the champion\'s turn', () => {
  /** `n` questions asked by different people, `answered` or not, each unlike the others. */
  async function many(questions: QuestionStore, n: number, answered: boolean, tag: string): Promise<void> {
    for (let i = 0; i < n; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, n - i) }, (_, j) =>
          questions.record(`how does ${tag}${i + j} reach form${i + j} on screen${i + j}`, { id: `29:${tag}${i + j}`, name: `${tag} ${i + j}` }, { answered }),
        ),
      );
    }
  }

  it('reads a bounded number of question rows however many questions the month holds, and still tells every asker of the gap', async () => {
    const { curated, questions, faq, clock } = await setup(false, undefined, 50);
    await faq.ask(DATA_QUESTION, amina);
    clock.advance(86_400_000);
    // A busy month: questions the guidance answered, and other gaps, asked after the first asker of this one.
    await many(questions, 300, true, 'ans');
    await many(questions, 150, false, 'gap');
    clock.advance(86_400_000);
    await faq.ask('is there a dark mode in the app for night visits', tomas);
    // The guidance answered Rosa's wording of it (among the newest answered questions): she is told too.
    await questions.record('is there a dark mode in this app', { id: '29:rosa', aadObjectId: 'aad-rosa', name: 'Rosa' }, { answered: true, sectionId: 'x.md#y' });
    const group = groupGaps((await questions.recentGaps(30, { limit: 5000 })).questions).find((g) => g.questionIds.length === 2)!;
    expect(group).toBeDefined();
    const { value: outcome, rows } = await reads(() =>
      curated.answerFromChampion(
        grace,
        { question: group.example, variants: group.questions, answer: 'Yes: Settings, Display, Dark.', groupId: group.id },
        { questionIds: group.questionIds },
      ),
    );
    expect(outcome.result.ok).toBe(true);
    expect(outcome.tell.map((r) => r.asker.name).sort()).toEqual(['Amina', 'Rosa', 'Tomas']);
    // The month holds 453 questions: the turn reads about twice its budget of the newest gaps, and as much of the
    // newest answered ones (and a day's claims), beside a few rows of the curated answers.
    expect(rows).toBeLessThanOrEqual(2 * (2 * 50) + 31 + 30);
  }, 120_000);

  it('Save pressed again after the first press\'s 1:1s were never queued (the turn timed out): the same answer, and its askers are named again', async () => {
    const { faq, curated, questions, store } = await setup();
    await faq.ask(DATA_QUESTION, amina);
    await faq.ask('is there a dark mode in the app for night visits', tomas);
    const group = groupGaps(await questions.recent(30))[0]!;
    const input = { question: group.example, variants: group.questions, groupId: group.id, answer: 'Yes: Settings, Display, Dark.' };
    const first = await curated.answerFromChampion(grace, input, { questionIds: group.questionIds });
    expect(first.tell.map((r) => r.asker.name).sort()).toEqual(['Amina', 'Tomas']);
    // The first turn stopped here: its askers were claimed, their 1:1s never queued. The champion presses again.
    const again = await curated.answerFromChampion(grace, input, { questionIds: group.questionIds });
    expect(again.result).toMatchObject({ ok: true, answer: { id: first.result.ok ? first.result.answer.id : '' } });
    // Named again, so the turn queues their 1:1s under the same keys: the outbox sends each once.
    expect(again.tell.map((r) => r.asker.name).sort()).toEqual(['Amina', 'Tomas']);
    expect(await store.active()).toHaveLength(1);
    // Another text is another champion's answer to a gap already answered: refused, nobody named.
    const other = await curated.answerFromChampion(alex, { ...input, answer: 'No, not yet.' });
    expect(other).toMatchObject({ result: { ok: false, reason: 'conflict' }, tell: [] });
  });
});

describe('who is sent a champion\'s answer', () => {
  it('also those who asked the same in other words in the last 30 days whose question the guidance answered, unless out of the window', async () => {
    const { faq, curated, questions, clock } = await setup();
    const pat = { id: '29:pat', aadObjectId: 'aad-pat', name: 'Pat' };
    const old = { id: '29:old', aadObjectId: 'aad-old', name: 'Olu' };
    const fine = { id: '29:fine', aadObjectId: 'aad-fine', name: 'Fina' };
    await questions.record('is there a dark mode in the app at night', old, { answered: true, sectionId: 'x.md#y' });
    clock.advance(40 * 86_400_000);
    await faq.ask(DATA_QUESTION, amina);
    // The guidance gave Tomas an answer (he voted nothing), Pat one he marked Not helpful; Fina asked something else.
    await questions.record('is there a dark mode in the app for night visits', tomas, { answered: true, sectionId: 'x.md#y' });
    const patQ = await questions.record('is there any dark mode in the app', pat, { answered: true, sectionId: 'x.md#y' });
    await questions.vote(patQ.id, pat, false);
    await questions.record('why is the submit button grey', fine, { answered: true, sectionId: 'x.md#z' });
    const group = groupGaps(await questions.recent(30)).find((g) => g.questions.includes(DATA_QUESTION))!;
    const outcome = await curated.answerFromChampion(
      grace,
      { question: group.example, variants: group.questions, answer: 'Yes: Settings, Display, Dark.', groupId: group.id },
      { questionIds: group.questionIds },
    );
    expect(outcome.result.ok).toBe(true);
    expect(outcome.tell.map((r) => r.asker.name).sort()).toEqual(['Amina', 'Pat', 'Tomas']);
  });
});

describe('Edit pressed again after the first press stopped before its corrections were queued', () => {
  it('names everyone sent the earlier answer again, for the same version (so the same keys), from the same card only', async () => {
    const { faq, curated, questions, store } = await setup();
    await faq.ask(DATA_QUESTION, amina);
    await faq.ask('is there dark mode in the app for night visits', tomas);
    const group = groupGaps(await questions.recent(30))[0]!;
    const created = await curated.answerFromChampion(grace, { question: group.example, variants: group.questions, answer: 'No dark mode yet.', groupId: group.id });
    if (!created.result.ok) throw new Error('not created');
    const { id } = created.result.answer;
    const first = await curated.edit(grace, id, 1, { answer: 'Yes: Settings, Display, Dark.' });
    expect(first.tell.map((r) => r.asker.name).sort()).toEqual(['Amina', 'Tomas']);
    // The first turn stopped here: the change is saved, its corrections never queued. The champion presses Save
    // again on the same card (it still carries version 1) …
    const again = await curated.edit(grace, id, 1, { answer: 'Yes: Settings, Display, Dark.' });
    expect(again.result).toMatchObject({ ok: true, answer: { version: 2, answer: 'Yes: Settings, Display, Dark.' } });
    expect(again.tell.map((r) => r.asker.name).sort()).toEqual(['Amina', 'Tomas']);
    // This turn queued them. Save on a card drawn since (version 2), the text left as it is, changed nothing, and
    // the same card's Save once more owes nothing either: nobody is named.
    if (again.result.ok) await curated.correctionsQueued(again.result.answer);
    const fresh = await curated.edit(grace, id, 2, { answer: 'Yes: Settings, Display, Dark.' });
    expect(fresh).toMatchObject({ result: { ok: true, answer: { version: 2 } }, unchanged: true, tell: [] });
    expect(await curated.edit(grace, id, 1, { answer: 'Yes: Settings, Display, Dark.' })).toMatchObject({ result: { ok: true }, repeated: true, tell: [] });
    expect(await store.get(id)).toMatchObject({ version: 2 });
    // Other text from the old card is someone else's change: refused, nobody named.
    expect(await curated.edit(grace, id, 1, { answer: 'No, not yet.' })).toMatchObject({ result: { ok: false, reason: 'conflict' }, tell: [] });
  });

  it('from a card drawn since (Edit opened afresh), Save of the text as it is names them too, until a turn has queued them', async () => {
    const { faq, curated, questions, store } = await setup();
    await faq.ask(DATA_QUESTION, amina);
    await faq.ask('is there dark mode in the app for night visits', tomas);
    const group = groupGaps(await questions.recent(30))[0]!;
    const created = await curated.answerFromChampion(grace, { question: group.example, variants: group.questions, answer: 'No dark mode yet.', groupId: group.id });
    if (!created.result.ok) throw new Error('not created');
    const { id } = created.result.answer;
    const NEW = 'Yes: Settings, Display, Dark.';
    expect((await curated.edit(grace, id, 1, { answer: NEW })).tell.map((r) => r.asker.name).sort()).toEqual(['Amina', 'Tomas']);
    // The first turn stopped here (the change saved, its corrections never queued). The champion opens Edit again
    // (a card at version 2) and presses Save without changing the text: the corrections owed are named.
    const fresh = await curated.edit(grace, id, 2, { answer: NEW });
    expect(fresh.result).toMatchObject({ ok: true, answer: { version: 2, answer: NEW } });
    expect(fresh.unchanged).toBeUndefined();
    expect(fresh.tell.map((r) => r.asker.name).sort()).toEqual(['Amina', 'Tomas']);
    // That turn queued them: from then on a Save of the same text, from any card, names nobody.
    if (fresh.result.ok) await curated.correctionsQueued(fresh.result.answer);
    expect(await curated.edit(grace, id, 2, { answer: NEW })).toMatchObject({ unchanged: true, tell: [] });
    expect(await curated.edit(grace, id, 1, { answer: NEW })).toMatchObject({ repeated: true, tell: [] });
    // The next real edit owes its own corrections again, to both.
    const next = await curated.edit(grace, id, 2, { answer: 'Yes, from version 2.1.' });
    expect(next.tell.map((r) => r.asker.name).sort()).toEqual(['Amina', 'Tomas']);
    expect(await store.get(id)).toMatchObject({ version: 3, toldVersion: 2 });
    expect((await curated.edit(grace, id, 3, { answer: 'Yes, from version 2.1.' })).tell.map((r) => r.asker.name).sort()).toEqual(['Amina', 'Tomas']);
  });

  it('names only those sent an earlier version: someone first sent the current text after the edit is not "corrected"', async () => {
    const { faq, curated, questions, clock } = await setup();
    const pat = { id: '29:pat', aadObjectId: 'aad-pat', name: 'Pat' };
    await faq.ask(DATA_QUESTION, amina);
    const group = groupGaps(await questions.recent(30))[0]!;
    const input = { question: group.example, variants: group.questions, answer: 'No dark mode yet.', groupId: group.id };
    const created = await curated.answerFromChampion(grace, input);
    if (!created.result.ok) throw new Error('not created');
    const { id } = created.result.answer;
    clock.advance(60_000);
    const NEW = 'Yes: Settings, Display, Dark.';
    expect((await curated.edit(grace, id, 1, { answer: NEW })).tell.map((r) => r.asker.name)).toEqual(['Amina']);
    // After the edit Pat asks the same; the gap's Save of the current text sends him the answer as it is now.
    clock.advance(60_000);
    await questions.record('is there any dark mode in the app', pat, { answered: true, sectionId: 'x.md#y' });
    const toPat = await curated.answerFromChampion(grace, { ...input, answer: NEW });
    expect(toPat.tell.map((r) => r.asker.name).sort()).toEqual(['Amina', 'Pat']);
    // The edit's Save pressed again on its card (version 1): Amina was sent the earlier text, Pat never was.
    clock.advance(60_000);
    const again = await curated.edit(grace, id, 1, { answer: NEW });
    expect(again.result).toMatchObject({ ok: true, answer: { version: 2 } });
    expect(again.tell.map((r) => r.asker.name)).toEqual(['Amina']);
    // The next real edit corrects both: each was sent an earlier text than version 3's.
    expect((await curated.edit(grace, id, 2, { answer: 'Yes, from version 2.1.' })).tell.map((r) => r.asker.name).sort()).toEqual(['Amina', 'Pat']);
  });

  it('a record kept before versions were (only its time): told after the edit, not named again; told before or in the same millisecond, named', async () => {
    const { faq, curated, questions, clock, tables } = await setup();
    await faq.ask(DATA_QUESTION, amina);
    const group = groupGaps(await questions.recent(30))[0]!;
    const created = await curated.answerFromChampion(grace, { question: group.example, variants: group.questions, answer: 'No dark mode yet.', groupId: group.id });
    if (!created.result.ok) throw new Error('not created');
    const { id } = created.result.answer;
    const notices = await tables.table('FaqCuratedNotices');
    const legacy = (key: string, name: string) =>
      notices.createEntity({ partitionKey: id, rowKey: key, at: clock.now().toISOString(), asker: JSON.stringify({ id: key, name }), question: DATA_QUESTION, questionId: '' });
    clock.advance(60_000);
    await legacy('aad-before', 'Bea');
    clock.advance(60_000);
    await curated.edit(grace, id, 1, { answer: 'Yes: Settings, Display, Dark.' });
    // Told in the same millisecond as the edit was saved: which came first is not known, so it may have been sent
    // the earlier text and is named (were it the new one, the correction repeats the text they have: no harm).
    await legacy('aad-tie', 'Tia');
    clock.advance(60_000);
    await legacy('aad-after', 'Aft');
    clock.advance(60_000);
    const again = await curated.edit(grace, id, 1, { answer: 'Yes: Settings, Display, Dark.' });
    expect(again.tell.map((r) => r.asker.name).sort()).toEqual(['Amina', 'Bea', 'Tia']);
  });

  it('an answer never changed since it was given names nobody when saved unchanged (there is no correction to send)', async () => {
    const { faq, curated } = await setup();
    await faq.ask(DATA_QUESTION, amina);
    const created = await curated.answerFromChampion(grace, { question: DATA_QUESTION, answer: 'No dark mode yet.' });
    if (!created.result.ok) throw new Error('not created');
    expect(created.tell.map((r) => r.asker.name)).toEqual(['Amina']);
    expect(await curated.edit(grace, created.result.answer.id, 1, { answer: 'No dark mode yet.' })).toMatchObject({
      result: { ok: true, answer: { version: 1 } },
      tell: [],
    });
  });
});

describe('Save pressed again on another instance than the first press', () => {
  it('the 1:1s it queues carry the saved text, for a new answer and for an edit (that instance had not reloaded the answers yet)', async () => {
    const { faq, curated, questions, again } = await setup();
    const other = await again();
    await faq.ask(DATA_QUESTION, amina);
    const group = groupGaps(await questions.recent(30))[0]!;
    const input = { question: group.example, variants: group.questions, groupId: group.id, answer: 'No dark mode yet.' };
    const first = await curated.answerFromChampion(grace, input, { questionIds: group.questionIds });
    if (!first.result.ok) throw new Error('not created');
    const { id } = first.result.answer;
    // What the Teams layer sends each person named: the answer as the instance's engine has it.
    const sent = (instance: typeof other, r: { question: string; questionId: string }) =>
      instance.faq.answerFromSection(`curated-answers#${id}`, r.question, r.questionId)?.text;
    const repeated = await other.curated.answerFromChampion(grace, input, { questionIds: group.questionIds });
    expect(repeated.tell.map((r) => sent(other, r))).toEqual([expect.stringContaining('No dark mode yet')]);

    const edited = await curated.edit(grace, id, 1, { answer: 'Yes: Settings, Display, Dark.' });
    expect(edited.tell).toHaveLength(1);
    // The edit's Save pressed again on its card (still at version 1), reaching the other instance.
    const editedAgain = await other.curated.edit(grace, id, 1, { answer: 'Yes: Settings, Display, Dark.' });
    expect(editedAgain.tell.map((r) => sent(other, r))).toEqual([expect.stringContaining('Yes: Settings, Display, Dark')]);
  });
});

describe('gap groups for champions', () => {
  it('a question a champion\'s answer did not help is open again until the champion changes that answer, and only one asked since reopens it', async () => {
    const { faq, curated, clock } = await setup();
    const first = await faq.ask(DATA_QUESTION, amina);
    expect(first.kind).toBe('not-covered');
    const group = (await faq.gaps(14)).find((g) => g.questionIds.includes(first.questionId))!;
    clock.advance(3_600_000);
    const outcome = await curated.answerFromChampion(grace, { question: group.example, variants: group.questions, answer: 'Not yet: it comes in March.', groupId: group.id });
    if (!outcome.result.ok) throw new Error(outcome.result.message);
    const answer = outcome.result.answer;
    /** Asks the question again as `who` and marks the champion's answer Not helpful. */
    const notHelped = async (who: typeof amina) => {
      clock.advance(3_600_000);
      const asked = await faq.ask('is there a dark mode in the app please', who);
      expect(asked).toMatchObject({ kind: 'answer', via: 'curated' });
      await faq.feedback(asked.questionId, who, false);
      return asked.questionId;
    };
    const before = await notHelped(tomas);
    expect((await faq.gaps(14)).find((g) => g.questionIds.includes(before))).toMatchObject({ again: true });

    // The champion changes the answer: Tomas's vote was on the answer it replaced, so his question goes with the
    // answered card, not on a card saying the answer did not help.
    clock.advance(3_600_000);
    expect((await curated.edit(grace, answer.id, answer.version, { answer: 'Yes: Settings, Display, Dark.' })).result.ok).toBe(true);
    const afterEdit = await faq.gaps(14);
    expect(afterEdit.find((g) => g.questionIds.includes(before))).toMatchObject({ id: group.id });
    expect(afterEdit.some((g) => g.again)).toBe(false);

    // Someone the changed answer did not help: open again, on their own.
    const since = await notHelped({ id: '29:lina', aadObjectId: 'aad-lina', name: 'Lina' });
    const reopened = (await faq.gaps(14)).find((g) => g.questionIds.includes(since));
    expect(reopened).toMatchObject({ again: true, questionIds: [since] });
  });

  it('keep their id as new questions join them', async () => {
    const { faq, questions, clock } = await setup();
    await faq.ask(DATA_QUESTION, amina);
    const before = groupGaps(await questions.recent(30))[0]!;
    clock.advance(86_400_000);
    await faq.ask('is there a dark mode in the app please', tomas);
    const after = groupGaps(await questions.recent(30))[0]!;
    expect(after.id).toBe(before.id);
    expect(after.questionIds).toHaveLength(2);
  });
});

describe('curated answers exported as markdown, read back as guidance', () => {
  const written = (id: string, question: string, answer: string): CuratedAnswer => ({
    id,
    question,
    variants: [],
    answer,
    author: { id: '29:grace', name: 'Grace Mwansa' },
    createdAt: '2027-01-12T09:00:00.000Z',
    updatedAt: '2027-01-12T09:00:00.000Z',
    status: 'active',
    version: 1,
  });

  it('answers whose lines look like headings, or leave a code block or comment open, read back as the same answers', () => {
    const answers = [
      written('c1', 'how do I restart the tablet', 'Hold the power button.\n\n## Something\n\nThen let go.'),
      written('c2', 'who approves leave', 'Your supervisor.\n\nSteps\n---\nAsk them first.\n   # Not a title either'),
      written('c3', 'how do I export the register', 'Run this:\n\n```\nexport --all\n## not a heading in code'),
      written('c4', 'where is the error log', 'On the admin page.\n\n<!-- see the screenshot'),
      written('c5', 'is there a dark mode', 'Steps\n===\nSettings, Display, Dark.'),
      written('c6', 'the last one', 'A plain answer.'),
    ];
    const doc = parseGuidanceDoc('curated-answers.md', exportMarkdown(answers, () => undefined));
    // One entry per answer, headed by its question, and nothing else but the file's title.
    expect(doc.sections.map((s) => [s.level, s.heading])).toEqual([
      [1, 'Answers from champions'],
      ...answers.map((a) => [2, a.question]),
    ]);
    const text = (i: number) => doc.sections[i + 1]!.text;
    expect(text(0)).toMatch(/Hold the power button[\s\S]*## Something[\s\S]*Then let go/);
    expect(text(1)).toMatch(/Your supervisor[\s\S]*Steps[\s\S]*---[\s\S]*Ask them first[\s\S]*# Not a title either/);
    expect(text(2)).toMatch(/Run this[\s\S]*export --all[\s\S]*## not a heading in code/);
    expect(text(3)).toMatch(/On the admin page[\s\S]*<!-- see the screenshot/);
    expect(text(4)).toMatch(/Steps[\s\S]*===[\s\S]*Settings, Display, Dark/);
    expect(text(5)).toBe('A plain answer.');
  });

  it('an answer with nothing that could break the file is exported exactly as written', () => {
    const answer = 'Use **Settings** › *Display*:\n\n1. Tap Dark.\n2. Restart.\n\n> Works from version 2.1.';
    expect(exportMarkdown([written('c7', 'dark mode', answer)], () => undefined)).toContain(`\n\n${answer}\n`);
  });
});
