import { describe, expect, it } from 'vitest';
import type { Issue } from '../../src/issues/model.js';
import { DEFAULT_CATEGORIES } from '../../src/issues/model.js';
import { formatRef, parseRef, refBucket } from '../../src/issues/refs.js';
import {
  addAffectedUser,
  applyTriageAction,
  canTransition,
  concurrentChange,
  createIssue,
  describeChange,
  reporterView,
} from '../../src/issues/rules.js';
import { keywords, looksAlike } from '../../src/issues/similarity.js';
import { validateNewIssue } from '../../src/issues/validation.js';
import { alice, amina, bo, bob, form } from './fixtures.js';

const t0 = new Date('2026-03-02T09:00:00Z');
const later = (min: number) => new Date(t0.getTime() + min * 60_000);

function fresh(): Issue {
  const v = validateNewIssue(form(), DEFAULT_CATEGORIES);
  if (!v.ok) throw new Error('invalid fixture');
  return createIssue(v.value, alice, 'R-0042', 42, t0);
}

function must(outcome: ReturnType<typeof applyTriageAction>): Issue {
  if (!outcome.ok) throw new Error(outcome.message);
  return outcome.issue;
}

describe('issue rules', () => {
  it('allows the documented status transitions only', () => {
    expect(canTransition('new', 'triaged')).toBe(true);
    expect(canTransition('waiting', 'closed')).toBe(true);
    expect(canTransition('resolved', 'in_progress')).toBe(true);
    expect(canTransition('new', 'closed')).toBe(false);
    expect(canTransition('closed', 'new')).toBe(false);
  });

  it('assigns, records who/when/what, and bumps the version', () => {
    const a = applyTriageAction(fresh(), { kind: 'assignMe' }, amina, later(5));
    expect(a.ok).toBe(true);
    if (!a.ok) return;
    expect(a.issue.assignee).toEqual(amina);
    expect(a.entry).toEqual({
      at: later(5).toISOString(),
      by: amina,
      what: 'assigned',
      to: 'Amina',
      toId: amina.id,
      version: 2,
    });
    expect(a.notifyReporter).toBeUndefined();
    const b = applyTriageAction(a.issue, { kind: 'assign', assignee: bo }, amina, later(6));
    expect(b.ok && b.entry).toMatchObject({ from: 'Amina', to: 'Bo' });
    expect(applyTriageAction(a.issue, { kind: 'assignMe' }, amina, later(7))).toEqual({
      ok: false,
      code: 'no-change',
      message: 'It is already assigned to you.',
    });
  });

  it('tells the reporter about status changes and public comments only', () => {
    const triaged = applyTriageAction(fresh(), { kind: 'status', status: 'triaged' }, amina, later(1));
    expect(triaged.ok && triaged.notifyReporter).toEqual({
      kind: 'status',
      text: 'Your issue R-0042 "Cannot log in to the IMS" is now Triaged.',
    });
    const internal = applyTriageAction(
      must(triaged),
      { kind: 'comment', text: 'hm', visibility: 'internal' },
      amina,
      later(2),
    );
    expect(internal.ok && internal.notifyReporter).toBeUndefined();
    const pub = applyTriageAction(
      must(internal),
      { kind: 'comment', text: 'Fixed?', visibility: 'public' },
      bo,
      later(3),
    );
    expect(pub.ok && pub.notifyReporter).toEqual({ kind: 'comment', text: 'Bo commented on R-0042: Fixed?' });
    const prio = applyTriageAction(must(pub), { kind: 'priority', priority: 'P2' }, bo, later(4));
    expect(prio.ok && prio.notifyReporter).toBeUndefined();

    const view = reporterView(must(prio));
    expect(view.comments.map((c) => c.text)).toEqual(['Fixed?']);
    expect(view.history.map((h) => h.what)).toEqual(['created', 'status', 'comment', 'priority']);
    expect(must(prio).history).toHaveLength(5);
  });

  it('sets and clears closedAt as the issue leaves and re-enters the queue', () => {
    const resolved = must(
      applyTriageAction(fresh(), { kind: 'status', status: 'resolved' }, amina, later(10)),
    );
    expect(resolved.closedAt).toBe(later(10).toISOString());
    const reopened = must(
      applyTriageAction(resolved, { kind: 'status', status: 'in_progress' }, amina, later(20)),
    );
    expect(reopened.closedAt).toBeNull();
    expect(applyTriageAction(reopened, { kind: 'status', status: 'duplicate' }, amina, later(21)).ok).toBe(
      false,
    );
    const dup = must(applyTriageAction(reopened, { kind: 'duplicate', of: 'R-0001' }, amina, later(22)));
    expect([dup.status, dup.duplicateOf]).toEqual(['duplicate', 'R-0001']);
    const undup = must(applyTriageAction(dup, { kind: 'status', status: 'triaged' }, amina, later(23)));
    expect(undup.duplicateOf).toBeNull();
    expect(applyTriageAction(fresh(), { kind: 'duplicate', of: 'R-0042' }, amina, later(1)).ok).toBe(false);
  });

  it('finds the concurrent change to the same field and phrases it', () => {
    const base = fresh();
    const took = must(applyTriageAction(base, { kind: 'assignMe' }, amina, later(1)));
    const c = concurrentChange(took, base.version, { kind: 'assignMe' });
    expect(c && describeChange(c)).toBe('Amina already took this issue.');
    expect(concurrentChange(took, base.version, { kind: 'priority', priority: 'P1' })).toBeNull();
    expect(
      concurrentChange(took, base.version, { kind: 'comment', text: 'x', visibility: 'internal' }),
    ).toBeNull();
    const gave = must(applyTriageAction(base, { kind: 'assign', assignee: bo }, amina, later(1)));
    const g = concurrentChange(gave, base.version, { kind: 'assign', assignee: amina });
    expect(g && describeChange(g)).toBe('Amina already assigned this to Bo.');
  });

  it('counts a +1 once per user and never the reporter', () => {
    const one = addAffectedUser(fresh(), bob, later(1));
    expect(one.ok && one.issue.affected).toEqual([{ id: bob.id, name: bob.name }]);
    if (!one.ok) return;
    expect(addAffectedUser(one.issue, bob, later(2)).ok).toBe(false);
    expect(addAffectedUser(one.issue, alice, later(2)).ok).toBe(false);
  });
});

