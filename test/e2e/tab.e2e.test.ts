import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { ManualClock } from '../../src/clock.js';
import { startTestApp, USERS } from '../support/app.js';
import { launchChromium } from './support/browser.js';
import { openInTeamsHost } from './support/teams-host.js';

let app: App;
let clock: ManualClock;
let browser: Browser;
beforeAll(async () => {
  ({ app, clock } = await startTestApp());
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

describe('the tab in Chromium', () => {
  it('renders the dashboard page and the channel tab’s configuration page, every file served locally', async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    // Only our own files count: teams-js also asks its CDN for a domain list, which this closed network refuses.
    const ours = (url: string) => url.startsWith(app.url);
    page.on('requestfailed', (r) => {
      if (ours(r.url())) failed.push(r.url());
    });
    page.on('response', (r) => {
      if (ours(r.url()) && r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    // The API's 401 to a page that has not chosen a demo user yet is part of the local demo, not a failure.
    const expected = (entry: string) => entry.startsWith('401 ') && entry.endsWith('/api/tab/me');
    await page.goto(`${app.url}/tab/index.html`);
    await page.getByRole('heading', { name: 'Rollout Desk' }).waitFor();
    // The bundle (teams-js, charts, Fluent tokens) ran: outside Teams it says so, and offers the local demo.
    await page.getByText('outside Microsoft Teams').waitFor();
    await page.getByRole('heading', { name: 'Local demo: choose who you are' }).waitFor();
    expect(failed.filter((f) => !expected(f))).toEqual([]);
    await page.goto(`${app.url}/tab/config.html`);
    await page.getByRole('heading', { name: /Add the Rollout Desk dashboard/ }).waitFor();
    await page.getByText('open it from Teams').waitFor();
  });

  it('takes Teams’ dark and high-contrast themes from Fluent’s tokens', async () => {
    const { teamsDarkTheme, teamsHighContrastTheme } = await import('@fluentui/tokens');
    const page = await browser.newPage();
    const background = async (theme: string) => {
      await page.goto(`${app.url}/tab/index.html?theme=${theme}`);
      await page.getByRole('heading', { name: 'Local demo: choose who you are' }).waitFor();
      return page.evaluate(() => ({ theme: document.documentElement.dataset.theme, bg: getComputedStyle(document.body).backgroundColor }));
    };
    const rgb = (hex: string) => `rgb(${[1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;
    expect(await background('dark')).toEqual({ theme: 'dark', bg: rgb(teamsDarkTheme.colorNeutralBackground3) });
    expect(await background('contrast')).toEqual({ theme: 'contrast', bg: rgb(teamsHighContrastTheme.colorNeutralBackground3) });
  });

  it('says so when the API does not answer, or answers with a gateway’s HTML error page, instead of loading for ever', async () => {
    const page = await browser.newPage();
    await page.clock.install();
    await page.route('**/api/tab/overview', () => {}); // never answered
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.lead.aadObjectId}`);
    await page.getByRole('tab', { name: 'Overview', selected: true }).waitFor();
    await page.locator('#view .loading').waitFor();
    await page.clock.fastForward(25_000);
    await page.getByRole('alert').filter({ hasText: 'The server did not answer in time' }).waitFor({ timeout: 5_000 });

    await page.unroute('**/api/tab/overview');
    await page.route('**/api/tab/overview', (r) =>
      r.fulfill({ status: 502, contentType: 'text/html', body: '<!doctype html><html><head><title>502 Bad Gateway</title></head><body><h1>502 - Web server received an invalid response</h1></body></html>' }),
    );
    await page.getByRole('tab', { name: 'Issues' }).click();
    await page.getByRole('tab', { name: 'Overview' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'not answering right now (502)' });
    await alert.waitFor({ timeout: 5_000 });
    expect(await alert.textContent()).not.toContain('<');
  });

  it('the configuration page, framed by a page that is not Teams, says it cannot talk to Teams instead of preparing for ever', async () => {
    const page = await browser.newPage();
    // The page's clock, moved on past its 4 s wait for Teams rather than waited out.
    await page.clock.install();
    // A framing page that does not answer teams-js, on the app's own origin (the only non-Teams origin the CSP lets frame it).
    await page.route(`${app.url}/not-teams.html`, (r) =>
      r.fulfill({ contentType: 'text/html', body: `<!doctype html><iframe title="config" src="${app.url}/tab/config.html" width="800" height="400"></iframe>` }),
    );
    await page.goto(`${app.url}/not-teams.html`);
    const frame = page.frameLocator('iframe[title="config"]');
    await frame.getByText('Preparing…').or(frame.getByText('Could not talk to Teams')).waitFor();
    await page.clock.fastForward(5_000);
    await frame.getByText('Could not talk to Teams').waitFor({ timeout: 10_000 });
  });

  it('runs every view under its Content-Security-Policy without a violation (charts, progress bars, Fluent theme)', async () => {
    // A figure, so the overview draws a measure's progress bar (its width set from the data).
    const figure = await fetch(`${app.url}/api/tab/figures`, {
      method: 'POST',
      headers: { 'x-demo-user': USERS.lead.aadObjectId, 'content-type': 'application/json' },
      body: JSON.stringify({ measure: 'report-days', date: clock.now().toISOString().slice(0, 10), value: 3 }),
    });
    expect(figure.status).toBe(200);
    const page = await browser.newPage();
    await page.addInitScript(() => {
      const w = window as unknown as { refused: string[] };
      w.refused = [];
      document.addEventListener('securitypolicyviolation', (e) => w.refused.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const refused = () => page.evaluate(() => (window as unknown as { refused: string[] }).refused);
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.lead.aadObjectId}#overview`);
    await page.getByRole('heading', { name: 'Measures of success' }).waitFor();
    const widths = await page.locator('.bar').evaluateAll((bars) => bars.map((b) => (b as HTMLElement).style.width));
    expect(widths.length).toBeGreaterThan(0);
    expect(widths.every((w) => /^\d+(\.\d+)?%$/.test(w)), widths.join(' ')).toBe(true);
    for (const view of ['Issues', 'Questions', 'Communications', 'Office hours', 'Pulse']) {
      await page.getByRole('tab', { name: view }).click();
      await page.getByRole('tab', { name: view, selected: true }).waitFor();
      await page.locator('#view .loading').waitFor({ state: 'detached', timeout: 10_000 });
    }
    // teams-js's request for its host list goes to its CDN, which the policy allows (this network refuses it).
    expect((await refused()).filter((r) => !r.includes('res.cdn.office.net'))).toEqual([]);
  });

  it('shows the rollout team whose figure a figure replaced, and imports a file of thousands of figures with its progress and end', async () => {
    const today = clock.now().toISOString().slice(0, 10);
    const enter = (value: number) =>
      fetch(`${app.url}/api/tab/figures`, {
        method: 'POST',
        headers: { 'x-demo-user': USERS.lead.aadObjectId, 'content-type': 'application/json' },
        body: JSON.stringify({ measure: 'totals-matching', date: today, value }),
      });
    expect((await enter(90)).status).toBe(200);
    expect((await enter(93)).status).toBe(200);
    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.lead.aadObjectId}#overview`);
    await page.getByRole('heading', { name: 'Measures of success' }).waitFor();
    // Entered by the demo user (named by their id in local mode).
    await page.getByText(`Replaces 90 % entered by ${USERS.lead.aadObjectId}.`).waitFor();
    // Staff see the figures, not who entered them.
    const staff = await browser.newPage();
    await staff.goto(`${app.url}/tab/index.html?demoUser=${USERS.staff.aadObjectId}#overview`);
    await staff.getByRole('heading', { name: 'Measures of success' }).waitFor();
    expect(await staff.getByText(/Replaces .* entered by/).count()).toBe(0);
    await staff.close();
    // 1,200 figures: more than one transaction, written in batches while the tab follows them.
    const rows = Array.from({ length: 1_200 }, (_, i) => {
      const day = new Date(Date.UTC(2022, 11, 31) - Math.floor(i / 3) * 86_400_000).toISOString().slice(0, 10);
      return `${['report-days', 'active-field-staff', 'totals-matching'][i % 3]},${day},${i % 40}`;
    });
    await page.locator('input[name="csv"]').setInputFiles({ name: 'export.csv', mimeType: 'text/csv', buffer: Buffer.from(['measure,date,value', ...rows].join('\n')) });
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByText('Imported 1,200 figures, replaced none.').waitFor({ timeout: 30_000 });
    await page.close();
  });

  it('shows a figure under 1 as the cards and the digest do (0.25 days, 0.04 %), not rounded to one decimal', async () => {
    const today = clock.now().toISOString().slice(0, 10);
    const enter = (measure: string, value: number) =>
      fetch(`${app.url}/api/tab/figures`, {
        method: 'POST',
        headers: { 'x-demo-user': USERS.lead.aadObjectId, 'content-type': 'application/json' },
        body: JSON.stringify({ measure, date: today, value }),
      });
    expect((await enter('report-days', 0.25)).status).toBe(200);
    expect((await enter('active-field-staff', 0.04)).status).toBe(200);
    const page = await browser.newPage({ locale: 'en-US' });
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.lead.aadObjectId}#overview`);
    await page.getByRole('heading', { name: 'Measures of success' }).waitFor();
    const latest = async (name: string) => (await page.locator('article.measure', { has: page.getByRole('heading', { name }) }).locator('p.latest').textContent()) ?? '';
    expect(await latest('Median days to submit the monthly report')).toMatch(/^Latest: 0\.25 days /);
    expect(await latest('Field staff active in FieldLedger')).toMatch(/^Latest: 0\.04 % /);
    await page.close();
  });

  it('reads a figure typed with the reader\'s decimal comma (a phone\'s decimal keypad in French has no point) as they mean it', async () => {
    const page = await browser.newPage({ locale: 'fr-FR' });
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.lead.aadObjectId}#overview`);
    const form = page.locator('form.figure-form').first();
    await form.locator('select[name="measure"]').selectOption('report-days');
    await form.locator('input[name="date"]').fill(clock.now().toISOString().slice(0, 10));
    await form.locator('input[name="value"]').fill('1,75');
    await form.getByRole('button').click();
    await page.getByText('Figure saved.').waitFor();
    const overview = await (await fetch(`${app.url}/api/tab/overview`, { headers: { 'x-demo-user': USERS.lead.aadObjectId } })).json() as { measures: { id: string; latest: { value: number } | null }[] };
    expect(overview.measures.find((m) => m.id === 'report-days')?.latest?.value).toBe(1.75);
    await page.close();
  });

  it('refuses a figure a German reader groups with a point ("1.234" is 1234), saying how to write it, and saves "2,5" as 2.5', async () => {
    const page = await browser.newPage({ locale: 'de-DE' });
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.lead.aadObjectId}#overview`);
    const form = page.locator('form.figure-form').first();
    const latest = async () => {
      const overview = await (await fetch(`${app.url}/api/tab/overview`, { headers: { 'x-demo-user': USERS.lead.aadObjectId } })).json() as { measures: { id: string; latest: { value: number } | null }[] };
      return overview.measures.find((m) => m.id === 'active-field-staff')?.latest?.value;
    };
    const before = await latest();
    await form.locator('select[name="measure"]').selectOption('active-field-staff');
    await form.locator('input[name="date"]').fill(clock.now().toISOString().slice(0, 10));
    await form.locator('input[name="value"]').fill('1.234');
    await form.getByRole('button').click();
    await page.getByText(/could be read two ways.*write 1234 or 1234,5/).waitFor();
    expect(await latest()).toBe(before);
    await form.locator('input[name="value"]').fill('2,5');
    await form.getByRole('button').click();
    await page.getByText('Figure saved.').waitFor();
    expect(await latest()).toBe(2.5);
    await page.close();
  });

  it('dates a figure entered on the tab by the reader\'s own day, not UTC\'s: the evening in Bogotá, after midnight in Nairobi', async () => {
    const dateField = async (timezoneId: string, at: string) => {
      const page = await browser.newPage({ timezoneId });
      await page.clock.setFixedTime(new Date(at));
      await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.lead.aadObjectId}#overview`);
      const input = page.locator('form.figure-form input[name="date"]');
      await input.waitFor();
      const out = { value: await input.inputValue(), max: await input.getAttribute('max') };
      await page.close();
      return out;
    };
    // 21:00 on 11 Jan in Bogotá (UTC−5) is already 12 Jan in UTC: tomorrow there.
    expect(await dateField('America/Bogota', '2027-01-12T02:00:00Z')).toEqual({ value: '2027-01-11', max: '2027-01-11' });
    // 01:30 on 12 Jan in Nairobi (UTC+3) is still 11 Jan in UTC: today there could not be picked.
    expect(await dateField('Africa/Nairobi', '2027-01-11T22:30:00Z')).toEqual({ value: '2027-01-12', max: '2027-01-12' });
  });

  it('cannot be framed by a page of another origin that is not Teams or Microsoft 365', async () => {
    // A real page of another origin on this machine (a routed one counts as public, refused for another reason).
    const host = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><iframe title="tab" src="${app.url}/tab/index.html" width="800" height="400"></iframe>`);
    });
    await new Promise<void>((r) => host.listen(0, '127.0.0.1', () => r()));
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(host.address() as AddressInfo).port}/`);
      // The browser refuses to show the tab there: Chromium puts its error page in the frame instead.
      const framed = () => page.frames().filter((f) => f !== page.mainFrame()).map((f) => f.url());
      await expect.poll(framed, { timeout: 5_000 }).toEqual(['chrome-error://chromewebdata/']);
    } finally {
      host.close();
    }
  });

  it('wraps a long unbroken title and site name on the board, in the issue and in staff’s list, never widening the page', async () => {
    const reporter = { person: { id: USERS.staff.aadObjectId, name: USERS.staff.name }, reporter: { id: USERS.staff.aadObjectId, name: USERS.staff.name, conversationKey: USERS.staff.aadObjectId }, role: 'staff' as const };
    const long = { title: 'W'.repeat(120), description: 'D'.repeat(400), location: 'L'.repeat(80), category: 'Reports', severity: 'slows', site: 'S'.repeat(80) };
    const logged = await app.issues.report(reporter, long, { requestKey: 'long-words', checkSimilar: false });
    if (logged.kind !== 'logged') throw new Error(logged.kind);
    const page = await browser.newPage({ viewport: { width: 800, height: 900 } });
    const pageWidth = () => page.evaluate(() => document.documentElement.scrollWidth);
    for (const user of [USERS.champion, USERS.staff]) {
      await page.goto(`${app.url}/tab/index.html?demoUser=${user.aadObjectId}#issues`);
      await page.locator(`tr[data-ref="${logged.issue.ref}"]`).waitFor();
      expect(await pageWidth(), `${user.name}: the list`).toBeLessThanOrEqual(800);
      // The short columns break only between words (at a space or a hyphen), never inside one.
      const broken = await page.locator(`tr[data-ref="${logged.issue.ref}"]`).evaluate((tr) =>
        ['th button', 'td.status', 'td:last-child'].flatMap((cell) => {
          const el = tr.querySelector(cell)!;
          const range = document.createRange();
          range.selectNodeContents(el);
          const lines = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top))).size;
          const words = (el.textContent ?? '').split(/\s+|(?<=-)/).filter(Boolean).length;
          return lines > words ? [`${el.textContent} on ${lines} lines`] : [];
        }),
      );
      expect(broken, `${user.name}: short columns broken inside a word`).toEqual([]);
      await page.getByRole('button', { name: new RegExp(`^Open ${logged.issue.ref}`) }).click();
      await page.getByRole('heading', { name: new RegExp(`^${logged.issue.ref} W+$`) }).waitFor();
      expect(await pageWidth(), `${user.name}: the issue`).toBeLessThanOrEqual(800);
    }
  });

  it('shows an issue’s newest 50 comments, and the older ones on "Show older comments"', async () => {
    const reporter = { person: { id: USERS.staff.aadObjectId, name: USERS.staff.name }, reporter: { id: USERS.staff.aadObjectId, name: USERS.staff.name, conversationKey: USERS.staff.aadObjectId }, role: 'staff' as const };
    const logged = await app.issues.report(reporter, { title: 'Long thread', description: 'Many notes.', location: 'Sync', category: 'Reports', severity: 'slows', site: 'Thread' }, { requestKey: 'long-thread', checkSimilar: false });
    if (logged.kind !== 'logged') throw new Error(logged.kind);
    const ref = logged.issue.ref;
    let version = logged.issue.version;
    for (let i = 1; i <= 60; i++) {
      const res = await app.repository.act(ref, { kind: 'comment', text: `Note ${i}`, visibility: 'internal' }, { id: USERS.champion.aadObjectId, name: USERS.champion.name }, { version });
      if (res.kind !== 'updated') throw new Error(res.kind);
      version = res.issue.version;
    }
    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.champion.aadObjectId}#issues`);
    await page.getByRole('button', { name: new RegExp(`^Open ${ref}`) }).click();
    const items = page.locator('.detail ul.comments li');
    await page.getByRole('heading', { name: 'Comments (newest 50 of 60)' }).waitFor();
    expect(await items.count()).toBe(50);
    expect(await items.first().textContent()).toMatch(/Note 11$/);
    await page.getByRole('button', { name: 'Show older comments' }).click();
    await page.getByRole('heading', { name: 'Comments (60)' }).waitFor();
    expect(await items.count()).toBe(60);
    expect(await items.first().textContent()).toMatch(/Note 1$/);
    expect(await items.last().textContent()).toMatch(/Note 60$/);
    expect(await page.getByRole('button', { name: 'Show older comments' }).isVisible()).toBe(false);
    await page.close();
  });

  it('shows when an issue was logged in the reader’s time zone, in the list as in the issue', async () => {
    // 20:00 UTC on 11 January is 09:00 on 12 January in Auckland.
    clock.set('2027-01-11T20:00:00Z');
    const reporter = { person: { id: USERS.staff.aadObjectId, name: USERS.staff.name }, reporter: { id: USERS.staff.aadObjectId, name: USERS.staff.name, conversationKey: USERS.staff.aadObjectId }, role: 'staff' as const };
    const logged = await app.issues.report(reporter, { title: 'Sync stops overnight', description: 'Nothing syncs after midnight.', location: 'Sync', category: 'Reports', severity: 'slows', site: 'Tembe' }, { requestKey: 'time-zone', checkSimilar: false });
    if (logged.kind !== 'logged') throw new Error(logged.kind);
    const context = await browser.newContext({ timezoneId: 'Pacific/Auckland', locale: 'en-GB' });
    const page = await context.newPage();
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.champion.aadObjectId}#issues`);
    const row = page.locator(`tr[data-ref="${logged.issue.ref}"]`);
    await row.waitFor();
    expect(await row.locator('td').last().textContent()).toBe('12 Jan 2027');
    await page.getByRole('button', { name: new RegExp(`^Open ${logged.issue.ref}`) }).click();
    await expect.poll(() => page.locator('.detail dd').filter({ hasText: '2027' }).textContent()).toMatch(/^12 Jan 2027, 09:00/);
    await context.close();
  });

  it('says so when a filter of the board or another period of the questions cannot be loaded', async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.champion.aadObjectId}#issues`);
    await page.locator('.results nav.pager').waitFor();
    const failing = (path: string) => (url: URL) => url.pathname === path;
    const unavailable = { status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'InternalError', message: 'the request could not be handled' }) };
    await page.route(failing('/api/tab/issues'), (r) => r.fulfill(unavailable));
    await page.getByRole('button', { name: 'Show issues' }).click();
    await page.locator('.results').getByRole('alert').filter({ hasText: 'the request could not be handled' }).waitFor({ timeout: 5_000 });

    await page.getByRole('tab', { name: 'Questions' }).click();
    await page.getByRole('heading', { name: 'Questions' }).waitFor();
    await page.route(failing('/api/tab/questions'), (r) => r.fulfill(unavailable));
    await page.getByLabel('Period').selectOption('7');
    await page.getByRole('status').filter({ hasText: 'the request could not be handled' }).waitFor({ timeout: 5_000 });
    // The picker names the period still shown.
    expect(await page.getByLabel('Period').inputValue()).toBe('30');
  });

  it('mid-session, a sign-in no longer accepted says to sign in again, and storage not answering says so, each with a Try again that loads the view', async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.champion.aadObjectId}#overview`);
    await page.getByRole('tab', { name: 'Overview', selected: true }).waitFor();
    const champions = (url: URL) => url.pathname === '/api/tab/champions';
    const issues = (url: URL) => url.pathname === '/api/tab/issues';
    // The token expired while the page was open: the server refuses the next call.
    const expired = { status: 401, contentType: 'application/json', body: JSON.stringify({ error: 'Unauthorized', message: 'the token has expired', local: false }) };
    await page.route(champions, (r) => r.fulfill(expired));
    await page.getByRole('tab', { name: 'Issues' }).click();
    const signIn = page.locator('#view').getByRole('alert');
    await signIn.filter({ hasText: 'sign in again' }).waitFor({ timeout: 5_000 });
    expect(await signIn.textContent()).toContain('the token has expired');
    await page.unroute(champions);
    await page.locator('#view').getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('heading', { name: 'Triage board' }).waitFor({ timeout: 5_000 });
    await page.locator('.results nav.pager').waitFor({ timeout: 5_000 });

    // Storage stops answering: the list says so, and trying again once it is back shows the board.
    const down = { status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'StorageUnavailable', message: 'Storage is not answering right now. Try again in a moment.' }) };
    await page.route(issues, (r) => r.fulfill(down));
    await page.getByRole('button', { name: 'Show issues' }).click();
    await page.locator('.results').getByRole('alert').filter({ hasText: 'Storage is not answering' }).waitFor({ timeout: 5_000 });
    await page.unroute(issues);
    await page.locator('.results').getByRole('button', { name: 'Try again' }).click();
    await page.locator('.results nav.pager').waitFor({ timeout: 5_000 });
    expect(await page.locator('.results').getByRole('alert').count()).toBe(0);
  });

  it('shows the issues of the filter last chosen, even when the list asked for before it answers later', async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.champion.aadObjectId}#issues`);
    await page.locator('.results nav.pager').waitFor();
    // The open board (no status chosen) answers slowly; the done issues at once.
    const openBoard = (url: URL) => url.pathname === '/api/tab/issues' && !url.searchParams.has('status');
    await page.route(openBoard, async (r) => {
      await new Promise((done) => setTimeout(done, 1_500));
      await r.continue();
    });
    const late = page.waitForResponse((r) => openBoard(new URL(r.url())));
    await page.getByRole('button', { name: 'Show issues' }).click();
    await page.getByLabel('Status').selectOption('closed');
    await page.getByRole('button', { name: 'Show issues' }).click();
    await late;
    await page.waitForTimeout(300);
    // The done list has no "Issues 1–20" count; the open board's late answer must not replace it.
    expect(await page.locator('.results nav.pager span').count()).toBe(0);
    expect(await page.locator('.results caption').filter({ hasText: 'Open issues' }).count()).toBe(0);
  });

  it('says there is no office hours session yet rather than showing an empty table', async () => {
    clock.set('2020-01-06T09:00:00Z'); // before the sample's first session
    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.champion.aadObjectId}#officehours`);
    await page.getByRole('heading', { name: 'Office hours' }).waitFor();
    await page.getByText('No office hours session in this period.').waitFor({ timeout: 5_000 });
    expect(await page.locator('table', { has: page.locator('caption', { hasText: /^Sessions$/ }) }).count()).toBe(0);
  });

  it('shows a session still to come as upcoming, and one held but not marked as such, not "0 attended"; the attended share is over the sessions marked', async () => {
    // The sample's office hours: Tuesdays and Thursdays 14:00–15:30 in Lusaka (12:00–13:30 UTC).
    const person = (id: string, role: 'staff' | 'champion' = 'staff') => ({ person: { id, name: id }, role, keys: [id], zone: 'Africa/Lusaka', zoneKnown: true });
    clock.set('2026-12-29T09:00:00Z'); // one booked the week before, whose host never marked attendance
    expect((await app.officeHours.book(person('aad-oh-cara'), 'office-hours|2026-12-29T14:00', '')).kind).toBe('booked');
    clock.set('2027-01-05T09:00:00Z');
    const tuesday = 'office-hours|2027-01-05T14:00';
    const thursday = 'office-hours|2027-01-07T14:00';
    for (const [who, occ] of [['aad-oh-ann', tuesday], ['aad-oh-ben', tuesday], ['aad-oh-ann', thursday]] as const) {
      expect((await app.officeHours.book(person(who), occ, '')).kind).toBe('booked');
    }
    clock.set('2027-01-05T14:00:00Z'); // Tuesday's is over: Ann came, Ben did not; Thursday's is to come
    expect((await app.officeHours.markAttendance(person('aad-oh-host', 'champion'), tuesday, ['aad-oh-ann'])).kind).toBe('agenda');

    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.champion.aadObjectId}#officehours`);
    await page.getByRole('heading', { name: 'Office hours' }).waitFor();
    const sessions = page.locator('table', { has: page.locator('caption', { hasText: /^Sessions$/ }) });
    await sessions.waitFor({ timeout: 5_000 });
    // The date as the browser's locale writes it ("5 Jan 2027" or "Jan 5, 2027").
    const cells = async (day: number) => (await sessions.locator('tbody tr').filter({ hasText: 'FieldLedger office hours' }).filter({ hasText: new RegExp(`\\b${day} (Jan|Dec)|(Jan|Dec) ${day}\\b`) }).locator('td').allTextContents()).slice(-2);
    expect(await cells(5)).toEqual(['2', '1']); // booked, attended
    expect(await cells(7)).toEqual(['1', 'Upcoming']);
    expect(await cells(29)).toEqual(['1', 'Not marked yet']);
    const fact = async (term: string) => (await page.locator('dl.facts div', { has: page.locator('dt', { hasText: term }) }).locator('dd').textContent())?.replace(/\s/g, ' ');
    expect(await fact('Attended')).toBe('1 of 2 booked (50 %)');
    expect(await fact('to come')).toBe('1');
    expect(await fact('not marked')).toBe('1 session held');
  });

  it('charts a week with no activity in the backfilled history: 0 for counts, no figure for shares', async () => {
    // Questions in the weeks of 1 and 15 March, none in the week of 8 March; the first roll-up (its backfill) then.
    for (const day of ['2027-03-02', '2027-03-16']) {
      clock.set(`${day}T09:00:00Z`);
      await app.questions.record(`Where is the K-05 form (${day})?`, { id: '29:trend', aadObjectId: 'aad-trend', name: 'Tess Trend' }, { answered: true, sectionId: 'k05' });
    }
    await app.adoption.rollup.run();
    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.champion.aadObjectId}#overview`);
    const figures = page.locator('figure[data-chart="chart-activity"]');
    await figures.waitFor();
    // A week's row of a chart's data table, its label as the browser's locale writes it ("8 Mar" or "Mar 8").
    // The week under way (the clock is on 16 March) is labelled as partial: "15 Mar (so far)".
    const row = async (chart: string, day: number, soFar = false) =>
      page.locator(`figure[data-chart="${chart}"] tbody tr`, { has: page.locator('th', { hasText: new RegExp(`^(${day} Mar|Mar ${day})${soFar ? ' \\(so far\\)' : ''}$`) }) }).locator('td').allTextContents();
    expect(await row('chart-activity', 1)).toEqual(['1', '1']);
    expect(await row('chart-activity', 8)).toEqual(['0', '0']); // active users, questions asked
    expect(await row('chart-activity', 15, true)).toEqual(['1', '1']);
    expect(await row('chart-answers', 8)).toEqual(['—', '—']); // no questions: no share, not 0 %
    expect(await row('chart-answers', 15, true)).toEqual(['100', '—']);
    const weeks = await page.locator('figure[data-chart="chart-activity"] tbody th').allTextContents();
    expect(weeks.filter((w) => w.endsWith('(so far)'))).toEqual([weeks.at(-1)]);
    expect(await page.locator('#chart-activity').getAttribute('aria-label')).toMatch(/Latest week, (15 Mar|Mar 15) \(so far\): Active users 1, Questions asked 1\.$/);
    // And the line is broken there: no stroke of the series' colour half-way between the two weeks' points.
    const crossing = await page.evaluate(() => {
      const canvas = document.getElementById('chart-answers') as HTMLCanvasElement;
      const { width, height } = canvas;
      const px = canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
      // The series' colour is saturated; axes, grid and text are greys.
      const coloured = (x: number, y: number) => {
        const i = 4 * (y * width + x);
        return px[i + 3]! > 100 && Math.max(px[i]!, px[i + 1]!, px[i + 2]!) - Math.min(px[i]!, px[i + 1]!, px[i + 2]!) > 60;
      };
      // The topmost coloured pixel is on the 100 % level (the legend is at the bottom); the two points there are
      // its band's leftmost and rightmost coloured pixels.
      let top = -1;
      for (let y = 0; y < height && top < 0; y++) for (let x = 0; x < width; x++) if (coloured(x, y)) { top = y; break; }
      const band = Array.from({ length: 13 }, (_, i) => top + i).filter((y) => y < height);
      const xs = band.flatMap((y) => Array.from({ length: width }, (_, x) => x).filter((x) => coloured(x, y)));
      const [left, right] = [Math.min(...xs), Math.max(...xs)];
      const middle = Math.round((left + right) / 2);
      const across = band.filter((y) => [-2, -1, 0, 1, 2].some((d) => coloured(middle + d, y))).length;
      return { top, span: right - left, across };
    });
    expect(crossing.top).toBeGreaterThanOrEqual(0);
    expect(crossing.span).toBeGreaterThan(50);
    expect(crossing.across).toBe(0);
  });

  it('follows a link to another view of the page (#issues)', async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.champion.aadObjectId}#overview`);
    await page.getByRole('tab', { name: 'Overview', selected: true }).waitFor();
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.champion.aadObjectId}#issues`);
    await page.getByRole('tab', { name: 'Issues', selected: true }).waitFor({ timeout: 5_000 });
    await page.getByRole('heading', { name: 'Triage board' }).waitFor();
  });

  it('moves through the view tabs with the arrow keys, the focus staying on the chosen tab', async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.champion.aadObjectId}#overview`);
    await page.getByRole('tab', { name: 'Overview', selected: true }).focus();
    await page.keyboard.press('ArrowRight');
    await page.getByRole('tab', { name: 'Issues', selected: true }).waitFor();
    await page.keyboard.press('ArrowRight');
    await page.getByRole('tab', { name: 'Questions', selected: true }).waitFor({ timeout: 5_000 });
    await page.keyboard.press('Home');
    await page.getByRole('tab', { name: 'Overview', selected: true }).waitFor({ timeout: 5_000 });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tab-overview');
  });

  it('shows the view last chosen, even when the one chosen before it answers later', async () => {
    const page = await browser.newPage();
    await page.route('**/api/tab/overview', async (r) => {
      await new Promise((done) => setTimeout(done, 1_500));
      await r.continue();
    });
    const late = page.waitForResponse('**/api/tab/overview');
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.champion.aadObjectId}#overview`);
    await page.getByRole('tab', { name: 'Overview', selected: true }).waitFor();
    await page.getByRole('tab', { name: 'Issues' }).click();
    await page.getByRole('heading', { name: 'Triage board' }).waitFor();
    await late;
    await page.waitForTimeout(300);
    expect(await page.getByRole('heading', { name: 'Measures of success' }).count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Triage board' }).count()).toBe(1);
  });

  it('refuses a CSV file over the import’s 1 MB with its size, the limit and what to do, before sending it', async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.lead.aadObjectId}#overview`);
    const sent: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/tab/figures/import')) sent.push(r.url());
    });
    await page.locator('input[name="csv"]').setInputFiles({ name: 'figures.csv', mimeType: 'text/csv', buffer: Buffer.from(`measure,date,value\n${'report-days,2027-01-04,4\n'.repeat(50_000)}`) });
    await page.getByRole('button', { name: 'Import' }).click();
    const status = page.getByRole('status');
    await status.filter({ hasText: 'The file is 1,221 KB; the limit is 1,024 KB: split it into files of at most 10,000 figures, or check that it is the right file.' }).waitFor({ timeout: 5_000 });
    expect(sent).toEqual([]);
  });

  it('shows on the Issues view the issues opened and resolved in the charted weeks by category, site and priority, with the figures as a table', async () => {
    const reporter = { person: { id: USERS.staff.aadObjectId, name: USERS.staff.name }, reporter: { id: USERS.staff.aadObjectId, name: USERS.staff.name, conversationKey: USERS.staff.aadObjectId }, role: 'staff' as const };
    const champion = { person: { id: USERS.champion.aadObjectId, name: USERS.champion.name }, reporter: { id: USERS.champion.aadObjectId, name: USERS.champion.name }, role: 'champion' as const };
    clock.set('2027-09-06T09:00:00Z'); // a week of its own, long after the other tests' issues
    const refs: string[] = [];
    for (const [i, category] of ['Access / login', 'Access / login', 'Access / login', 'Reports'].entries()) {
      const r = await app.issues.report(reporter, { title: `Cannot sign in ${i}`, description: 'Locked out.', location: 'Login', category, severity: 'slows', site: 'Kasama' }, { requestKey: `flow-${i}`, checkSimilar: false });
      if (r.kind !== 'logged') throw new Error(r.kind);
      refs.push(r.issue.ref);
    }
    clock.advance(3_600_000);
    expect((await app.issues.triage(champion, 'status', { ref: refs[0]!, version: 1, status: 'resolved' }, 'flow-resolve')).kind).not.toBe('message');
    await app.adoption.rollup.run();

    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/index.html?demoUser=${USERS.champion.aadObjectId}#issues`);
    await page.getByRole('heading', { name: 'Opened and resolved, by category, site and priority' }).waitFor();
    const row = (chart: string, name: string) =>
      page.locator(`figure[data-chart="${chart}"] tbody tr`, { has: page.locator('th', { hasText: new RegExp(`^${name}$`) }) }).locator('td').allTextContents();
    expect(await row('chart-flow-category', 'Access / login')).toEqual(['3', '1']); // opened, resolved
    expect(await row('chart-flow-category', 'Reports')).toEqual(['1', '0']);
    expect(await row('chart-flow-site', 'Kasama')).toEqual(['4', '1']);
    // The chart itself says it to a screen reader.
    expect(await page.locator('#chart-flow-category').getAttribute('aria-label')).toContain('Access / login: opened 3, resolved 1');
  });

  it('serves only the tab’s own files', async () => {
    expect((await fetch(`${app.url}/tab/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${app.url}/tab/nothing.html`)).status).toBe(404);
  });
});

