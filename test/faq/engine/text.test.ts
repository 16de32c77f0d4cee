import { describe, expect, it } from 'vitest';
import { terms } from '../../../src/faq/engine/text.js';

describe('terms', () => {
  it('drops conversational adverbs that would stem onto topic words ("actually" → actual)', () => {
    expect(terms('what do champions actually do')).toEqual(['champion']);
    expect(terms('basically the app literally closes')).toEqual(['app', 'close']);
    // The topic word itself stays.
    expect(terms('use the actual visit date')).toContain('actual');
  });

  it('reads chat shorthand as the word it stands for ("tmrw", "wks"), so it is not an unknown word', () => {
    expect(terms('deadline tmrw')).toEqual(terms('deadline tomorrow'));
    expect(terms('offline for 3 wks')).toEqual(terms('offline for 3 weeks'));
    expect(terms('phone nos')).toEqual(terms('phone numbers'));
  });
});
