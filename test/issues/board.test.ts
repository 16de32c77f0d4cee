import { describe, expect, it } from 'vitest';
import { boardPage, OpenIssues } from '../../src/issues/board.js';
import { queueRowKey } from '../../src/issues/indexes.js';
import { decodeToken } from '../../src/issues/paging.js';
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

  it('starts the next page right after the last issue shown, in every order and a search, even once that issue is gone', () => {
    for (const [sort, search] of [['oldest', undefined], ['newest', undefined], ['priority', undefined], ['queue', 'problem']] as const) {
      const all = [...rows, line('R-0004', '2027-01-04T09:00:00Z', { title: 'Problem four' }), line('R-0005', '2027-01-05T09:00:00Z', { title: 'Problem five' })].map((r) =>
        search ? { ...r, title: `Problem ${r.title}` } : r,
      );
      // As the board reads them: in queue order (the index's RowKeys).
      all.sort((x, y) => (queueRowKey(x) < queueRowKey(y) ? -1 : 1));
      const first = boardPage(all, { sort, ...(search ? { search } : {}), page: 0, pageSize: 2 }, false);
      expect(first.next, sort).toEqual(expect.any(String));
      const shown = first.items.map((r) => r.ref);
      // The last one shown is triaged away (out of the list) before the next page is asked for.
      const left = all.filter((r) => r.ref !== shown[1]);
      const second = boardPage(left, { sort, ...(search ? { search } : {}), page: 1, pageSize: 10, after: decodeToken(first.next) }, false);
      expect([...shown, ...second.items.map((r) => r.ref)].sort(), sort).toEqual(all.map((r) => r.ref).sort());
      expect(second).toMatchObject({ hasMore: false, next: null });
      expect(second.restarted, sort).toBeUndefined();
      // A cursor of another kind (the queue's key given to a sorted order, or the other way) starts again.
      const other = boardPage(all, { sort, page: 1, pageSize: 10, after: sort === 'queue' ? { c: { t: 'x', p: '', r: 'R-0001' } } : { a: '05~x' } }, false);
      expect(other, sort).toMatchObject({ restarted: true, items: { length: all.length } });
    }
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
