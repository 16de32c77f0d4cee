import { describe, expect, it } from 'vitest';
import { clip, listWithin } from '../../src/text/fit.js';

describe('clip', () => {
  it('keeps text within the limit as it is, and cuts longer text on a whole character with "…"', () => {
    expect(clip('short', 10)).toBe('short');
    expect(clip('a longer line of text', 10)).toBe('a longer…');
    // An emoji is two UTF-16 units: never cut in half.
    const cut = clip('👍'.repeat(20), 5);
    expect(cut).toBe('👍👍👍👍…');
    expect(encodeURIComponent(cut)).toBeTruthy(); // throws on a lone surrogate
  });
});

describe('listWithin', () => {
  it('lists what fits and counts the rest, naming what they are', () => {
    expect(listWithin(['North: 9:00', 'South: 10:00', 'East: 11:00'], 25, { noun: 'cohorts' })).toBe(
      'North: 9:00; South: 10:00; … and 1 more cohorts',
    );
    expect(listWithin(['a', 'b'], 100)).toBe('a; b');
    expect(listWithin(['a', 'b', 'c'], 1, { sep: ' · ' })).toBe('a · … and 2 more');
  });

  it('shows the first item cut rather than an empty list when it alone is too long', () => {
    expect(listWithin(['x'.repeat(50), 'y'], 10)).toBe('xxxxxxxxx…; … and 1 more');
  });
});
