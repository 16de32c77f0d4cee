import { describe, expect, it } from 'vitest';
import { ISSUE_VERBS, triageActionOf } from '../../src/issues/verbs.js';
import { PERMISSIONS } from '../../src/roles/permissions.js';
import { amina, bo } from './fixtures.js';

const champions = [amina, bo];

describe('issue card verbs', () => {
  it('reads each champion verb into an action', () => {
    expect(triageActionOf('assignMe', {}, champions, 'R-')).toEqual({ ok: true, value: { kind: 'assignMe' } });
    expect(triageActionOf('assign', { assignee: bo.id }, champions, 'R-')).toEqual({
      ok: true,
      value: { kind: 'assign', assignee: bo },
    });
    expect(triageActionOf('comment', { comment: ' hi ', public: 'true' }, champions, 'R-')).toEqual({
      ok: true,
      value: { kind: 'comment', text: 'hi', visibility: 'public' },
    });
    expect(triageActionOf('comment', { comment: 'note' }, champions, 'R-')).toMatchObject({
      value: { visibility: 'internal' },
    });
    expect(triageActionOf('priority', { priority: 'none' }, champions, 'R-')).toEqual({
      ok: true,
      value: { kind: 'priority', priority: null },
    });
  });

  it('needs a champion for every triage verb and only staff for reporting and following', () => {
    for (const v of ['assignMe', 'assign', 'status', 'priority', 'comment', 'duplicate'] as const) {
      expect(PERMISSIONS[ISSUE_VERBS[v].permission]).toBe('champion');
    }
    expect(PERMISSIONS[ISSUE_VERBS.submit.permission]).toBe('staff');
    expect(PERMISSIONS[ISSUE_VERBS.affected.permission]).toBe('staff');
  });

  it('refuses forged or broken data', () => {
    expect(triageActionOf('assign', { assignee: '29:mallory' }, champions, 'R-')).toEqual({
      ok: false,
      field: 'assignee',
      message: 'Choose a champion from the list.',
    });
    expect(triageActionOf('status', { status: 'deleted' }, champions, 'R-').ok).toBe(false);
    expect(triageActionOf('comment', { comment: 'x'.repeat(2001) }, champions, 'R-').ok).toBe(false);
    expect(triageActionOf('duplicate', { duplicateOf: '  ' }, champions, 'R-').ok).toBe(false);
    // A "duplicate of" that is no reference is the input's fault, named as such (the tab answers 400 for it).
    expect(triageActionOf('duplicate', { duplicateOf: 'hello' }, champions, 'R-')).toEqual({
      ok: false,
      field: 'duplicateOf',
      message: `"hello" is not an issue reference: type the original issue's, such as R-0042.`,
    });
    expect(triageActionOf('duplicate', { duplicateOf: ' #42 ' }, champions, 'R-')).toEqual({ ok: true, value: { kind: 'duplicate', of: 'R-0042' } });
    // A long paste is the field's message too, not an out-of-date card (the schema only caps it).
    expect(ISSUE_VERBS.duplicate.data.safeParse({ ref: 'R-0042', version: 1, duplicateOf: 'x'.repeat(10_000) }).success).toBe(true);
    expect(ISSUE_VERBS.assignMe.data.safeParse({ version: 3 }).success).toBe(false);
    expect(ISSUE_VERBS.assignMe.data.safeParse({ ref: 'R-0042', version: 'x' }).success).toBe(false);
  });

  it('reads paging data without trusting anything beyond filters', () => {
    expect(ISSUE_VERBS.page.data.parse({ list: 'triage', token: 'abc', filters: { site: 'North' } })).toEqual({
      list: 'triage',
      token: 'abc',
      filters: { site: 'North' },
    });
    expect(ISSUE_VERBS.page.data.safeParse({ list: 'everyone' }).success).toBe(false);
    expect(ISSUE_VERBS.page.data.parse({ list: 'mine' })).toEqual({ list: 'mine', token: '', filters: {} });
  });
});
