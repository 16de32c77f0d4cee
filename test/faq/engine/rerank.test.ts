import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadGuidanceDir } from '../../../src/faq/docs/load.js';
import { parseGuidanceDoc } from '../../../src/faq/docs/parse.js';
import type { GuidanceSection } from '../../../src/faq/docs/types.js';
import { buildIndex, search } from '../../../src/faq/engine/index.js';
import { parseGlossary } from '../../../src/faq/glossary.js';
import { RERANK_FEATURES } from '../../../src/faq/engine/rerank.js';
import { SAMPLE_GLOSSARY, SAMPLE_GUIDANCE } from './corpus.js';

// The fitted weights, unless a test sets its own (read by `search` on every question).
const weights = vi.hoisted(() => ({ own: undefined as number[] | undefined }));
vi.mock('../../../src/faq/engine/rerank-weights.js', async (importOriginal) => {
  const fitted = await importOriginal<typeof import('../../../src/faq/engine/rerank-weights.js')>();
  return {
    ...fitted,
    get RERANK_WEIGHTS() {
      return weights.own ?? fitted.RERANK_WEIGHTS;
    },
  };
});
afterEach(() => {
  weights.own = undefined;
});

/**
 * The learned re-ranker (`rerank` knob, on by default) reorders the engine's top candidates. An answer
 * card shows the cited section and two related ones: the top 3 is what the asker sees.
 */
let sections: GuidanceSection[];
const glossary = parseGlossary(readFileSync(SAMPLE_GLOSSARY, 'utf8'));

beforeAll(async () => {
  sections = (await loadGuidanceDir(SAMPLE_GUIDANCE)).sections;
});

const top3 = (rerank: number | undefined, question: string) =>
  search(buildIndex(sections, rerank === undefined ? {} : { rerank }, { glossary }), question)
    .results.slice(0, 3)
    .map((hit) => hit.section.heading);

describe('learned re-ranker', () => {
  it.each([
    // Tuning-set questions (sample staff t047, sample everyday s020) whose gold the hand-tuned order leaves off the card.
    ['how do i send the monthly summary', 'How do I submit the monthly report?'],
    ["i moved to another district and cant see its facilities", "I can't see my district"],
  ])('"%s" shows "%s" on the answer card', (question, gold) => {
    expect(top3(undefined, question)).toContain(gold);
    expect(top3(0, question)).not.toContain(gold);
  });

  it('changes the order only: the same answer and refusal as the lexical engine', () => {
    const on = buildIndex(sections, {}, { glossary });
    const off = buildIndex(sections, { rerank: 0 }, { glossary });
    for (const question of ['how do i send the monthly summary', 'can i get a new office chair', 'what is my salary']) {
      const a = search(on, question);
      const b = search(off, question);
      expect([a.answered, a.confidence, a.offTopic]).toEqual([b.answered, b.confidence, b.offTopic]);
      expect(a.results.map((hit) => hit.score)).toEqual([...a.results.map((hit) => hit.score)].sort((x, y) => y - x));
    }
  });
});

/**
 * A made-up guide where the section that answers is short and another, long one mentions the question's
 * object once but not the task asked.
 */
const GUIDE = `# Field app guide

## Resetting your password

Open Settings, choose Password and press Reset. The new password comes by text message.

## Looking after the tablet

Charge the tablet every night and keep it in its case. Wipe the screen with a dry cloth, never with water.
Keep the tablet away from the sun in the car, and do not leave it on the dashboard. Never write your password
on the case or on a note in the car. Take the tablet to every visit, and bring the charger on long trips.
If the screen cracks, keep working and tell your supervisor at the end of the week. Update the app when the
tablet asks, on office wifi, so the update does not use the monthly data bundle.

## Training days

Training takes two days at the district office.

## Getting help

Ask your champion first, then the helpdesk.
`;

describe('re-ranker and the judgement of the answer', () => {
  const guide = parseGuidanceDoc('guide.md', GUIDE).sections;
  // Weights that rank the longest candidate first, whatever it says.
  const longestFirst = RERANK_FEATURES.map((feature) => (feature === 'length' ? 1 : 0));

  it('an answered question cites a section judged to answer it, not one the re-ranker put above it', () => {
    weights.own = longestFirst;
    const question = 'how do i reset my password';
    const on = search(buildIndex(guide), question);
    const off = search(buildIndex(guide, { rerank: 0 }), question);
    expect(off.answered).toBe(true);
    expect(off.results[0]?.section.heading).toBe('Resetting your password');
    expect(on.answered).toBe(true);
    expect(on.results[0]?.section.heading).toBe('Resetting your password');
    expect(on.confidence).toBe(off.confidence);
    // The re-ranker still ran: the long section is on the card, below the answer.
    expect(on.results.slice(0, 3).map((hit) => hit.section.heading)).toContain('Looking after the tablet');
  });
});
