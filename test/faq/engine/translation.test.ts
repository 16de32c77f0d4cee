import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadGuidanceDir } from '../../../src/faq/docs/load.js';
import { parseGuidanceDoc } from '../../../src/faq/docs/parse.js';
import { buildIndex, search } from '../../../src/faq/engine/index.js';
import { parseGlossary } from '../../../src/faq/glossary.js';
import { SAMPLE_GLOSSARY, SAMPLE_GUIDANCE } from './corpus.js';

/**
 * A made-up guide where the docs name a task one way in their headings ("Deleting …") and the section
 * that answers speaks of it another way ("bin"), never saying "delete".
 */
const GUIDE = `# Field app guide

## Deleting a draft

Move the draft to the bin. Items in the bin are kept for a week.

## Deleting a photo

Press and hold the photo, then move it to the bin.

## Deleting old visits

Visits older than a year go to the bin by themselves.

## Emptying the bin on the tablet

Open the bin from the menu and press Empty. The space comes back at once.

## Tablet battery

Charge the tablet every night. A full battery lasts a working day on the tablet.

## Tablet screen

Keep the tablet screen clean. Turn the tablet screen brightness down to save power.

## Choosing a language

Pick the language of the forms from the settings.

## Printing a report

Reports print from the web portal, not from the tablet app.

## Training days

Training takes two days at the district office.

## Getting help

Ask your champion first, then the helpdesk.

## Office hours

The helpdesk answers calls on weekdays from eight to five.

## Who owns the data

The programme owns every record; officers keep it safe.
`;

const sections = parseGuidanceDoc('guide.md', GUIDE).sections;
const ask = (question: string, tuning = {}) => {
  const result = search(buildIndex(sections, tuning), question);
  return { ...result, headings: result.results.slice(0, 3).map((hit) => hit.section.heading) };
};

describe('translations learned from the docs (translationWeight)', () => {
  it('put on the answer card the section that speaks of the asked task in the words its headings use elsewhere', () => {
    const on = ask('how do i delete files on the tablet');
    expect(on.answered).toBe(true);
    expect(on.headings).toContain('Emptying the bin on the tablet');
  });

  it('without them, the literal words fill the card', () => {
    expect(ask('how do i delete files on the tablet', { translationWeight: 0 }).headings).not.toContain(
      'Emptying the bin on the tablet',
    );
  });

  it.each(['how do i delete files on the tablet', 'delete stuff from the tablet'])(
    '"%s": answered or not, its confidence and the section cited first are as the words alone give them',
    (question) => {
      const on = ask(question);
      const off = ask(question, { translationWeight: 0 });
      expect({ answered: on.answered, confidence: on.confidence, cited: on.headings[0] }).toEqual({
        answered: off.answered,
        confidence: off.confidence,
        cited: off.headings[0],
      });
    },
  );
});

describe('translations on the sample guidance', () => {
  it('an answered question cites the section its confidence was judged on, not one translations pushed above it', async () => {
    const sample = (await loadGuidanceDir(SAMPLE_GUIDANCE)).sections;
    const glossary = parseGlossary(readFileSync(SAMPLE_GLOSSARY, 'utf8'));
    const question = 'battery died in the middle of a visit!! are my forms gone';
    const on = search(buildIndex(sample, {}, { glossary }), question);
    // The question's own words alone: the section they rank first and how sure they are of it.
    const words = search(buildIndex(sample, { translationWeight: 0 }, { glossary }), question);
    expect(words.answered).toBe(true);
    expect(on.answered).toBe(true);
    expect(on.results[0]?.section.heading).toBe("I'm afraid I've lost my data");
    expect({ cited: on.results[0]?.section.heading, confidence: on.confidence }).toEqual({
      cited: words.results[0]?.section.heading,
      confidence: words.confidence,
    });
  });
});
