import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock.js';
import { type TestUser, USERS } from '../support/app.js';
import { startTabApi, type TabApiHarness } from '../support/tab-api.js';
import { openIssueTables } from '../../src/issues/tables.js';
import { seedDoneIssues } from '../issues/fixtures.js';

/*
 * The tab's archive of done issues: search, filters and sort orders paging beyond the first page. These tests
 * log two dozen issues, more than the triage channel's Teams limits take in 30 s; in their own file that
 * backlog delays no other test's card.
 */

let h: TabApiHarness;
let clock: ManualClock;
const logIssue = (user: TestUser, over?: Record<string, string>) => h.logIssue(user, over);
const api = (user: TestUser | null, path: string, init?: { method?: string; body?: unknown }) => h.api(user, path, init);

beforeAll(async () => {
  h = await startTabApi();
  ({ clock } = h);
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

describe('the tab API’s archive of done issues', () => {
  it('searches the done issues too: a search or a priority while viewing resolved issues lists only those that match, beyond the first page', async () => {
    const resolve = async (ref: string, priority?: string) => {
      if (priority) expect((await api(USERS.champion, `/api/tab/issues/${ref}/triage`, { method: 'POST', body: { kind: 'priority', version: 1, priority } })).status).toBe(200);
      const res = await api(USERS.champion, `/api/tab/issues/${ref}/triage`, { method: 'POST', body: { kind: 'status', version: priority ? 2 : 1, status: 'resolved' } });
      expect(res.status).toBe(200);
      clock.advance(60_000);
    };
    // The one that matches was closed first, so the most-recently-closed-first archive lists it after a page of others.
    const wanted = await logIssue(USERS.staff, { title: 'Barcode scanner freezes on the stock form', category: 'Performance' });
    await resolve(wanted, 'P2');
    const others: string[] = [];
    for (let i = 0; i < 12; i++) {
      others.push(await logIssue(USERS.staff, { title: `Archived problem ${i}`, category: 'Performance' }));
      await resolve(others.at(-1)!);
    }
    const plain = await api(USERS.champion, '/api/tab/issues?status=resolved&category=Performance');
    expect(plain.body.mode).toBe('archive');
    expect(plain.body.items).toHaveLength(10);
    expect(plain.body.items?.map((i) => i.ref)).not.toContain(wanted);

    const searched = await api(USERS.champion, '/api/tab/issues?status=resolved&category=Performance&q=scanner%20FREEZES');
    expect(searched.body).toMatchObject({ mode: 'archive', next: null });
    expect(searched.body.items?.map((i) => i.ref)).toEqual([wanted]);
    expect((await api(USERS.champion, '/api/tab/issues?status=resolved&category=Performance&q=nothing-like-this')).body).toMatchObject({ items: [], next: null });
    const byPriority = await api(USERS.champion, '/api/tab/issues?status=resolved&category=Performance&priority=P2');
    expect(byPriority.body.items?.map((i) => i.ref)).toEqual([wanted]);
    // A search that matches more than a page pages through the matches only.
    const first = await api(USERS.champion, '/api/tab/issues?status=resolved&category=Performance&q=archived');
    expect(first.body.items).toHaveLength(10);
    const second = await api(USERS.champion, `/api/tab/issues?status=resolved&category=Performance&q=archived&token=${first.body.next as string}`);
    expect([...first.body.items!, ...second.body.items!].map((i) => i.ref).sort()).toEqual([...others].sort());
    expect(second.body.next).toBeNull();
  });

  it('says a chosen order covers the 1,000 most recently closed when there are more, and the list in its own order reaches them all', async () => {
    const from = new Date(clock.now().getTime() - 3 * 86_400_000);
    const refs = await seedDoneIssues(await openIssueTables(h.app.tables), h.app.repository.counter, { count: 1001, from, status: 'closed', fields: { category: 'Reports' } });
    const sorted = await api(USERS.champion, '/api/tab/issues?status=closed&category=Reports&sort=oldest');
    // The least recently closed (also the oldest logged) lies beyond the 1,000 the order covers: the tab shows its hint.
    expect(sorted.body).toMatchObject({ mode: 'archive', sort: 'oldest', truncated: true, sorted: 1000 });
    expect(sorted.body.items?.map((i) => i.ref)).toEqual(refs.slice(1, 11));
    const own = await api(USERS.champion, '/api/tab/issues?status=closed&category=Reports');
    expect(own.body).toMatchObject({ mode: 'archive', truncated: false });
    expect(own.body.items?.map((i) => i.ref)).toEqual(refs.slice(-10).reverse());
  });

  it('lists the done issues in the order chosen (oldest, newest, priority), paging through all of them', async () => {
    const logged: string[] = [];
    for (let i = 0; i < 12; i++) {
      logged.push(await logIssue(USERS.staff, { category: 'Training', title: `Training gap ${i}` }));
      clock.advance(60_000);
    }
    const [a, b, c] = logged as [string, string, string];
    const post = (ref: string, body: Record<string, unknown>) => api(USERS.champion, `/api/tab/issues/${ref}/triage`, { method: 'POST', body });
    expect((await post(a, { kind: 'priority', version: 1, priority: 'P3' })).status).toBe(200);
    expect((await post(b, { kind: 'priority', version: 1, priority: 'P1' })).status).toBe(200);
    // Closed in another order than logged: b, c, the rest, then a last (the most recently closed).
    for (const ref of [b, c, ...logged.slice(3), a]) {
      expect((await post(ref, { kind: 'status', version: ref === a || ref === b ? 2 : 1, status: 'wont_fix' })).status).toBe(200);
      clock.advance(60_000);
    }
    const all = async (sort?: string) => {
      const refs: string[] = [];
      let token: string | null = null;
      do {
        const q = `status=wont_fix&category=Training${sort ? `&sort=${sort}` : ''}${token ? `&token=${token}` : ''}`;
        const res = await api(USERS.champion, `/api/tab/issues?${q}`);
        expect(res.body.mode).toBe('archive');
        refs.push(...res.body.items!.map((i) => i.ref));
        token = res.body.next as string | null;
      } while (token);
      return refs;
    };
    // Unchosen, as before: most recently closed first.
    expect(await all()).toEqual([a, ...logged.slice(3).reverse(), c, b]);
    expect(await all('oldest')).toEqual(logged);
    expect(await all('newest')).toEqual([...logged].reverse());
    expect(await all('priority')).toEqual([b, a, c, ...logged.slice(3)]);
  });
});
