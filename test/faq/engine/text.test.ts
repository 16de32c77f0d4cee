import { describe, expect, it } from 'vitest';
import { terms } from '../../../src/faq/engine/text.js';

describe('terms', () => {
  it('drops conversational adverbs that would stem onto topic words ("actually" → actual)', () => {
    expect(terms('what do champions actually do')).toEqual(['champion']);
    expect(terms('basically the app literally closes')).toEqual(['app', 'close']);
    // The topic word itself stays.
    expect(terms('use the actual visit date')).toContain('actual');
  });
});
