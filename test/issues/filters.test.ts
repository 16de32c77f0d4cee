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
