import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { type TabApiDeps, tabRoutes } from '../../src/http/tab-api.js';
import { allows, PERMISSIONS } from '../../src/roles/permissions.js';
import type { Role } from '../../src/roles/roles.js';
import { type TestUser, USERS } from '../support/app.js';
import type { RecordingConnector } from '../support/connector.js';
import { startTabApi, type TabApiHarness } from '../support/tab-api.js';

/*
 * The tab's API in local mode (a demo user named by a header), over HTTP against the real app. The role
 * test is driven by the route table itself: a route added without a sample request here, or answering a
 * role it should refuse, fails it.
 */

let h: TabApiHarness;
let app: App;
let connector: RecordingConnector;
const ROLE_USERS: Record<Role, TestUser> = { staff: USERS.staff, champion: USERS.champion, rolloutTeam: USERS.lead };
const logIssue = (user: TestUser, over?: Record<string, string>) => h.logIssue(user, over);
const api = (user: TestUser | null, path: string, init?: { method?: string; body?: unknown; headers?: Record<string, string> }) => h.api(user, path, init);

beforeAll(async () => {
  h = await startTabApi();
  ({ app, connector } = h);
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

/** A request every route can be called with; a new route needs one here. */
async function samples(): Promise<Record<string, { path: string; body?: unknown }>> {
  const ref = await logIssue(USERS.staff);
  return {
    'GET /api/tab/me': { path: '/api/tab/me' },
    'GET /api/tab/overview': { path: '/api/tab/overview' },
    'GET /api/tab/issue-flow': { path: '/api/tab/issue-flow' },
    'GET /api/tab/issues': { path: '/api/tab/issues?sort=oldest' },
    'GET /api/tab/issues/:ref': { path: `/api/tab/issues/${ref}` },
    'GET /api/tab/issues/:ref/comments': { path: `/api/tab/issues/${ref}/comments` },
    'POST /api/tab/issues/:ref/triage': { path: `/api/tab/issues/${ref}/triage`, body: { kind: 'comment', version: 1, comment: 'Looking into it', public: false } },
    'GET /api/tab/champions': { path: '/api/tab/champions' },
    'GET /api/tab/questions': { path: '/api/tab/questions?days=7' },
    'GET /api/tab/pulse': { path: '/api/tab/pulse' },
    'GET /api/tab/pulse/:id/texts': { path: '/api/tab/pulse/2027-01-11-none/texts?question=q3' },
    'GET /api/tab/communications': { path: '/api/tab/communications' },
    'GET /api/tab/officehours': { path: '/api/tab/officehours' },
    'POST /api/tab/figures': { path: '/api/tab/figures', body: { measure: 'report-days', date: '2027-01-10', value: '3.5' } },
    'POST /api/tab/figures/import': { path: '/api/tab/figures/import', body: { csv: 'measure,date,value\nreport-days,2027-01-04,4\n' } },
    'GET /api/tab/figures/import/:id': { path: '/api/tab/figures/import/0123456789abcdef' },
  };
}

describe('every route of the tab API checks who is calling and their role', () => {
  const routes = tabRoutes({} as TabApiDeps);

  it('has a permission from the one role table on every route', () => {
    for (const r of routes) expect(PERMISSIONS[r.permission], `${r.method} ${r.path}`).toBeDefined();
  });

  it('answers 401 without a user, 403 to a role below the route’s, and serves the roles that hold it', async () => {
    const sample = await samples();
    const missing = routes.map((r) => `${r.method} ${r.path}`).filter((k) => !sample[k]);
    expect(missing, 'routes without a sample request in this test').toEqual([]);
    for (const r of routes) {
      const s = sample[`${r.method} ${r.path}`]!;
      expect((await api(null, s.path, { method: r.method, body: s.body })).status, `${r.path} without a user`).toBe(401);
      for (const [role, user] of Object.entries(ROLE_USERS) as [Role, TestUser][]) {
        const res = await api(user, s.path, { method: r.method, body: s.body });
        const label = `${r.method} ${r.path} as ${role}: ${JSON.stringify(res.body).slice(0, 200)}`;
        if (allows(role, r.permission)) expect([401, 403], label).not.toContain(res.status);
        else expect(res.status, label).toBe(403);
      }
    }
  });
});

describe('the tab API', () => {
  it('offers local demo users when nobody is chosen (local mode only) and says which panels have data', async () => {
    const none = await api(null, '/api/tab/me');
    expect(none.body).toMatchObject({ local: true });
    expect(none.body.demoUsers).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'aad-lead', role: 'rolloutTeam' })]));
    const me = await api(USERS.champion, '/api/tab/me');
    expect(me.body).toMatchObject({ role: 'champion', panels: { pulse: true, communications: true, officeHours: true } });
    // The communication plan and office hours fill their panels (nothing sent or booked yet here).
    expect(await api(USERS.champion, '/api/tab/communications')).toMatchObject({ status: 200, body: { messages: [], deliveredShare: null } });
    expect((await api(USERS.champion, '/api/tab/officehours')).status).toBe(200);
  });

  it('shows staff only their own issues, and champions the board with filters and search', async () => {
    const mine = await logIssue(h.other, { category: 'Access / login', title: 'Locked out after the update' });
    const theirs = await logIssue(USERS.staff, { category: 'Access / login' });
    const staffList = await api(h.other, '/api/tab/issues?status=new');
    expect(staffList.body.mode).toBe('mine');
    expect(staffList.body.items?.map((i) => i.ref)).toEqual([mine]);
    expect((await api(h.other, `/api/tab/issues/${theirs}`)).status).toBe(404);

    const board = await api(USERS.champion, `/api/tab/issues?category=${encodeURIComponent('Access / login')}&q=locked`);
    expect(board.body).toMatchObject({ mode: 'board', total: 1 });
    expect(board.body.items?.map((i) => i.ref)).toEqual([mine]);
    expect((await api(USERS.champion, '/api/tab/issues?sort=sideways')).status).toBe(400);
  });

  it('changes an issue’s status with the same rules and version check as the card, and redraws its triage card', async () => {
    const ref = await logIssue(USERS.staff);
    const before = connector.calls.length;
    const ok = await api(USERS.champion, `/api/tab/issues/${ref}/triage`, { method: 'POST', body: { kind: 'status', version: 1, status: 'in_progress' } });
    expect(ok).toMatchObject({ status: 200, body: { issue: { ref, status: 'in_progress', version: 2 } } });
    // Someone else's card still shows version 1: the same conflict the card would get, nothing changed.
    const stale = await api(USERS.lead, `/api/tab/issues/${ref}/triage`, { method: 'POST', body: { kind: 'status', version: 1, status: 'resolved' } });
    expect(stale.status).toBe(409);
    expect(String(stale.body.message)).toContain('Chris Champion');
    expect((await app.repository.get(ref))?.status).toBe('in_progress');
    // A move the rules do not allow is refused by the same rule.
    const closed = await api(USERS.champion, `/api/tab/issues/${ref}/triage`, { method: 'POST', body: { kind: 'status', version: 2, status: 'closed' } });
    expect(closed).toMatchObject({ status: 409, body: { message: 'An issue that is In progress cannot become Closed.' } });
    await app.settled();
    const update = connector.calls.slice(before).find((c) => c.method === 'PUT' && JSON.stringify(c.body).includes(ref));
    expect(JSON.stringify(update?.body)).toContain('In progress');
  });

  it('refuses a priority or an assignee on a Closed issue, saying so, and tells the board it offers neither', async () => {
    const ref = await logIssue(USERS.staff);
    for (const [version, status] of [[1, 'resolved'], [2, 'closed']] as const) {
      expect((await api(USERS.champion, `/api/tab/issues/${ref}/triage`, { method: 'POST', body: { kind: 'status', version, status } })).status).toBe(200);
    }
    for (const body of [{ kind: 'priority', priority: 'P2' }, { kind: 'assignMe' }, { kind: 'assign', assignee: USERS.champion.aadObjectId }]) {
      const res = await api(USERS.champion, `/api/tab/issues/${ref}/triage`, { method: 'POST', body: { ...body, version: 3 } });
      expect(res.status).toBe(409);
      expect(String(res.body.message)).toContain(`${ref} is closed`);
    }
    expect(await app.repository.get(ref)).toMatchObject({ version: 3, priority: null, assignee: null });
    expect((await api(USERS.champion, `/api/tab/issues/${ref}`)).body).toMatchObject({ status: 'closed', editable: false });
    const open = await logIssue(USERS.staff);
    expect((await api(USERS.champion, `/api/tab/issues/${open}`)).body).toMatchObject({ status: 'new', editable: true });
  });

  it('refuses to link a duplicate to a Closed or Won\'t fix original, naming its status, and changes nothing', async () => {
    const post = (ref: string, body: Record<string, unknown>) => api(USERS.champion, `/api/tab/issues/${ref}/triage`, { method: 'POST', body });
    const closed = await logIssue(USERS.staff);
    const parked = await logIssue(USERS.staff);
    const dup = await logIssue(USERS.staff);
    for (const [version, status] of [[1, 'resolved'], [2, 'closed']] as const) expect((await post(closed, { kind: 'status', version, status })).status).toBe(200);
    expect((await post(parked, { kind: 'status', version: 1, status: 'wont_fix' })).status).toBe(200);
    const toClosed = await post(dup, { kind: 'duplicate', version: 1, duplicateOf: closed });
    expect(toClosed).toMatchObject({ status: 409, body: { message: expect.stringContaining(`${closed} is closed`), issue: { ref: dup, status: 'new' } } });
    const toParked = await post(dup, { kind: 'duplicate', version: 1, duplicateOf: parked });
    expect(toParked).toMatchObject({ status: 409, body: { message: `${parked} is Won't fix; reopen it (set it Triaged) or pick an open issue.` } });
    expect(await app.repository.get(dup)).toMatchObject({ status: 'new', duplicateOf: null, version: 1 });
    // Nobody was made to follow the dead issues.
    expect((await app.repository.get(closed))?.affected).toEqual([]);
    expect((await app.repository.get(parked))?.affected).toEqual([]);
  });

  it('takes figures from the rollout team and names the bad row of an import', async () => {
    const bad = await api(USERS.lead, '/api/tab/figures/import', { method: 'POST', body: { csv: 'measure,date,value\nreport-days,2027-01-04,soon\n' } });
    expect(bad).toMatchObject({ status: 422, body: { errors: ['line 2: the value "soon" is not a number'] } });
    expect((await api(USERS.lead, '/api/tab/figures', { method: 'POST', body: { measure: 'report-days', date: '2027-01-11', value: 2.5 } })).status).toBe(200);
    const overview = await api(USERS.staff, '/api/tab/overview');
    const measures = overview.body.measures as { id: string; latest: { value: number } | null }[];
    expect(measures.find((m) => m.id === 'report-days')?.latest?.value).toBe(2.5);
  });

  it('takes a CSV of thousands of figures: checked at once (202), written in batches, its progress and end asked for', async () => {
    const rows = Array.from({ length: 1_500 }, (_, i) => {
      const day = new Date(Date.UTC(2023, 11, 31) - Math.floor(i / 3) * 86_400_000).toISOString().slice(0, 10);
      return `${['report-days', 'active-field-staff', 'totals-matching'][i % 3]},${day},${i % 50}`;
    });
    const res = await api(USERS.lead, '/api/tab/figures/import', { method: 'POST', body: { csv: ['measure,date,value', ...rows].join('\n') } });
    expect(res).toMatchObject({ status: 202, body: { import: { state: 'running', total: 1_500 } } });
    expect(String(res.body.message)).toMatch(/^[\d,]+ of 1,500 written so far/);
    const id = (res.body.import as { id: string }).id;
    await app.adoption.imports.idle();
    const done = await api(USERS.lead, `/api/tab/figures/import/${id}`);
    expect(done).toMatchObject({ status: 200, body: { import: { state: 'done', written: 1_500, replacedCount: 0 }, message: 'Imported 1,500 figures, replaced none.' } });
    expect((await api(USERS.champion, `/api/tab/figures/import/${id}`)).status).toBe(403);
    expect((await api(USERS.lead, '/api/tab/figures/import/0123456789abcdef')).status).toBe(404);
  });

  it('reads a figure typed where the reader writes decimals with a comma, and refuses one that could be read two ways', async () => {
    const enter = (value: string, decimalComma: unknown) => api(USERS.lead, '/api/tab/figures', { method: 'POST', body: { measure: 'report-days', date: '2027-01-11', value, decimalComma } });
    const latest = async () => ((await api(USERS.lead, '/api/tab/overview')).body.measures as { id: string; latest: { value: number } | null }[]).find((m) => m.id === 'report-days')?.latest?.value;
    expect((await enter('2,5', true)).status).toBe(200);
    expect(await latest()).toBe(2.5);
    // "1.234" is German for 1234; "1,234" is thousands to an English reader whose locale writes a decimal comma.
    for (const value of ['1.234', '1,234', '12.345.678']) {
      const res = await enter(value, true);
      expect(res.status).toBe(422);
      expect(String(res.body.message)).toMatch(/could be read two ways.*write 1234 or 1234,5/);
    }
    expect(await latest()).toBe(2.5);
    // Without the flag the point is the decimal mark, as before.
    expect((await enter('1.25', false)).status).toBe(200);
    expect(await latest()).toBe(1.25);
    expect((await enter('3', 'yes')).status).toBe(400);
    expect(await latest()).toBe(1.25);
  });

  it('shows the rollout team, not others, whose figure the latest figure replaced', async () => {
    const enter = (value: number) => api(USERS.lead, '/api/tab/figures', { method: 'POST', body: { measure: 'totals-matching', date: '2027-01-11', value } });
    expect((await enter(90)).status).toBe(200);
    expect(await enter(94)).toMatchObject({ status: 200, body: { replaced: [{ value: 90 }] } });
    const latest = async (user: TestUser) => ((await api(user, '/api/tab/overview')).body.measures as { id: string; latest: unknown }[]).find((m) => m.id === 'totals-matching')?.latest;
    expect(await latest(USERS.lead)).toEqual({ value: 94, date: '2027-01-11', replaced: { value: 90, enteredBy: expect.any(String) } });
    expect(await latest(USERS.staff)).toEqual({ value: 94, date: '2027-01-11' });
  });

  it('refuses a body that is not JSON and an unknown route', async () => {
    const res = await fetch(`${app.url}/api/tab/figures`, { method: 'POST', headers: { 'x-demo-user': 'aad-lead', 'content-type': 'application/json' }, body: '{not json' });
    expect([400]).toContain(res.status);
    expect((await api(USERS.lead, '/api/tab/nothing')).status).toBe(404);
  });

  it('takes a retried change as done only from the person who sent it: another person’s change with the same request id is applied', async () => {
    const ref = await logIssue(USERS.staff);
    const detail = async () => (await api(USERS.lead, `/api/tab/issues/${ref}`)).body as { version: number; comments: { text: string }[] };
    const comment = async (user: TestUser, text: string) =>
      api(user, `/api/tab/issues/${ref}/triage`, {
        method: 'POST',
        body: { kind: 'comment', version: (await detail()).version, comment: text, public: false },
        headers: { 'x-request-id': 'req-reused-1' },
      });
    expect((await comment(USERS.champion, 'Checked the sync log')).status).toBe(200);
    // The champion's retry (the same request id): answered as done, not written twice.
    expect((await comment(USERS.champion, 'Checked the sync log')).status).toBe(200);
    // Someone else's change carrying that id (a hand-made client reusing it) is their own change, and applied.
    expect((await comment(USERS.lead, 'Escalated to the vendor')).status).toBe(200);
    const texts = (await detail()).comments.map((c) => c.text);
    expect(texts.filter((t) => t === 'Checked the sync log')).toHaveLength(1);
    expect(texts).toContain('Escalated to the vendor');
  });

  it('asks for more pulse answers from the position the page before gave, and refuses one it did not give', async () => {
    const path = '/api/tab/pulse/2027-01-11-none/texts?question=q3';
    const forged = await api(USERS.lead, `${path}&after=${encodeURIComponent('not a position')}`);
    expect(forged).toMatchObject({ status: 400, body: { error: 'BadRequest', message: expect.stringContaining('after') } });
    const cursor = Buffer.from(JSON.stringify(['Answer 048', '0123456789abcdef'])).toString('base64url');
    expect((await api(USERS.lead, `${path}&after=${cursor}`)).status).toBe(404); // a position, but no such pulse
  });

  it('answers HEAD like GET without a body, and a method a route does not take with 405 and the methods it does', async () => {
    const head = await fetch(`${app.url}/api/tab/me`, { method: 'HEAD', headers: { 'x-demo-user': USERS.lead.aadObjectId } });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/^application\/json/);
    expect(head.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await head.text()).toBe('');
    expect((await fetch(`${app.url}/api/tab/me`, { method: 'HEAD' })).status).toBe(401);
    // A route of the API asked with a method it does not take: 405 naming those it does, as for any other route.
    for (const [method, path, allow] of [
      ['GET', '/api/tab/figures', 'POST'],
      ['POST', '/api/tab/me', 'GET, HEAD'],
      ['PUT', '/api/tab/me', 'GET, HEAD'],
    ] as const) {
      const res = await fetch(`${app.url}${path}`, { method, headers: { 'x-demo-user': USERS.lead.aadObjectId } });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect(await res.json(), `${method} ${path}`).toMatchObject({ error: 'MethodNotAllowed' });
    }
    expect((await api(USERS.lead, '/api/tab/nothing')).status).toBe(404);
  });

  it('the next page of the board after triaging on this one shows every issue still to see: none skipped', async () => {
    const site = 'Paging Depot';
    const refs: string[] = [];
    for (let i = 0; i < 25; i++) refs.push(await logIssue(USERS.staff, { site }));
    const path = `/api/tab/issues?site=${encodeURIComponent(site)}`;
    const first = await api(USERS.champion, path);
    const shown = first.body.items!.map((i) => i.ref);
    expect(shown).toHaveLength(20);
    // The champion triages three from this page (New → Triaged moves them down the queue), then goes on.
    for (const ref of shown.slice(0, 3)) {
      const { version } = (await api(USERS.champion, `/api/tab/issues/${ref}`)).body;
      expect((await api(USERS.champion, `/api/tab/issues/${ref}/triage`, { method: 'POST', body: { kind: 'status', version, status: 'triaged' } })).status).toBe(200);
    }
    const next = typeof first.body.next === 'string' ? `&after=${encodeURIComponent(first.body.next)}&page=1` : '&page=1';
    const second = (await api(USERS.champion, `${path}${next}`)).body.items!.map((i) => i.ref);
    expect(refs.filter((r) => !shown.includes(r) && !second.includes(r))).toEqual([]);
  });

  it('reads a filter left as spaces (Site or Search typed with a blank) as no filter, not as a 400', async () => {
    const res = await api(USERS.champion, '/api/tab/issues?site=%20%20&category=%20&q=%20');
    expect(res.status).toBe(200);
    expect(res.body.mode).toBe('board');
    expect((await api(USERS.champion, '/api/tab/issues')).body.items).toEqual(res.body.items);
  });

  it('refuses a parameter given twice or a page that is not plain digits with a 400 naming it, rather than picking one', async () => {
    // "status=new&status=closed" used to list the closed issues: the last one silently won.
    for (const path of ['/api/tab/issues?status=new&status=closed', '/api/tab/overview?weeks=52&weeks=2', '/api/tab/questions?days=7&days=90']) {
      const res = await api(USERS.lead, path);
      expect(res, path).toMatchObject({ status: 400, body: { error: 'BadRequest' } });
      expect(String(res.body.message), path).toMatch(/^(status|weeks|days): given more than once/);
    }
    for (const page of ['0x10', '1e3', '1.0', ' 1']) {
      const res = await api(USERS.champion, `/api/tab/issues?page=${encodeURIComponent(page)}`);
      expect(res, page).toMatchObject({ status: 400, body: { message: 'page: must be a whole number from 0 to 1000' } });
    }
    expect((await api(USERS.champion, '/api/tab/issues?page=1')).status).toBe(200);
  });

  it('answers every too-large import with 413 saying how big it is, the limit and what to do, never a dropped connection, and serves the next request', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const big = await fetch(`${app.url}/api/tab/figures/import`, {
        method: 'POST',
        headers: { 'x-demo-user': 'aad-lead', 'content-type': 'application/json' },
        body: JSON.stringify({ csv: 'x'.repeat(1_400_000) }),
      }).then(
        async (res) => `${res.status} ${JSON.stringify(await res.json())}`,
        // What the tab shows then: "The server could not be reached. Check your connection".
        (err: unknown) => `no answer: ${String((err as { cause?: unknown }).cause ?? err)}`,
      );
      outcomes.push(big);
      expect((await api(USERS.lead, '/api/tab/me')).status).toBe(200);
    }
    const said = JSON.stringify({
      error: 'PayloadTooLarge',
      message: 'The file is 1,368 KB; the limit is 1,024 KB: split it into files of at most 10,000 figures, or check that it is the right file.',
    });
    expect(outcomes).toEqual(Array.from({ length: 4 }, () => `413 ${said}`));
    // Another route keeps the usual limit, said in the same way.
    const form = await api(USERS.lead, '/api/tab/figures', { method: 'POST', body: { measure: 'x'.repeat(300_000), date: '2027-01-04', value: 1 } });
    expect(form).toMatchObject({ status: 413, body: { error: 'PayloadTooLarge', message: 'The request is 294 KB; the limit is 256 KB: send less at a time.' } });
  });
});

