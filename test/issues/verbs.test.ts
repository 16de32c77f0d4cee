import { describe, expect, it } from 'vitest';
import { ISSUE_VERBS, triageActionOf } from '../../src/issues/verbs.js';
import { PERMISSIONS } from '../../src/roles/permissions.js';
import { amina, bo } from './fixtures.js';

const champions = [amina, bo];

describe('issue card verbs', () => {
  it('reads each champion verb into an action', () => {
    expect(triageActionOf('assignMe', {}, champions)).toEqual({ ok: true, value: { kind: 'assignMe' } });
    expect(triageActionOf('assign', { assignee: bo.id }, champions)).toEqual({
      ok: true,
      value: { kind: 'assign', assignee: bo },
    });
    expect(triageActionOf('comment', { comment: ' hi ', public: 'true' }, champions)).toEqual({
      ok: true,
      value: { kind: 'comment', text: 'hi', visibility: 'public' },
    });
    expect(triageActionOf('comment', { comment: 'note' }, champions)).toMatchObject({
      value: { visibility: 'internal' },
    });
    expect(triageActionOf('priority', { priority: 'none' }, champions)).toEqual({
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
    expect(triageActionOf('assign', { assignee: '29:mallory' }, champions)).toEqual({
      ok: false,
      field: 'assignee',
      message: 'Choose a champion from the list.',
    });
    expect(triageActionOf('status', { status: 'deleted' }, champions).ok).toBe(false);
    expect(triageActionOf('comment', { comment: 'x'.repeat(2001) }, champions).ok).toBe(false);
    expect(triageActionOf('duplicate', { duplicateOf: '  ' }, champions).ok).toBe(false);
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
