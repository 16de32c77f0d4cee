// @vitest-environment happy-dom
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as AC from 'adaptivecards';
import { marked } from 'marked';
import { beforeAll, describe, expect, it } from 'vitest';
import { CARDS_DIR, escapeText, renderCard } from '../../src/cards/template.js';
import { answerCard } from '../../src/faq/cards.js';
import { issueDetailData, issueTriageData, renderIssueCard } from '../../src/issues/cards.js';
import { DEFAULT_CATEGORIES } from '../../src/issues/model.js';
import { applyTriageAction, createIssue } from '../../src/issues/rules.js';
import { validateNewIssue } from '../../src/issues/validation.js';

/*
 * What a person reads on each card: every template filled from its example data, and cards built from
 * hostile user text, rendered by the adaptivecards library with markdown processed as Teams does
 * (bold, italic, lists, links). Nothing that looks like markup may show: a backslash escape, `**`, a
 * table rule `|---`, or an unfilled `${…}`.
 */

beforeAll(() => {
  AC.AdaptiveCard.onProcessMarkdown = (text, result) => {
    // Teams renders a subset of markdown in TextBlocks: inline formatting and lists, no tables or HTML.
    result.outputHtml = marked.parse(text.replace(/</g, '&lt;'), { async: false, gfm: false }) as string;
    result.didProcess = true;
  };
});

function visibleText(card: unknown): string {
  const parsed = new AC.AdaptiveCard();
  parsed.parse(card);
  const el = parsed.render();
  return el?.textContent ?? '';
}

const MARKUP = [
  { name: 'a backslash escape', re: /\\[\\`*_{}[\]()#+\-.!|~<>]/ },
  { name: 'bold markers', re: /\*\*/ },
  { name: 'a table rule', re: /\|\s*-{3}/ },
  { name: 'an unfilled template', re: /\$\{/ },
];

function markupIn(text: string, except: string[] = []): string[] {
  return MARKUP.filter((m) => !except.includes(m.name) && m.re.test(text)).map((m) => m.name);
}

describe('cards as people read them', () => {
  const names = readdirSync(CARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.replace(/\.json$/, ''));

  it.each(names)('%s shows no markup when filled from its example', (name) => {
    const data = JSON.parse(readFileSync(path.join(CARDS_DIR, 'examples', `${name}.data.json`), 'utf8'));
    const text = visibleText(renderCard(name, data));
    expect(text.length).toBeGreaterThan(0);
    expect(markupIn(text)).toEqual([]);
  });

  const EVIL = '**Boss** said: use C:\\temp, [click](http://x) <at>All</at> ${secret} 1. not a list | a | b |\n|---|---|';

  it('shows what users typed as they typed it, never as formatting', () => {
    const v = validateNewIssue(
      { title: EVIL.slice(0, 100), description: EVIL, location: 'Visits > New', category: DEFAULT_CATEGORIES[0], severity: 'blocks', site: '_North_' },
      DEFAULT_CATEGORIES,
    );
    if (!v.ok) throw new Error(JSON.stringify(v.errors));
    let issue = createIssue(v.value, { id: 'u', name: '*Ann*' }, 'R-0042', 42, new Date('2026-03-02T09:00:00Z'));
    const out = applyTriageAction(issue, { kind: 'comment', text: EVIL, visibility: 'public' }, { id: 'c', name: 'Chris' }, new Date());
    if (!out.ok) throw new Error(out.message);
    issue = out.issue;
    const triage = visibleText(
      renderIssueCard('issue-triage', issueTriageData(issue, { champions: [], notice: 'It is already assigned to you.' })),
    );
    const detail = visibleText(renderIssueCard('issue-detail', issueDetailData(issue, 'reporter')));
    for (const text of [triage, detail]) {
      // Pipes a person typed are theirs to show; a table rule is only a leak when it comes from guidance.
      expect(markupIn(text, ['a table rule'])).toEqual([]);
      expect(text).toContain('Boss'); // the words are all there
      expect(text).toContain('C:\\temp');
    }
    expect(triage).toContain('It is already assigned to you.');
  });

  it('shows guidance as formatted text: a numbered list stays a list, bold is bold, no pipes', () => {
    const card = answerCard({
      kind: 'answer',
      questionId: 'q',
      question: escapeText('my tablet was stolen'),
      text: '**Do this now:**\n\n1. Tell your supervisor.\n2. Report it as lost.',
      source: { sectionId: 's', docTitle: 'Devices', heading: 'Lost tablet' },
      related: [],
      via: 'guidance',
    });
    const parsed = new AC.AdaptiveCard();
    parsed.parse(card);
    const el = parsed.render();
    expect(el?.querySelectorAll('ol li').length).toBe(2);
    expect(el?.querySelector('strong')?.textContent).toBe('Do this now:');
    expect(markupIn(el?.textContent ?? '')).toEqual([]);
  });
});