describe('the tab in Chromium, with Teams sign-in (an Entra app set up)', () => {
  let sso: App;
  beforeAll(async () => {
    ({ app: sso } = await startTestApp({
      MicrosoftAppId: '11111111-1111-1111-1111-111111111111',
      MicrosoftAppPassword: 'secret',
      MicrosoftAppTenantId: '22222222-2222-2222-2222-222222222222',
      MicrosoftAppType: 'SingleTenant',
      PUBLIC_BASE_URL: 'https://desk.example.org',
    }));
  }, 60_000);
  afterAll(async () => {
    await sso?.stop();
  });

  it('opened in a plain browser (the digest’s link), says to open it in Teams, not how the API wants its token', async () => {
    const page = await browser.newPage();
    await page.goto(`${sso.url}/tab/index.html`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('Open it from the Rollout Desk app in Teams');
    expect(await alert.textContent()).not.toMatch(/Bearer|token/);
  });

  it('inside Teams, a sign-in Teams refuses (consent needed) is shown as a sign-in failure with Teams’ reason', async () => {
    const page = await browser.newPage();
    const tab = await openInTeamsHost(page, sso.url, '/tab/index.html', { token: { ok: false, reason: 'resourceRequiresConsent' } });
    const alert = tab.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('Teams could not sign you in (resourceRequiresConsent)');
    expect(await alert.textContent()).not.toContain('Open the dashboard from the Rollout Desk app');
  });

  it('inside a Teams client that never gives its context, says Teams did not answer instead of loading for ever', async () => {
    const page = await browser.newPage();
    await page.clock.install(); // moved on past the tab's 4 s wait for Teams rather than waited out
    const tab = await openInTeamsHost(page, sso.url, '/tab/index.html', { context: false });
    await tab.locator('main .loading').waitFor();
    await page.clock.fastForward(5_000);
    await tab.getByRole('alert').filter({ hasText: 'Microsoft Teams did not answer' }).waitFor({ timeout: 10_000 });
    expect(await tab.locator('#where').textContent()).toContain('Microsoft Teams did not answer');
  });

  it('inside Teams, a sign-in token that never comes is a sign-in failure, not a server that did not answer', async () => {
    const page = await browser.newPage();
    await page.clock.install();
    const tab = await openInTeamsHost(page, sso.url, '/tab/index.html', {}); // getAuthToken never answered
    await tab.locator('main .loading').waitFor();
    await page.clock.fastForward(25_000);
    const alert = tab.getByRole('alert');
    await alert.waitFor({ timeout: 5_000 });
    expect(await alert.textContent()).toContain('Sign-in failed: Teams did not give a sign-in token in time');
  });
});