describe('the tab API’s triage input', () => {
  const post = (ref: string, body: Record<string, unknown>) => api(USERS.champion, `/api/tab/issues/${ref}/triage`, { method: 'POST', body });

  it('answers input that cannot apply with 400 naming the field, not as a conflict, and changes nothing', async () => {
    const ref = await logIssue(USERS.staff);
    await app.settled();
    const before = connector.calls.length;
    for (const [body, field] of [
      [{ kind: 'comment', version: 1, comment: 'x'.repeat(100_000), public: true }, 'comment'],
      [{ kind: 'comment', version: 1, comment: '   ' }, 'comment'],
      [{ kind: 'assign', version: 1, assignee: 'aad-nobody-we-know' }, 'assignee'],
      [{ kind: 'status', version: 1, status: 'sideways' }, 'status'],
      [{ kind: 'priority', version: 1, priority: 'P9' }, 'priority'],
      [{ kind: 'duplicate', version: 1, duplicateOf: ' ' }, 'duplicateOf'],
      // Not an issue reference at all: a typo or a paste, not someone else's change (it was a 409 Conflict).
      [{ kind: 'duplicate', version: 1, duplicateOf: 'hello' }, 'duplicateOf'],
      [{ kind: 'duplicate', version: 1, duplicateOf: 'x'.repeat(10_000) }, 'duplicateOf'],
    ] as const) {
      const res = await post(ref, body);
      expect(res, `${body.kind}: ${JSON.stringify(res.body).slice(0, 200)}`).toMatchObject({ status: 400, body: { error: 'BadRequest', field } });
      expect(String(res.body.message), body.kind).toMatch(new RegExp(`^${field}: `));
    }
    // No version (an old page, a hand-made client): said plainly, not as zod's "expected number, received NaN".
    for (const version of [undefined, null, '', 'abc']) {
      const res = await post(ref, { kind: 'status', status: 'triaged', ...(version === undefined ? {} : { version }) });
      expect(res, String(version)).toMatchObject({ status: 400, body: { error: 'BadRequest', message: 'version is required: reload the issue' } });
    }
    expect(await app.repository.get(ref)).toMatchObject({ version: 1, status: 'new', assignee: null, priority: null, comments: [] });
    await app.settled();
    expect(connector.calls.length, 'nothing sent to Teams for refused input').toBe(before);
    // The same issue still takes a valid change at the version the board showed.
    expect((await post(ref, { kind: 'status', version: 1, status: 'triaged' })).status).toBe(200);
  });
});

