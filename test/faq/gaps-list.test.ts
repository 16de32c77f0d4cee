import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { AdaptiveCard } from '../../src/cards/template.js';
import { gapsCard } from '../../src/faq/cards.js';
import { GuidanceLibrary } from '../../src/faq/docs/library.js';
import { buildIndex, type FaqIndex } from '../../src/faq/engine/index.js';
import { QuestionStore } from '../../src/faq/questions.js';
import { FaqService } from '../../src/faq/service.js';
import { testTables } from '../support/storage.js';
import { reads } from '../support/table-reads.js';
import { writeGuidance } from './support.js';

const libraries: GuidanceLibrary<FaqIndex>[] = [];
afterEach(() => {
  for (const l of libraries.splice(0)) l.close();
});

async function setup(options: { gapScanRows?: number } = {}) {
  const library = await GuidanceLibrary.open(writeGuidance(), { buildIndex: (s) => buildIndex(s), debounceMs: 20, pollMs: 0 });
  libraries.push(library);
  const clock = new ManualClock('2026-11-20T10:00:00Z');
  const store = await QuestionStore.open(testTables(), clock);
  const faq = new FaqService(library, store, { ...options });
  /** An uncovered question, a second after the one before. */
  const ask = async (question: string, person: string) => {
    clock.advance(1000);
    await store.record(question, { id: `29:${person}`, aadObjectId: `aad-${person}`, name: person }, { answered: false });
  };
  return { clock, store, faq, ask };
}

type CardData = Record<string, unknown>;
/** What the champion's press of `gaps` (or of a gaps card's button, with its data) shows. */
const press = async (faq: FaqService, data: CardData): Promise<AdaptiveCard> => gapsCard(await faq.gapsList(data));
/** The data of the card's button titled `title`, if it has one. */
const button = (card: AdaptiveCard, title: string): CardData | undefined =>
  ((card as { actions?: { title: string; data: CardData }[] }).actions ?? []).find((a) => a.title === title)?.data;
/** The gaps a card lists, by the word that names each (`gap3` …), in the card's order. */
const listed = (card: AdaptiveCard): string[] => [...JSON.stringify(card).matchAll(/"text":"“?(gap\d+) /g)].map((m) => m[1]!);
const text = (card: AdaptiveCard): string => JSON.stringify(card);

/** Ten gaps, gap0 asked by the most people (10) down to gap9 (1): two pages of eight. */
async function tenGaps(ask: (q: string, p: string) => Promise<void>) {
  for (let g = 0; g < 10; g++) {
    for (let p = 0; p < 10 - g; p++) await ask(`gap${g} zulu${g} yankee${g} xray${g} whiskey${g}`, `g${g}-p${p}`);
  }
}

describe('paging the gaps list', () => {
  it('"Next" shows the rest of the list the champion was reading, even when new questions reorder the gaps meanwhile', async () => {
    const { faq, ask } = await setup();
    await tenGaps(ask);
    const first = await press(faq, { days: 14 });
    expect(listed(first)).toEqual(['gap0', 'gap1', 'gap2', 'gap3', 'gap4', 'gap5', 'gap6', 'gap7']);

    // While the champion reads page one, twenty people ask the last gap: it now ranks first.
    for (let p = 0; p < 20; p++) await ask('gap9 zulu9 yankee9 xray9 whiskey9', `late-${p}`);

    const second = await press(faq, button(first, 'Next')!);
    // Every gap once across the two pages: none repeated, none skipped.
    expect([...listed(first), ...listed(second)].sort()).toEqual(['gap0', 'gap1', 'gap2', 'gap3', 'gap4', 'gap5', 'gap6', 'gap7', 'gap8', 'gap9']);
    expect(button(second, 'Next')).toBeUndefined();
    // "Previous" goes back to what the first page showed.
    expect(listed(await press(faq, button(second, 'Previous')!))).toEqual(listed(first));
    // Typed again, the list is the latest: the gap asked by twenty more leads it.
    expect(listed(await press(faq, { days: 14 }))[0]).toBe('gap9');
  });

  it('a card from before paging by place (it carries a page number) gets the list from the start, saying why, not an error', async () => {
    const { faq, ask } = await setup();
    await tenGaps(ask);
    const card = await press(faq, { days: 14, page: 2 });
    expect(listed(card)).toEqual(['gap0', 'gap1', 'gap2', 'gap3', 'gap4', 'gap5', 'gap6', 'gap7']);
    expect(text(card)).toMatch(/older card.*from the start/i);
    expect(button(card, 'Next')).toBeDefined();
  });

  it('a card whose place in the list cannot be read (edited data) gets the list from the start, saying so', async () => {
    const { faq, ask } = await setup();
    await tenGaps(ask);
    const card = await press(faq, { days: 14, at: 'yesterday', after: '{"x":1}' });
    expect(listed(card)[0]).toBe('gap0');
    expect(text(card)).toMatch(/from the start/i);
  });
});

describe('a gaps card kept for days', () => {
  it('"Next" pressed over a day later shows the latest list from the start, saying the card is old', async () => {
    const { faq, ask, clock } = await setup();
    await tenGaps(ask);
    const first = await press(faq, { days: 14 });
    clock.advance(2 * 86_400_000);
    const later = await press(faq, button(first, 'Next')!);
    expect(listed(later)).toEqual(listed(first));
    expect(text(later)).toMatch(/over a day old.*from the start/);
  });
});

describe('the work one press of "gaps" does', () => {
  it('reads a bounded number of question rows however many are in the window, and says when the list covers only part of it', async () => {
    const { faq, ask, clock } = await setup({ gapScanRows: 40 });
    // 150 open questions over ten days (five gaps), and 100 answered ones nobody marked unhelpful.
    for (let d = 0; d < 10; d++) {
      for (let i = 0; i < 15; i++) await ask(`gap${i % 5} zulu${i % 5} yankee${i % 5} xray${i % 5}`, `d${d}-p${i}`);
      clock.advance(86_400_000);
    }
    const asker = { id: '29:fine', aadObjectId: 'aad-fine', name: 'Fine' };
    for (let i = 0; i < 100; i++) await faq.ask('why is the submit button grey', asker);

    // The question rows' reads only: the gap cards' redraw counters are another table's.
    const { value: card, rows, calls } = await reads(() => press(faq, { days: 14 }), { table: 'FaqQuestions' });
    // Every gap is still listed (each is asked every day), from the newest questions.
    expect(listed(card).sort()).toEqual(['gap0', 'gap1', 'gap2', 'gap3', 'gap4']);
    expect(text(card)).toMatch(/newest 40 questions/);
    // At most about twice the budget in rows (one read of the whole window, then the newest days), and calls
    // bounded by the window's days: not the 250 rows the window holds.
    expect(rows).toBeLessThanOrEqual(2 * 40 + 1 + 15);
    expect(calls).toBeLessThanOrEqual(2 + 15 + 2);
  });

  it('a window within the budget is listed whole, in one read, with no note', async () => {
    const { faq, ask } = await setup({ gapScanRows: 100 });
    await tenGaps(ask); // 55 questions
    const { value: card, rows, calls } = await reads(() => press(faq, { days: 14 }), { table: 'FaqQuestions' });
    expect(listed(card)).toEqual(['gap0', 'gap1', 'gap2', 'gap3', 'gap4', 'gap5', 'gap6', 'gap7']);
    expect(text(card)).not.toMatch(/newest/);
    expect(text(card)).toContain('1–8 of 10');
    // The questions once, and the window's card claims (none yet): two queries.
    expect(rows).toBe(55);
    expect(calls).toBe(2);
  });
});
