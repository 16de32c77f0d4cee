import { describe, expect, it } from 'vitest';
import { mentionsAny } from '../../src/text/mentions.js';

describe('mentionsAny', () => {
  it('finds a name or id as a whole word, whatever its case', () => {
    expect(mentionsAny('Reporter: ann lee, site North', ['Ann Lee'])).toBe(true);
    expect(mentionsAny('{"by":"29:1AbC-xyz"}', ['29:1abc-xyz'])).toBe(true);
    expect(mentionsAny('Zoë wrote this', ['zoë'])).toBe(true);
  });

  it('does not take a name inside a longer word for a mention, nor treat its signs as a pattern', () => {
    expect(mentionsAny('Annual leave allowance', ['Ann'])).toBe(false);
    expect(mentionsAny('Joanna asked', ['Ann'])).toBe(false);
    expect(mentionsAny('anything at all', ['.*'])).toBe(false);
    expect(mentionsAny('some text', ['', '  '])).toBe(false);
  });
});
