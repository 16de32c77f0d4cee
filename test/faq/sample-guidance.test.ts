import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { answerCard } from '../../src/faq/cards.js';
import type { GuidanceLibrary } from '../../src/faq/docs/library.js';
import { evaluate, parseQuestions, runQuestions } from '../../src/faq/engine/evaluation.js';
import { type FaqIndex, openFaqLibrary, search } from '../../src/faq/engine/index.js';
import { QuestionStore } from '../../src/faq/questions.js';
import { type FaqAnswer, FaqService } from '../../src/faq/service.js';
import { testTables } from '../support/storage.js';
import { SAMPLE_GLOSSARY, SAMPLE_GUIDANCE, SAMPLE_QUESTIONS, SAMPLE_STAFF_QUESTIONS } from './engine/corpus.js';

/**
 * The demo rollout's own guidance, asked the way a newcomer asks (issue #14): the right section,
 * and its steps shown whole in the answer card.
 */
const asker = { id: '29:new', aadObjectId: 'aad-new', name: 'New starter' };
let library: GuidanceLibrary<FaqIndex>;
let faq: FaqService;

beforeAll(async () => {
  library = await openFaqLibrary(SAMPLE_GUIDANCE, { glossaryFile: SAMPLE_GLOSSARY, pollMs: 0 });
  const store = await QuestionStore.open(testTables(), new ManualClock('2027-01-12T09:00:00Z'));
  faq = new FaqService(library, store, { baseUrl: 'https://guidance.kestrel.example/' });
});
afterAll(() => library.close());

async function answer(question: string): Promise<Extract<FaqAnswer, { kind: 'answer' }>> {
  const result = await faq.ask(question, asker);
  if (result.kind !== 'answer') throw new Error(`not answered: ${question}`);
  return result;
}

/** Every string value of a rendered card, so a test can look for what the user reads. */
function cardTexts(card: unknown): string[] {
  const out: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(card);
  return out;
}