describe('validation', () => {
  it('trims, accepts a valid form and drops an empty FAQ question', () => {
    const v = validateNewIssue(form({ title: '  Spaces  ', faqQuestion: '' }), DEFAULT_CATEGORIES);
    expect(v.ok && v.value.title).toBe('Spaces');
    expect(v.ok && 'faqQuestion' in v.value).toBe(false);
  });

  it('names each missing or wrong field', () => {
    const v = validateNewIssue({}, DEFAULT_CATEGORIES);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(Object.keys(v.errors).sort()).toEqual([
      'category',
      'description',
      'location',
      'severity',
      'site',
      'title',
    ]);
    // A field left out of the card's data (an empty input a client did not send) reads as missing, not as "not text".
    expect(v.errors.title).toBe('Title is required.');
    expect(v.errors.location).toBe('Where is required.');
    expect(validateNewIssue(form({ site: 42 as unknown as string }), DEFAULT_CATEGORIES)).toMatchObject({ ok: false, errors: { site: 'Site or department must be text.' } });
    expect(validateNewIssue(null, DEFAULT_CATEGORIES).ok).toBe(false);
    const long = validateNewIssue(form({ title: 'x'.repeat(121) }), DEFAULT_CATEGORIES);
    expect(!long.ok && long.errors.title).toBe('Title can be at most 120 characters (this one has 121).');
    // Emoji count as the one character each that the limit counts them as, not as two UTF-16 units.
    const emoji = validateNewIssue(form({ title: '📱'.repeat(121) }), DEFAULT_CATEGORIES);
    expect(!emoji.ok && emoji.errors.title).toBe('Title can be at most 120 characters (this one has 121).');
  });

  it('keeps one-line fields on one line, so a title cannot add lines of its own to a bot message', () => {
    const v = validateNewIssue(
      form({ title: 'Sync fails\n\nAll clear, no action needed', location: 'Visits\r\nSave', site: 'North\u2028clinic', description: 'line 1\nline 2' }),
      DEFAULT_CATEGORIES,
    );
    expect(v.ok && [v.value.title, v.value.location, v.value.site, v.value.description]).toEqual([
      'Sync fails All clear, no action needed',
      'Visits Save',
      'North clinic',
      'line 1\nline 2',
    ]);
  });

  it('drops direction overrides from one-line fields, which would reverse the rest of a bot message line, and keeps RTL text', () => {
    const v = validateNewIssue(form({ title: '\u202Eevil\u202C normal', site: 'North\u2067 clinic', location: 'شاشة المزامنة \u200F' }), DEFAULT_CATEGORIES);
    expect(v.ok && [v.value.title, v.value.site, v.value.location]).toEqual(['evil normal', 'North clinic', 'شاشة المزامنة \u200F']);
  });

  it('treats a field of only invisible characters as empty, and keeps them inside real text', () => {
    const blank = validateNewIssue(
      form({ title: '\u200B\u200B\u200B', location: '\u2060\uFEFF\u200E', site: '\u3164 \u2800' }),
      DEFAULT_CATEGORIES,
    );
    expect(!blank.ok && blank.errors).toMatchObject({
      title: 'Title is required.',
      location: 'Where is required.',
      site: 'Site or department is required.',
    });
    const fine = validateNewIssue(form({ title: '👩\u200D💻 sync fails' }), DEFAULT_CATEGORIES);
    expect(fine.ok && fine.value.title).toBe('👩\u200D💻 sync fails');
  });
});

describe('references', () => {
  it('formats, parses and buckets references', () => {
    expect(formatRef('R-', 42)).toBe('R-0042');
    expect(formatRef('R-', 123456)).toBe('R-123456');
    expect(parseRef(' r-42 ', 'R-')).toEqual({ ref: 'R-0042', number: 42 });
    expect(parseRef('0042', 'R-')).toEqual({ ref: 'R-0042', number: 42 });
    expect(parseRef("R-1' or 1 eq 1", 'R-')).toBeNull();
    expect(parseRef('R-0', 'R-')).toBeNull();
    expect(refBucket('R-', 42)).toBe('R-00xx');
    expect(refBucket('R-', 1234)).toBe('R-12xx');
  });
});

describe('similarity', () => {
  it('matches reports that share enough meaningful words', () => {
    const a = keywords('Cannot log in: account locked after update');
    expect(looksAlike(a, keywords('Account is locked, cannot login since the update'))).toBe(true);
    expect(looksAlike(a, keywords('Printer prints blank pages'))).toBe(false);
  });
});