describe('the tab API’s issue detail on a long thread', () => {
  type Shown = { id: string; text: string; visibility: string };
  type Detail = { comments: Shown[]; commentCount: number; olderComments: string | null };

  it('returns the newest 50 comments with the count and a cursor to the older ones, for staff their own issue’s public ones only', async () => {
    const ref = await logIssue(h.other);
    // Straight to the log (no notices to send): 120 comments, every other one public.
    let version = 1;
    for (let i = 1; i <= 120; i++) {
      const res = await app.repository.act(ref, { kind: 'comment', text: `Note ${i}`, visibility: i % 2 ? 'internal' : 'public' }, { id: USERS.champion.aadObjectId, name: USERS.champion.name }, { version });
      if (res.kind !== 'updated') throw new Error(res.kind);
      version = res.issue.version;
    }
    const texts = (cs: Shown[]) => cs.map((c) => c.text);
    const notes = (from: number, to: number, step = 1) => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, k) => `Note ${from + k * step}`);

    const first = (await api(USERS.champion, `/api/tab/issues/${ref}`)).body as unknown as Detail;
    expect(first.commentCount).toBe(120);
    expect(texts(first.comments)).toEqual(notes(71, 120));
    expect(first.olderComments).toEqual(expect.any(String));
    // A comment added while the champion reads does not shift the older pages.
    await app.repository.act(ref, { kind: 'comment', text: 'Note 121', visibility: 'internal' }, { id: USERS.champion.aadObjectId, name: USERS.champion.name }, { version });
    const second = (await api(USERS.champion, `/api/tab/issues/${ref}/comments?before=${encodeURIComponent(first.olderComments!)}`)).body as unknown as Detail;
    expect(texts(second.comments)).toEqual(notes(21, 70));
    const third = (await api(USERS.champion, `/api/tab/issues/${ref}/comments?before=${encodeURIComponent(second.olderComments!)}`)).body as unknown as Detail;
    expect(texts(third.comments)).toEqual(notes(1, 20));
    expect(third.olderComments).toBeNull();

    // The reporter: the 60 public ones, newest 50 first; an internal comment's id is no position of theirs.
    const mine = (await api(h.other, `/api/tab/issues/${ref}`)).body as unknown as Detail;
    expect(mine.commentCount).toBe(60);
    expect(texts(mine.comments)).toEqual(notes(22, 120, 2));
    const older = (await api(h.other, `/api/tab/issues/${ref}/comments?before=${encodeURIComponent(mine.olderComments!)}`)).body as unknown as Detail;
    expect(texts(older.comments)).toEqual(notes(2, 20, 2));
    expect(older.comments.every((c) => c.visibility === 'public')).toBe(true);
    const internalId = first.comments.find((c) => c.visibility === 'internal')!.id;
    expect(await api(h.other, `/api/tab/issues/${ref}/comments?before=${internalId}`)).toMatchObject({ status: 400, body: { error: 'BadRequest' } });
    // Another staff member sees none of it.
    expect((await api(USERS.staff, `/api/tab/issues/${ref}/comments`)).status).toBe(404);
    expect((await api(USERS.staff, `/api/tab/issues/${ref}`)).status).toBe(404);
  });
});
