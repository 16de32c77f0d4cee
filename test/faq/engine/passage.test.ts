import { describe, expect, it } from 'vitest';
import type { GuidanceSection } from '../../../src/faq/docs/types.js';
import { bestPassage } from '../../../src/faq/engine/passage.js';

function section(text: string): GuidanceSection {
  return {
    id: 'a.md#x',
    doc: 'a.md',
    docTitle: 'A',
    heading: 'X',
    headingPath: ['X'],
    anchor: 'x',
    level: 2,
    text,
    markdown: text,
  };
}

const LONG_INTRO = 'The monthly report collects the indicators of every facility in the district. '
  .repeat(4)
  .trim();

describe('bestPassage', () => {
  it('returns a short section whole', () => {
    expect(bestPassage(section('Press Sync.\n\nThen wait.'), 'sync')).toBe('Press Sync.\n\nThen wait.');
  });

  it('starts at the paragraph that matches the question and cuts at paragraph boundaries', () => {
    const text = `${LONG_INTRO}\n\nTo reset your password, open the sign-in page and press Forgot password.\n\n${LONG_INTRO}`;
    const passage = bestPassage(section(text), 'how do i reset my password', 200);
    expect(passage).toBe('To reset your password, open the sign-in page and press Forgot password.');
  });

  it('keeps following paragraphs (steps) while they fit', () => {
    const text = `${LONG_INTRO}\n\nTo sync, press the Sync button.\n\n- wait for the green tick\n- close the app\n\n${LONG_INTRO}`;
    expect(bestPassage(section(text), 'sync button', 150)).toBe(
      'To sync, press the Sync button.\n\n- wait for the green tick\n- close the app',
    );
  });

  it('cuts a long paragraph at sentence boundaries around the matching sentence', () => {
    const paragraph = `${LONG_INTRO} Storage errors happen when the phone is full. Delete old photos to free space. ${LONG_INTRO}`;
    const passage = bestPassage(section(paragraph), 'storage full on my phone', 120);
    expect(passage).toBe('Storage errors happen when the phone is full. Delete old photos to free space.');
    expect(passage.length).toBeLessThanOrEqual(120);
  });

  it('cuts a single overlong sentence at a word boundary with an ellipsis', () => {
    const passage = bestPassage(section(`word ${'lengthy '.repeat(100)}end`), 'lengthy', 80);
    expect(passage.length).toBeLessThanOrEqual(80);
    expect(passage.endsWith('…')).toBe(true);
    expect(passage).not.toMatch(/\s…$/);
  });

  it('returns an empty string for a section without text', () => {
    expect(bestPassage(section(''), 'anything')).toBe('');
  });
});