describe('everyday questions on the sample guidance', () => {
  it('"someone stole my tablet on the bus" gets the lost-or-stolen steps, all four, numbered and bold', async () => {
    const result = await answer('someone stole my tablet on the bus, what do I do??');
    expect(result.source.heading).toBe('My tablet was lost or stolen — what do I do?');
    expect(result.text).toContain('1. **Tell your supervisor** and the **Devices and Logistics Officer**');
    expect(result.text).toMatch(/2\. \*\*Tell the Data Protection Officer\*\*.*report lost device/);
    expect(result.text).toContain('3. If you know your password');
    expect(result.text).toContain('4. Write down when and where you last had it');
    expect(result.text).toContain('The device is then blocked and wiped remotely');
    expect(result.cut).toBe(false);
    // The card carries the steps as markdown the card renders, not escaped.
    expect(cardTexts(answerCard(result))).toContain(result.text);
  });

  it('"how do i sync my tablet when im back in the office" gets how to sync, steps whole', async () => {
    const result = await answer('how do i sync my tablet when im back in the office');
    expect(result.source.heading).toBe('How do I sync my tablet?');
    expect(result.text).toContain('1. Open the menu (three lines, top left).\n2. Select **Sync now**.');
    expect(result.text).toContain('3. Keep the app open until the message **"All records uploaded"** appears.');
  });

  it('"error FL-403 when opening a household" gets the section that explains FL-403', async () => {
    const result = await answer('error FL-403 when opening a household');
    expect(result.source.heading).toBe("I can't see my district");
    expect(result.text).toContain('FL-403');
    expect(result.text).toContain('1. **Are you in the right role?**');
    expect(result.text).toContain('4. **On the tablet:**');
  });

  it('"the submit button is greyed out" keeps the section\'s first condition', async () => {
    const result = await answer('the submit button is greyed out');
    expect(result.source.heading).toBe('The Submit button is greyed out');
    expect(result.text.startsWith('**Submit for review** stays grey until three things are true:')).toBe(true);
    expect(result.text).toContain('- **No red validation errors remain.**');
    expect(result.text).toContain('- **The period is open.**');
  });

  it('"where is the dashboard" gets where to find the dashboards', async () => {
    const result = await answer('where is the dashboard');
    expect(result.source.heading).toBe('Where do I find the dashboards?');
  });

  it('a long section is cut between blocks, and the card says there is more, with the link', async () => {
    const result = await answer('what does hypercare mean');
    expect(result.source.heading).toBe('What does this word mean? (G–P)');
    expect(result.cut).toBe(true);
    expect(result.text.length).toBeLessThanOrEqual(1200);
    expect(result.text.endsWith('\n')).toBe(false);
    const texts = cardTexts(answerCard(result));
    expect(texts).toContain(`[More in the guidance](${result.source.url})`);
  });

  it('a half-covered question gets the covered half and is told what is not covered', async () => {
    const result = await answer('how do i export the data to excel and make a pivot table');
    expect(result.source.heading).toMatch(/export/i);
    expect(result.uncovered).toEqual(['make a pivot table']);
    expect(cardTexts(answerCard(result)).join('\n')).toContain('doesn\'t cover: “make a pivot table”');
  });

  // Today: hit@1 0.889 (32 of 36), refused 0.9; issue #14 asks 0.8 (see docs/faq-experiments.md).
  it('the everyday question set keeps hit@1 ≥ 0.8, and the questions the guidance leaves out are refused', () => {
    const index = library.current.index;
    const questions = parseQuestions(readFileSync(SAMPLE_QUESTIONS, 'utf8'));
    const metrics = evaluate(
      questions,
      runQuestions(questions, (q) => search(index, q)),
    );
    expect(metrics.answerable).toBeGreaterThanOrEqual(20);
    expect(metrics.hitAt1).toBeGreaterThanOrEqual(0.8);
    expect(metrics.refused).toBeGreaterThanOrEqual(0.8);
  });

  it('"can i create my own graphs" gets the section on charts, in the guidance\'s word', async () => {
    expect((await answer('can i create my own graphs')).source.heading).toBe('Can I make my own charts?');
  });

  it('"someone passed away" gets how to record a death, in the guidance\'s word', async () => {
    const { source } = await answer('an old man in one of my households passed away last week, how do i record that');
    expect(source.heading).toBe('Someone has moved away or died');
  });

  it('chat shorthand is read, not taken for off-topic words ("im the DS … deadline tmrw")', async () => {
    const { source } = await answer(
      'im the DS, cant i just correct the ORS figure myself instead of sending the whole report back? deadline tmrw and the DO is off sick',
    );
    expect(source.heading).toBe('Can I edit the report myself instead of returning it?');
  });

  it('a missed deadline is read as late: "missed the report deadline … can i still send it" gets submitting late', async () => {
    const { source } = await answer('missed the report deadline because of the network, can i still send it');
    expect(source.heading).toBe('Submitting late');
  });

  it('"too many times … now it wont let me in" gets the locked-account section', async () => {
    const { source } = await answer('i typed my password wrong too many times and now it wont let me in');
    expect(source.heading).toBe('My account is locked');
  });

  it('context first, question last: "the battery died … did I lose everything" gets the lost-data section', async () => {
    const { source } = await answer('the battery died in the middle of a visit, did I lose everything');
    expect(source.heading).toBe("I'm afraid I've lost my data");
  });

  it('"can I get a new office chair" is refused: the guidance speaks of offices, not of chairs', async () => {
    expect((await faq.ask('can I get a new office chair', asker)).kind).not.toBe('answer');
  });

  // Today: hit@1 0.726 (85 of 117), refused 0.833 (25 of 30), answered 0.983 (see docs/faq-experiments.md).
  it('the staff question set keeps hit@1 ≥ 0.7, refuses ≥ 0.8 of what the guidance leaves out, answers ≥ 0.95', () => {
    const questions = parseQuestions(readFileSync(SAMPLE_STAFF_QUESTIONS, 'utf8'));
    const metrics = evaluate(
      questions,
      runQuestions(questions, (q) => search(library.current.index, q)),
    );
    expect(metrics.answerable).toBeGreaterThanOrEqual(100);
    expect(metrics.hitAt1).toBeGreaterThanOrEqual(0.7);
    expect(metrics.refused).toBeGreaterThanOrEqual(0.8);
    expect(metrics.answered).toBeGreaterThanOrEqual(0.95);
  });
});
