import { describe, expect, it } from 'vitest';
import { loadGuidanceDir } from '../../../src/faq/docs/load.js';
import { parseGuidanceDoc } from '../../../src/faq/docs/parse.js';
import { buildIndex, search } from '../../../src/faq/engine/index.js';

/** The manual names the task in a heading with its own word; the question uses an everyday one. */
const DOC = `# Phone care

## Deleting forms

Open the menu, pick the forms that are no longer used and confirm. They are taken off the device.

## Before a field visit

Wipe dust from the screen of the phone, charge the battery and check that the forms open.

## Charging

Use the charger that came with the phone. A full battery lasts about one working day.

## Storage

Photos take most of the space. Move them to a computer every week.

## Screen brightness

Lower the brightness outdoors in the shade to save battery.
`;

const sections = parseGuidanceDoc('care.md', DOC).sections;

describe('heading synonym bonus', () => {
  it('prefers the section whose heading names the task over body text sharing the literal words', () => {
    const top = (bonus: number) =>
      search(buildIndex(sections, { headingSynonymBonus: bonus }), 'wipe the phone').results[0]?.section
        .heading;
    expect(top(0)).toBe('Before a field visit');
    expect(top(0.6)).toBe('Deleting forms');
  });
});

describe('heading word bonus (on the sample guidance)', () => {
  it('a synonym in one heading does not beat the question word itself in another', async () => {
    const { sections: sample } = await loadGuidanceDir('sample/guidance');
    const top = (wordBonus: number) =>
      // The wh-word bonus would also lift "Where do I find…": off, to see this bonus alone.
      search(buildIndex(sample, { headingWordBonus: wordBonus, askedLikeBonus: 0 }), 'where is the dashboard').results[0]?.section
        .heading;
    // "charts" is in the synonym group of "dashboard": without the bonus its heading wins.
    expect(top(0)).toBe('Can I make my own charts?');
    expect(top(0.3)).toBe('Where do I find the dashboards?');
  });
});
