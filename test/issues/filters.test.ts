import { describe, expect, it } from 'vitest';
import { MAX_FILTER_LENGTH, parseTriageFilters } from '../../src/issues/filters.js';

describe('the triage filter grammar', () => {
  it('reads status, quoted category, site and assignee:me', () => {
    expect(parseTriageFilters('status:new category:"Sync / offline" site:Marula assignee:me', 'me-id')).toEqual({
      ok: true,
      value: { status: 'new', category: 'Sync / offline', site: 'Marula', assigneeId: 'me-id' },
    });
    expect(parseTriageFilters('Status:in-progress', 'x')).toEqual({ ok: true, value: { status: 'in_progress' } });
    expect(parseTriageFilters('', 'x')).toEqual({ ok: true, value: {} });
  });

  it('says what it does not understand, with the usage', () => {
    const bad = parseTriageFilters('status:new please', 'x');
    expect(bad).toMatchObject({ ok: false, message: expect.stringMatching(/I don't understand "please"\. Usage: triage/) });
    expect(parseTriageFilters('colour:red', 'x')).toMatchObject({ ok: false, message: expect.stringMatching(/Unknown filter "colour"/) });
    expect(parseTriageFilters('status:nope', 'x')).toMatchObject({ ok: false, message: expect.stringMatching(/Status is one of/) });
    expect(parseTriageFilters('category:"unclosed', 'x')).toMatchObject({ ok: false, message: expect.stringMatching(/not closed/) });
    expect(parseTriageFilters('site:', 'x')).toMatchObject({ ok: false, message: expect.stringMatching(/needs a value/) });
  });

  it('reads a sort order for a done list, as the tab offers it, and says where it does not apply', () => {
    expect(parseTriageFilters('status:closed sort:oldest', 'x')).toEqual({ ok: true, value: { status: 'closed', sort: 'oldest' } });
    expect(parseTriageFilters('sort:"Newest" status:wont-fix', 'x')).toEqual({ ok: true, value: { status: 'wont_fix', sort: 'newest' } });
    expect(parseTriageFilters('status:resolved sort:priority', 'x')).toEqual({ ok: true, value: { status: 'resolved', sort: 'priority' } });
    expect(parseTriageFilters('status:closed sort:sideways', 'x')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^Sort is one of: oldest, newest, priority\. Usage: triage .*\[sort:oldest\|newest\|priority\]/),
    });
    // The open queue has its own order (New first, then priority and age): a sort there is refused, not ignored.
    for (const open of ['sort:oldest', 'status:new sort:oldest']) {
      expect(parseTriageFilters(open, 'x')).toMatchObject({ ok: false, message: expect.stringMatching(/^"sort" orders a done list/) });
    }
  });

  it('refuses a filter longer than the cap before reading it (28 KB froze the old parser)', () => {
    const huge = 'a:'.repeat(14_000);
    expect(parseTriageFilters(huge, 'x')).toMatchObject({ ok: false, message: expect.stringMatching(/too long/) });
  });

  it('reads inputs at the cap of the shapes that made the old regex backtrack', () => {
    const colons = 'a:'.repeat(MAX_FILTER_LENGTH / 2);
    expect(parseTriageFilters(colons, 'x').ok).toBe(false);
    const words = `site:${'x'.repeat(MAX_FILTER_LENGTH - 10)}`;
    expect(parseTriageFilters(words, 'x')).toMatchObject({ ok: true });
  });
});
