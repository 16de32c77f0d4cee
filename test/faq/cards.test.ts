import { marked } from 'marked';
import { describe, expect, it } from 'vitest';
import { answerCard } from '../../src/faq/cards.js';

/** Every TextBlock's text on a card, in order. */
function texts(card: unknown): string[] {
  const out: string[] = [];
  JSON.stringify(card, (k, v: unknown) => {
    if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'TextBlock') out.push(String((v as { text?: unknown }).text ?? ''));
    return v;
  });
  return out;
}

/** A markdown line's links as a reader gets them: where each opens (decoded), its words, and the text after it. */
function linksIn(text: string): { href: string; label: string; after: string }[] {
  const html = marked.parseInline(text, { async: false });
  return [...html.matchAll(/<a href="([^"]*)">([^<]*)<\/a>([^<]*)/g)].map((m) => ({ href: decodeURI(m[1] ?? '').replace(/&amp;/g, '&'), label: m[2] ?? '', after: m[3] ?? '' }));
}

describe('the FAQ answer card\'s links to the guidance', () => {
  // A guidance site whose address holds ")", "(" and a space (GUIDANCE_BASE_URL is the rollout team's to choose).
  const url = 'https://intranet.example.org/Guidance (v2)/Sync)/devices#lost-tablet';
  const source = { sectionId: 'devices#lost-tablet', docTitle: 'Devices', heading: 'Lost tablet', url };

  it('cite the whole address even when it holds ")", "(" or a space, and the words after the link read as written', () => {
    const card = answerCard({
      kind: 'answer',
      questionId: 'q',
      question: 'my tablet was stolen',
      text: 'Tell your supervisor.',
      source,
      related: [{ sectionId: 'devices#sync', docTitle: 'Devices', heading: 'Sync', url: `${url}-sync` }],
      via: 'guidance',
      cut: true,
    });
    const lines = texts(card);
    const citation = lines.find((t) => t.startsWith('Source:')) ?? '';
    expect(linksIn(citation)).toEqual([{ href: url, label: 'Devices › Lost tablet', after: '' }]);
    const more = lines.find((t) => t.includes('More in the guidance')) ?? '';
    expect(linksIn(more)).toEqual([{ href: url, label: 'More in the guidance', after: '' }]);
    const related = lines.find((t) => t.startsWith('• ')) ?? '';
    expect(linksIn(related)).toEqual([{ href: `${url}-sync`, label: 'Devices › Sync', after: '' }]);
  });
});
