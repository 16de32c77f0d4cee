import { describe, expect, it } from 'vitest';
import { people } from '../../src/text/count.js';

describe('people()', () => {
  it('counts right for one, with thousands separated, and puts a word between the number and the noun when given', () => {
    expect(people(1)).toBe('1 person');
    expect(people(2003)).toBe('2,003 people');
    expect(people(1, 'listed')).toBe('1 listed person');
    expect(people(3000, 'listed')).toBe('3,000 listed people');
  });
});
