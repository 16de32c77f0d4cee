import { marked } from 'marked';
import { describe, expect, it } from 'vitest';
import { sectionExcerpt } from '../../../src/faq/docs/excerpt.js';
import { parseGuidanceDoc } from '../../../src/faq/docs/parse.js';

describe('a guidance section\'s links on an answer card', () => {
  it('open the whole address the guidance links to, even one holding ")" or a space, and the words after it read as written', () => {
    const doc = parseGuidanceDoc(
      'devices.md',
      '# Lost tablet\n\nFill in [the loss form](<https://forms.example.org/Loss form (v2)/a)b>) the same day.\n',
    );
    const section = doc.sections.find((s) => s.heading === 'Lost tablet');
    if (!section) throw new Error('no section');
    const html = marked.parseInline(sectionExcerpt(section).markdown, { async: false });
    const link = /<a href="([^"]*)">([^<]*)<\/a>(.*)$/.exec(html);
    expect(decodeURI(link?.[1] ?? '')).toBe('https://forms.example.org/Loss form (v2)/a)b');
    expect(link?.[2]).toBe('the loss form');
    expect(link?.[3]).toBe(' the same day.');
  });
});
