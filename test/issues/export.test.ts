import { describe, expect, it } from 'vitest';
import { alice, amina, bob, form, openStore } from './fixtures.js';

describe('IssueExport', () => {
  it('exports every issue as CSV through the paging iterator', async () => {
    const { repo, exporter } = await openStore();
    await repo.logIssue(form({ title: '=HYPERLINK("http://evil")' }), alice);
    await repo.logIssue(form({ title: 'Plain, with comma' }), bob);
    await repo.act('R-0002', { kind: 'comment', text: 'internal note', visibility: 'internal' }, amina);
    const { csv, count } = await exporter.csv();
    expect(count).toBe(2);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(lines[2]).toMatch(/^"R-0002","Plain, with comma","New",/);
    expect(lines[2]).toMatch(/,"1","0","2"$/);
  });
});
