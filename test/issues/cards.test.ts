import { describe, expect, it } from 'vitest';
import { TEAMS_MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../src/cards/template.js';
import {
  formatWhen,
  issueConfirmationData,
  issueDetailData,
  issueFormData,
  issueListData,
  issueSimilarData,
  issueTriageData,
  issueUpdateData,
  renderIssueCard,
} from '../../src/issues/cards.js';
import { DEFAULT_CATEGORIES, type Issue, LIMITS, type NewIssue, summaryOf } from '../../src/issues/model.js';
import { applyTriageAction, createIssue } from '../../src/issues/rules.js';
import { validateNewIssue } from '../../src/issues/validation.js';
import { alice, amina, bo, form } from './fixtures.js';
import { validationErrors } from '../support/cards.js';


const EVIL = '**Boss** <at>Everyone</at> [click](http://evil) ${secret}';
const t0 = new Date('2026-03-02T09:00:00Z');

function validated(values: unknown): NewIssue {
  const v = validateNewIssue(values, DEFAULT_CATEGORIES);
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.value;
}

function evilIssue(): Issue {
  const v = validateNewIssue(
    form({ title: EVIL, description: `${EVIL}\n# heading`, site: '<at>Site</at>' }),
    DEFAULT_CATEGORIES,
  );
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  let issue = createIssue(v.value, { ...alice, name: '_Alice_' }, 'R-0042', 42, t0);
  for (const a of [
    { kind: 'assignMe' },
    { kind: 'comment', text: `internal ${EVIL}`, visibility: 'internal' },
    { kind: 'comment', text: `public ${EVIL}`, visibility: 'public' },
    { kind: 'status', status: 'triaged' },
  ] as const) {
    const out = applyTriageAction(issue, a, amina, new Date(t0.getTime() + 60_000));
    if (!out.ok) throw new Error(out.message);
    issue = out.issue;
  }
  return issue;
}

/** Every string a reader sees: TextBlock texts and FactSet values (not action data, not input values). */
function displayed(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) displayed(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'data') continue;
      if (k === 'text' && typeof v === 'string') out.push(v);
      else if (k === 'facts' && Array.isArray(v)) for (const f of v) out.push(String(f.value));
      else displayed(v, out);
    }
  }
  return out;
}

