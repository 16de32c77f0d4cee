import { describe, expect, it } from 'vitest';
import { parseGuidanceDoc } from '../../../src/faq/docs/parse.js';
import { inboundLinkText } from '../../../src/faq/engine/anchors.js';
import { buildIndex, search } from '../../../src/faq/engine/index.js';

const DOCS: Record<string, string> = {
  'forms.md': `# Filling forms

## Removing answers

Long-press the question and choose Remove response.

## Moving between questions

Swipe left or right. If you picked the wrong option, [clear the ticked answer](#removing-answers) first.

## Saving

Save the form with the menu. See [sending forms](sync/send.md#sending) and [the app site](https://example.org/x).
`,
  'sync/send.md': `# Sending

## Sending

Send finalized forms from the main menu. To undo a choice, see [untick an option](../forms.md#removing-answers).
`,
};
const sections = Object.entries(DOCS).flatMap(([path, markdown]) => parseGuidanceDoc(path, markdown).sections);
const heading = (id: string) => sections.findIndex((section) => section.id === id);

describe('link text as the target section words (anchorBonus)', () => {
  it('collects the text of links to a section, from its own doc and others, relative paths resolved', () => {
    const text = inboundLinkText(sections);
    expect(text[heading('forms.md#removing-answers')]!.split('\n')).toEqual([
      'clear the ticked answer',
      'untick an option',
    ]);
    expect(text[heading('sync/send.md#sending')]).toBe('sending forms');
    // External links lead nowhere in the docs.
    expect(text.join('\n')).not.toContain('the app site');
  });

  it('ranks a section by the words others link to it with, only when turned on', () => {
    const question = 'I ticked the wrong option, how do I clear it';
    const first = (tuning: object) => search(buildIndex(sections, tuning), question).results[0]?.section.heading;
    expect(first({ anchorBonus: 1 })).toBe('Removing answers');
    expect(first({})).toBe('Moving between questions');
  });
});
