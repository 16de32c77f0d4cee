import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestUser, USERS } from '../support/app.js';
import { startTabApi, type TabApiHarness } from '../support/tab-api.js';

/*
 * The tab's board of open issues paged in another order than the queue's, or searched: the next page starts after
 * the last issue shown, as the tab asks for it (the `next` of the page before, as `after`). The board's page is set
 * to PAGE issues here (production: 20), so that a test logs a page and a few more rather than dozens; in their own
 * file the triage-channel backlog of those issues delays no other test's card.
 */

/** Issues on a board page in these tests, and how many each test logs (a page and three more). */
const PAGE = 5;
const LOGGED = PAGE + 3;

let h: TabApiHarness;
const api = (user: TestUser | null, path: string, init?: { method?: string; body?: unknown }) => h.api(user, path, init);

beforeAll(async () => {
  h = await startTabApi({ boardPageSize: PAGE });
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

/** Logs `n` New issues at `site`, a minute apart; their references in the order logged. */
async function logAt(site: string, n: number): Promise<string[]> {
  const refs: string[] = [];
  for (let i = 0; i < n; i++) {
    refs.push(await h.logIssue(USERS.staff, { site }));
    h.clock.advance(60_000);
  }
  return refs;
}

async function triage(ref: string): Promise<void> {
  const { version } = (await api(USERS.champion, `/api/tab/issues/${ref}`)).body;
  const res = await api(USERS.champion, `/api/tab/issues/${ref}/triage`, { method: 'POST', body: { kind: 'status', version, status: 'triaged' } });
  expect(res.status).toBe(200);
}

/** The next page as the tab asks for it: the `next` the page before returned, as `after`. */
async function nextPage(path: string, before: Record<string, unknown>) {
  const after = typeof before.next === 'string' ? `&after=${encodeURIComponent(before.next)}` : '';
  const res = await api(USERS.champion, `${path}${after}&page=1`);
  expect(res.status).toBe(200);
  return res.body.items!.map((i) => i.ref);
}

describe('the tab’s board paged in a chosen order or searched', () => {
  it('sort=oldest&status=new: triaging three on page 1 skips none on page 2', async () => {
    const site = 'Oldest Depot';
    const refs = await logAt(site, LOGGED);
    const path = `/api/tab/issues?site=${encodeURIComponent(site)}&sort=oldest&status=new`;
    const first = (await api(USERS.champion, path)).body;
    const shown = first.items!.map((i) => i.ref);
    expect(first.pageSize).toBe(PAGE);
    expect(shown).toEqual(refs.slice(0, PAGE));
    expect(first.hasMore).toBe(true);
    for (const ref of shown.slice(0, 3)) await triage(ref);
    const second = await nextPage(path, first);
    // The three not on page 1 (the 6th to 8th logged), none of page 1 again.
    expect(second).toEqual(refs.slice(PAGE));
  });

  it('says where a page starts in the list as it is now, so the tab counts "3–5 of 5", not "6–8 of 5"', async () => {
    const site = 'Counted Depot';
    await logAt(site, LOGGED);
    const path = `/api/tab/issues?site=${encodeURIComponent(site)}&sort=oldest&status=new`;
    const first = (await api(USERS.champion, path)).body;
    expect(first).toMatchObject({ start: 0, total: 8 });
    for (const i of first.items!.slice(0, 3)) await triage(i.ref);
    const after = `&after=${encodeURIComponent(String(first.next))}&page=1`;
    const second = (await api(USERS.champion, `${path}${after}`)).body;
    expect(second).toMatchObject({ start: 2, total: 5 });
    expect(second.items).toHaveLength(3);
  });

  it('q=Problem&status=new: triaging three on page 1 skips none on page 2', async () => {
    const site = 'Search Depot';
    const refs = await logAt(site, LOGGED);
    const path = `/api/tab/issues?site=${encodeURIComponent(site)}&q=Problem&status=new`;
    const first = (await api(USERS.champion, path)).body;
    const shown = first.items!.map((i) => i.ref);
    expect(shown).toHaveLength(PAGE);
    for (const ref of shown.slice(0, 3)) await triage(ref);
    const second = await nextPage(path, first);
    expect([...second].sort()).toEqual(refs.filter((r) => !shown.includes(r)).sort());
  });

  it('sort=newest: an issue logged between two pages repeats none on the next page', async () => {
    const site = 'Newest Depot';
    const refs = await logAt(site, LOGGED);
    const path = `/api/tab/issues?site=${encodeURIComponent(site)}&sort=newest`;
    const first = (await api(USERS.champion, path)).body;
    const shown = first.items!.map((i) => i.ref);
    expect(shown).toEqual(refs.slice(LOGGED - PAGE).reverse());
    // Newer than all: it goes before page 1, which the champion has already seen.
    await logAt(site, 1);
    const second = await nextPage(path, first);
    expect(second).toEqual(refs.slice(0, LOGGED - PAGE).reverse());
  });

  it('sort=priority: a prioritised issue moved ahead of the page shown repeats none and skips none', async () => {
    const site = 'Priority Depot';
    const refs = await logAt(site, LOGGED);
    const path = `/api/tab/issues?site=${encodeURIComponent(site)}&sort=priority`;
    const first = (await api(USERS.champion, path)).body;
    const shown = first.items!.map((i) => i.ref);
    expect(shown).toEqual(refs.slice(0, PAGE));
    // The middle one of the next page is made P1 (ahead of page 1 now): the rest of that page still all follow.
    const moved = refs[PAGE + 1]!;
    const { version } = (await api(USERS.champion, `/api/tab/issues/${moved}`)).body;
    expect((await api(USERS.champion, `/api/tab/issues/${moved}/triage`, { method: 'POST', body: { kind: 'priority', version, priority: 'P1' } })).status).toBe(200);
    const second = await nextPage(path, first);
    expect(second).toEqual(refs.slice(PAGE).filter((r) => r !== moved));
  });

  it('a tampered, stale or oversized board cursor gets the first page or a 400 saying so, never a 500', async () => {
    const site = 'Cursor Depot';
    const refs = await logAt(site, 3);
    const base = `/api/tab/issues?site=${encodeURIComponent(site)}`;
    for (const [sort, withSearch] of [['queue', ''], ['queue', '&q=Problem'], ['oldest', ''], ['newest', ''], ['priority', '&q=Problem']]) {
      for (const after of ['not a position', 'eyJjIjp7InQiOjEsInAiOjIsInIiOjN9fQ', Buffer.from('{"c":{"t":"x","p":"P9","r":"R-9999"}}').toString('base64url'), Buffer.from('{"a":"zzz"}').toString('base64url')]) {
        const res = await api(USERS.champion, `${base}&sort=${sort}${withSearch}&page=1&after=${encodeURIComponent(after)}`);
        const label = `${sort} after=${after}`;
        expect(res.status, label).not.toBe(500);
        if (res.status === 200) expect(res.body.items!.length, label).toBeLessThanOrEqual(refs.length);
        else expect(res.body, label).toMatchObject({ error: 'BadRequest', message: expect.stringContaining('after') });
      }
      // A cursor that does not parse starts the list again (and says it is page 1).
      const forged = await api(USERS.champion, `${base}&sort=${sort}${withSearch}&page=1&after=not-a-position`);
      expect(forged, `${sort}${withSearch}`).toMatchObject({ status: 200, body: { page: 0 } });
      expect(forged.body.items!.map((i) => i.ref).sort(), sort).toEqual([...refs].sort());
      const huge = await api(USERS.champion, `${base}&sort=${sort}${withSearch}&after=${'A'.repeat(5000)}`);
      expect(huge, sort).toMatchObject({ status: 400, body: { error: 'BadRequest', message: expect.stringContaining('after') } });
    }
  });
});