/** What is displayed holds no live markdown or mention; action data may carry raw text (never rendered). */
function expectSafe(card: object) {
  const json = JSON.stringify(displayed(card));
  expect(json).not.toContain('<at>');
  expect(json).not.toContain('**Boss**');
  expect(json).not.toContain('${');
  expect(JSON.stringify(card)).not.toMatch(/"\$\{[a-zA-Z.]+\}"/); // no template expression left unfilled
  expect(validationErrors(card)).toEqual([]);
  expect(utf16Bytes(card)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
}

describe('issue cards from real issues', () => {
  it('renders every card valid, small and with user text escaped', () => {
    const issue = evilIssue();
    const champions = [amina, bo];
    expectSafe(
      renderIssueCard(
        'issue-triage',
        issueTriageData(issue, { champions, notice: `${EVIL} already took it` }),
      ),
    );
    expectSafe(renderIssueCard('issue-detail', issueDetailData(issue, 'reporter')));
    expectSafe(renderIssueCard('issue-detail', issueDetailData(issue, 'champion')));
    expectSafe(renderIssueCard('issue-confirmation', issueConfirmationData(issue)));
    expectSafe(renderIssueCard('issue-similar', issueSimilarData([summaryOf(issue)], form({ site: EVIL }))));
    expectSafe(
      renderIssueCard(
        'issue-list',
        issueListData({
          list: 'triage',
          page: { items: [summaryOf(issue)], next: 'abc' },
          filters: { site: EVIL },
        }),
      ),
    );
    expectSafe(
      renderIssueCard('issue-list', issueListData({ list: 'mine', page: { items: [], next: null } })),
    );
    const entry = issue.history.find((h) => h.what === 'comment' && h.visibility === 'public')!;
    expectSafe(
      renderIssueCard('issue-update', issueUpdateData(issue, { kind: 'comment', text: 'x' }, entry)),
    );
    expectSafe(
      renderIssueCard(
        'issue-form',
        issueFormData({
          categories: DEFAULT_CATEGORIES,
          values: form({ title: EVIL }),
          errors: { title: 'Title is required.' },
        }),
      ),
    );
  });

  it('keeps the similar-issues card under Teams\' 40 KB with three offers and every field of the form at its limit in emoji', () => {
    const full = (n: number) => '😀'.repeat(n);
    const values = form({
      title: full(LIMITS.title),
      description: full(LIMITS.description),
      location: full(LIMITS.location),
      site: full(LIMITS.site),
      faqQuestion: full(LIMITS.faqQuestion),
    });
    const offers = [1, 2, 3].map((n) => ({
      ...summaryOf(createIssue(validated(values), alice, `R-000${n}`, n, t0)),
      category: full(80),
      affectedCount: 999,
    }));
    const card = renderIssueCard('issue-similar', issueSimilarData(offers, values, 'a1b2c3d4e5f60718'));
    expect(utf16Bytes(card)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    // "No, log mine" still carries the whole form, so nothing is typed twice.
    expect(JSON.stringify(card)).toContain(full(LIMITS.description));
  });

  it('keeps the detail and triage cards of an issue with a long history under Teams\' 40 KB', () => {
    const v = validateNewIssue(
      form({ title: 'T'.repeat(120), description: 'D'.repeat(2000), location: 'L'.repeat(200), site: 'S'.repeat(80) }),
      DEFAULT_CATEGORIES,
    );
    if (!v.ok) throw new Error(JSON.stringify(v.errors));
    let issue = createIssue(v.value, alice, 'R-0042', 42, t0);
    // Comments at their full length, public and internal, as a long-running issue gathers them.
    for (let i = 0; i < 14; i++) {
      const out = applyTriageAction(issue, { kind: 'comment', text: `${i} ${'x'.repeat(1990)}`, visibility: i % 2 ? 'public' : 'internal' }, amina, t0);
      if (!out.ok) throw new Error(out.message);
      issue = out.issue;
    }
    for (const audience of ['reporter', 'champion'] as const) {
      const card = renderIssueCard('issue-detail', issueDetailData(issue, audience));
      expect(utf16Bytes(card), audience).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
      // The newest comment is the one shown in full.
      expect(JSON.stringify(card), audience).toContain(`13 ${'x'.repeat(1990)}`);
      expect(JSON.stringify(card), audience).toMatch(/\d+ earlier comments not shown/);
    }
    const triage = renderIssueCard('issue-triage', issueTriageData(issue, { champions: [amina, bo] }));
    expect(utf16Bytes(triage)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
  });

  /** An issue with every field at its limit in emoji, a long run of full-length comments and assignments, and people's names at 120 characters. */
  function crowdedIssue(): Issue {
    const full = (n: number) => '😀'.repeat(n);
    const named = (i: number) => ({ id: `0b0e0000-1111-4222-8333-${String(i).padStart(12, '0')}`, name: `${i} ${'é'.repeat(LIMITS.personName - 4)}` });
    let issue = createIssue(
      validated(form({ title: full(LIMITS.title), description: full(LIMITS.description), location: full(LIMITS.location), site: full(LIMITS.site), faqQuestion: full(LIMITS.faqQuestion) })),
      { ...alice, name: named(0).name },
      'R-0042',
      42,
      t0,
    );
    for (let i = 1; i <= 30; i++) {
      for (const a of [
        { kind: 'assign', assignee: named(i + 1) },
        { kind: 'comment', text: `${i} ${full(LIMITS.comment - 5)}`, visibility: i % 2 ? 'public' : 'internal' },
      ] as const) {
        const out = applyTriageAction(issue, a, named(i), t0);
        if (!out.ok) throw new Error(out.message);
        issue = out.issue;
      }
    }
    return issue;
  }

  it("keeps the triage card under Teams' 40 KB for a big champions team with 120-character names, and says not all are listed", () => {
    const champions = Array.from({ length: 200 }, (_, i) => ({ id: `0c0e0000-1111-4222-8333-${String(i).padStart(12, '0')}`, name: `Champion ${i} ${'é'.repeat(LIMITS.personName - 14)}` }));
    const card = renderIssueCard('issue-triage', issueTriageData(crowdedIssue(), { champions, notice: 'Amina already took this issue.' }));
    expect(utf16Bytes(card)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    expect(validationErrors(card)).toEqual([]);
    const json = JSON.stringify(card);
    // Assign… still offers champions, the first ones given, and says the rest can take it themselves.
    expect(json).toContain(champions[0]!.id);
    expect(json).not.toContain(champions[199]!.id);
    expect(json).toMatch(/\d+ more champions are not listed here: they can press Assign to me/);
  });

  it("keeps the detail card under Teams' 40 KB with every field at its limit, long names and a long history, newest first kept", () => {
    const issue = crowdedIssue();
    for (const audience of ['reporter', 'champion'] as const) {
      const card = renderIssueCard('issue-detail', issueDetailData(issue, audience));
      expect(utf16Bytes(card), audience).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
      expect(validationErrors(card), audience).toEqual([]);
      const json = JSON.stringify(card);
      // The newest public comment is shown; what was left out is counted, not dropped silently.
      expect(json, audience).toContain(`29 ${'😀'.repeat(LIMITS.comment - 5)}`);
      expect(json, audience).toMatch(/\d+ earlier comments not shown/);
      expect(json, audience).toMatch(/and \d+ earlier entries/);
    }
  });

  it('hides internal notes from the reporter but not from champions', () => {
    const issue = evilIssue();
    const reporter = JSON.stringify(renderIssueCard('issue-detail', issueDetailData(issue, 'reporter')));
    const champion = JSON.stringify(renderIssueCard('issue-detail', issueDetailData(issue, 'champion')));
    expect(reporter).not.toContain('internal');
    expect(reporter).toContain('public');
    expect(champion).toContain('internal note');
  });

  it('puts ref and version into every triage action and offers only allowed statuses', () => {
    const issue = evilIssue();
    const card = renderIssueCard('issue-triage', issueTriageData(issue, { champions: [amina, bo] }));
    const json = JSON.stringify(card);
    const datas = [...json.matchAll(/"data":\{"action":"issue\.(\w+)","ref":"R-0042","version":(\d+)\}/g)];
    expect(datas.map((m) => m[1]).sort()).toEqual([
      'assign',
      'assignMe',
      'comment',
      'duplicate',
      'priority',
      'status',
    ]);
    expect(datas.every((m) => Number(m[2]) === issue.version)).toBe(true);
    expect(json).toContain('"value":"in_progress"');
    expect(json).not.toContain('"value":"closed"'); // not allowed from Triaged
  });

  it('offers "Duplicate of…" only where the rules let the issue become (or stay) a duplicate', () => {
    const at = (status: Issue['status']): Issue => ({ ...evilIssue(), status, duplicateOf: status === 'duplicate' ? 'R-0001' : null });
    const offers = (status: Issue['status']) => JSON.stringify(renderIssueCard('issue-triage', issueTriageData(at(status), { champions: [amina] }))).includes('"verb":"issue.duplicate"');
    for (const status of ['new', 'triaged', 'in_progress', 'duplicate'] as const) expect(offers(status), status).toBe(true);
    // Each of these would only be refused ("cannot become a duplicate"), yet they still offer other statuses.
    for (const status of ['waiting', 'resolved', 'wont_fix'] as const) expect(offers(status), status).toBe(false);
  });

  it('asks "Duplicate of…" for an open original, the only kind the server links to', () => {
    const card = renderIssueCard('issue-triage', issueTriageData(evilIssue(), { champions: [amina] })) as unknown as Record<string, unknown>;
    const input = findById(card, 'duplicateOf');
    expect(input?.label).toBe('Duplicate of (an open issue, not itself a duplicate)');
    expect(input?.errorMessage).toBe('Type the reference of the open issue this one repeats, like R-0042.');
  });

  it('keeps the typed values in the form and shows server errors', () => {
    const data = issueFormData({
      categories: DEFAULT_CATEGORIES,
      values: { title: 'My *title*', faqQuestion: 'How do I sync?' },
      errors: { description: 'What happened is required.' },
    });
    expect(data.values.title).toBe('My *title*'); // an input value is not markdown: kept as typed
    expect(data.errors.form).toMatch(/need a look/);
    const json = JSON.stringify(renderIssueCard('issue-form', data));
    expect(json).toContain('How do I sync?');
    expect(json).toContain('What happened is required.');
    expect(json).toContain('"verb":"issue.submit"');
  });

  it('says a page past the end is empty because the list changed, not that there is nothing at all', () => {
    const past = issueListData({ list: 'mine', page: { items: [], next: null }, paged: true });
    expect(past.emptyText).toMatch(/No more issues here.*First page/);
    expect(past.emptyText).not.toMatch(/not logged any/);
    expect(issueListData({ list: 'mine', page: { items: [], next: null } }).emptyText).toMatch(/not logged any/);
  });

  it('says how many a sorted done list covered, and when none of them fitted, not "the 1,000 most recently closed"', () => {
    const filters = { status: 'closed', sort: 'oldest' } as const;
    const note = (sorted?: number) => issueListData({ list: 'triage', filters, page: { items: [], next: null, truncated: true, ...(sorted === undefined ? {} : { sorted }) } }).note;
    expect(note(1000)).toMatch(/^Sorted among the 1,000 most recently closed only: there are more\./);
    expect(note(37)).toMatch(/^Sorted among the 37 most recently closed only/);
    expect(note(0)).toMatch(/^None sorted: more than 1,000 here, all closed over five years ago\./);
  });

  it('formats times in UTC by default', () => {
    expect(formatWhen('2026-03-02T09:05:00.000Z')).toBe('2 Mar 2026 09:05 UTC');
  });
});

/** The element of a rendered card with this input id (cards nest: actions hold cards that hold inputs). */
function findById(node: unknown, id: string): Record<string, unknown> | undefined {
  if (Array.isArray(node)) return node.map((n) => findById(n, id)).find(Boolean);
  if (!node || typeof node !== 'object') return undefined;
  const o = node as Record<string, unknown>;
  if (o.id === id) return o;
  return Object.values(o).map((v) => findById(v, id)).find(Boolean);
}
