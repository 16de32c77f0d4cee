import { describe, expect, it } from 'vitest';
import { boardPage, OpenIssues } from '../../src/issues/board.js';
import { amina, form, openStore, summaryLine } from './fixtures.js';

const line = summaryLine;

describe('the triage board (rows in queue order)', () => {
  const rows = [
    line('R-0003', '2027-01-03T09:00:00Z', { title: 'Sync stuck on tablet', priority: 'P3' }),
    line('R-0001', '2027-01-01T09:00:00Z', { title: 'Cannot log in', priority: 'P1', assignee: { id: 'a', name: 'Amina' } }),
    line('R-0002', '2027-01-02T09:00:00Z', { title: 'Report totals wrong' }),
  ];

  it('searches every word in the title, reference, site, category and names', () => {
    expect(boardPage(rows, { search: 'amina log', sort: 'queue', page: 0, pageSize: 10 }, false).items.map((r) => r.ref)).toEqual(['R-0001']);
    expect(boardPage(rows, { search: 'r-0002', sort: 'queue', page: 0, pageSize: 10 }, false).items.map((r) => r.ref)).toEqual(['R-0002']);
    expect(boardPage(rows, { search: 'nothing', sort: 'queue', page: 0, pageSize: 10 }, false)).toMatchObject({ items: [], total: 0 });
  });

  it('orders by age or priority (none last), and pages', () => {
    const order = (sort: 'oldest' | 'newest' | 'priority') => boardPage(rows, { sort, page: 0, pageSize: 10 }, false).items.map((r) => r.ref);
    expect(order('oldest')).toEqual(['R-0001', 'R-0002', 'R-0003']);
    expect(order('newest')).toEqual(['R-0003', 'R-0002', 'R-0001']);
    expect(order('priority')).toEqual(['R-0001', 'R-0003', 'R-0002']);
    expect(boardPage(rows, { sort: 'oldest', page: 1, pageSize: 2 }, false)).toMatchObject({ items: [{ ref: 'R-0003' }], total: 3, hasMore: false });
  });
});

describe('OpenIssues on Azurite', () => {
  it('reads one queue partition with the filters, priority included, and lists only open issues', async () => {
    const s = await openStore();
    const a = await s.repo.logIssue(form({ title: 'Login fails', category: 'Access / login' }), { id: 'r1', name: 'R1' });
    const b = await s.repo.logIssue(form({ title: 'Login slow', category: 'Access / login', site: 'South' }), { id: 'r2', name: 'R2' });
    const c = await s.repo.logIssue(form({ title: 'Done one', category: 'Access / login' }), { id: 'r3', name: 'R3' });
    if (a.kind !== 'created' || b.kind !== 'created' || c.kind !== 'created') throw new Error('not logged');
    await s.repo.act(a.issue.ref, { kind: 'priority', priority: 'P2' }, amina, { version: 1 });
    await s.repo.act(c.issue.ref, { kind: 'status', status: 'resolved' }, amina, { version: 1 });
    const board = new OpenIssues(s.issueTables);
    const all = await board.board({ filters: { category: 'access / login' }, sort: 'oldest', page: 0, pageSize: 10 });
    expect(all.items.map((i) => i.ref)).toEqual([a.issue.ref, b.issue.ref]);
    expect((await board.board({ filters: { priority: 'P2' }, sort: 'queue', page: 0, pageSize: 10 })).items.map((i) => i.ref)).toEqual([a.issue.ref]);
    expect((await board.board({ filters: { priority: 'none', site: 'South' }, sort: 'queue', page: 0, pageSize: 10 })).items.map((i) => i.ref)).toEqual([b.issue.ref]);
    const first = await board.board({ filters: {}, sort: 'queue', page: 0, pageSize: 1 });
    expect(first).toMatchObject({ total: null, hasMore: true });
    expect((await board.board({ filters: { status: 'resolved' }, sort: 'queue', page: 0, pageSize: 10 })).items).toEqual([]);
    expect((await board.all()).map((i) => i.ref).sort()).toEqual([a.issue.ref, b.issue.ref].sort());
    // Another order or a search reads a bounded number of rows, and says when there were more.
    const small = new OpenIssues(s.issueTables, 1);
    expect(await small.board({ filters: {}, sort: 'newest', page: 0, pageSize: 10 })).toMatchObject({ total: 1, truncated: true });
    expect(await board.board({ filters: {}, sort: 'newest', page: 0, pageSize: 10 })).toMatchObject({ total: 2, truncated: false });
  });
});
