import { describe, expect, it } from 'vitest';
import { parseGuidanceDoc } from '../../../src/faq/docs/parse.js';
import { buildIndex, search } from '../../../src/faq/engine/index.js';

/** An overview section that names every case, then one sub-section per case. */
const DOC = `# Tablet permissions

## Understanding permissions

The app asks for camera, location, storage and microphone permissions the first time a question
needs them. If a permission was refused, the question that needs it will not work, and the photo,
GPS or audio question shows an error instead.

### Changing a refused permission in Android settings

Open Android settings, then Apps, then the app, then Permissions, and allow the one you refused.

### Why location is needed

Location is used only by GPS questions.

## Charging

Charge the tablet every night.

## Cleaning the screen

Use a dry cloth.
`;

/** Another page sharing the question's scenario words. */
const CAMERA = `# Camera

## Blurry photos

If a photo is blurry, clean the camera lens and hold the tablet still.
`;

const sections = [
  ...parseGuidanceDoc('tablet.md', DOC).sections,
  ...parseGuidanceDoc('camera.md', CAMERA).sections,
];
const ask = (ratio: number) =>
  search(buildIndex(sections, { subsectionRatio: ratio }), 'refused the camera permission, photo question does not work')
    .results;

describe('best sub-section second', () => {
  it('lists the best sub-section of an overview right after it, scores still best first', () => {
    const results = ask(0.3);
    expect(results[0]!.section.heading).toBe('Understanding permissions');
    expect(results[1]!.section.heading).toBe('Changing a refused permission in Android settings');
    const scores = results.map((hit) => hit.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('leaves the order alone when no sub-section comes close (ratio 1)', () => {
    const results = ask(1.01);
    expect(results[0]!.section.heading).toBe('Understanding permissions');
    expect(results.findIndex((hit) => hit.section.heading.startsWith('Changing a refused'))).not.toBe(1);
  });
});
