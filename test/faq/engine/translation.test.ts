import { describe, expect, it } from 'vitest';
import { parseGuidanceDoc } from '../../../src/faq/docs/parse.js';
import { buildIndex, search } from '../../../src/faq/engine/index.js';

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
const first = (question: string, tuning = {}) => search(buildIndex(sections, tuning), question).results[0]?.section.heading;

describe('translations learned from the docs (translationWeight)', () => {
  it('ranks first the section that speaks of the asked task in the words its headings use elsewhere', () => {
    expect(first('delete stuff from the tablet')).toBe('Emptying the bin on the tablet');
  });

  it('without them, the literal words win', () => {
    expect(first('delete stuff from the tablet', { translationWeight: 0 })).toBe('Tablet battery');
  });

  it('leaves answered and confidence as the words alone judge them', () => {
    for (const question of ['delete stuff from the tablet', 'how do i delete files on the tablet']) {
      const on = search(buildIndex(sections), question);
      const off = search(buildIndex(sections, { translationWeight: 0 }), question);
      expect({ answered: on.answered, confidence: on.confidence }).toEqual({
        answered: off.answered,
        confidence: off.confidence,
      });
    }
    expect(search(buildIndex(sections), 'how do i delete files on the tablet').answered).toBe(true);
  });
});
