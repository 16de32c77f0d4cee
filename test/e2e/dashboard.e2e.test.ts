import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { PLAYGROUND_USERS } from '../../src/devtools/playground.js';
import type { Caller } from '../../src/issues/service.js';
import { launchChromium } from './support/browser.js';
import { Stack, textOf } from './support/stack.js';

/*
 * The adoption dashboard end to end: the app and the Agents Playground (the Teams client here) on a seeded
 * store, the tab opened in headless Chromium in local mode as a demo user. It sees the charts drawn with
 * the seeded figures, filters the triage board, changes an issue's status, and the issue's triage card in
 * the Playground's channel shows the new status.
 */

const clock = new ManualClock('2027-01-04T08:00:00Z');
let stack: Stack;
let browser: Browser;

const alex = PLAYGROUND_USERS.alex; // rollout team
const staff = (n: number): Caller => ({ person: { id: `aad-staff-${n}`, name: `Staff ${n}` }, reporter: { id: `aad-staff-${n}`, name: `Staff ${n}`, conversationKey: `aad-staff-${n}` }, role: 'staff' });
const champion: Caller = { person: { id: PLAYGROUND_USERS.megan.aadObjectId, name: 'Megan Bowen' }, reporter: { id: PLAYGROUND_USERS.megan.aadObjectId, name: 'Megan Bowen' }, role: 'champion' };

/**
 * Three weeks of a rollout: questions asked (some answered, some rated helpful), issues logged (each
 * triaged an hour later, the first of each week resolved two days later), IMS figures entered.
 */
const SEED = [
  { monday: '2027-01-04', asked: 6, answered: 4, helpful: 2, opened: 3, askers: 4 },
  { monday: '2027-01-11', asked: 10, answered: 8, helpful: 6, opened: 5, askers: 6 },
  { monday: '2027-01-18', asked: 14, answered: 12, helpful: 11, opened: 2, askers: 7 },
];
const CATEGORIES = ['Access / login', 'Sync / offline', 'Data entry'];

async function seed(): Promise<void> {
  let n = 0;
  for (const week of SEED) {
    clock.set(`${week.monday}T09:00:00Z`);
    for (let i = 0; i < week.asked; i++) {
      const who = i % week.askers;
      const asker = { id: `29:s${who}`, aadObjectId: `aad-staff-${who}`, name: `Staff ${who}` };
      const q = await stack.app.questions.record(`Seeded question ${n++} about the monthly report`, asker, { answered: i < week.answered, sectionId: i < week.answered ? 'seeded' : undefined });
      if (i < week.answered) await stack.app.questions.vote(q.id, asker, i < week.helpful);
    }
    for (let i = 0; i < week.opened; i++) {
      const r = await stack.app.issues.report(staff(i), { title: `Seeded issue ${n++}`, description: 'Seeded for the dashboard test.', location: 'Home', category: CATEGORIES[i % 3]!, severity: 'slows', site: 'Marula' }, { requestKey: `seed-${n}`, checkSimilar: false });
      if (r.kind !== 'logged') throw new Error(r.kind);
      clock.advance(3_600_000);
      await stack.app.issues.triage(champion, 'status', { ref: r.issue.ref, version: 1, status: 'triaged' }, `seed-triage-${n}`);
      if (i === 0) {
        clock.advance(2 * 86_400_000);
        await stack.app.issues.triage(champion, 'status', { ref: r.issue.ref, version: 2, status: 'resolved' }, `seed-resolve-${n}`);
        clock.set(`${week.monday}T10:00:00Z`);
      }
    }
  }
  clock.set('2027-01-20T09:00:00Z');
  const lead = { person: { id: PLAYGROUND_USERS.alex.aadObjectId, name: 'Alex Wilber' }, role: 'rolloutTeam' as const };
  const figures = await stack.app.adoption.service.importFigures(
    lead,
    'measure,date,value\nreport-days,2026-12-01,4.6\nreport-days,2027-01-04,4\nreport-days,2027-01-18,3.2\nactive-field-staff,2027-01-18,64\ntotals-matching,2027-01-18,96.5\n',
    'csv',
  );
  if (!figures.ok) throw new Error(figures.message);
  await stack.app.adoption.rollup.run();
}

beforeAll(async () => {
  stack = await Stack.start({}, { clock });
  await seed();
  browser = await launchChromium();
  mkdirSync('test-results', { recursive: true });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The figures a chart's data table shows, by series. */
async function chartFigures(page: Page, id: string): Promise<Record<string, string[]>> {
  return page.evaluate((chartId) => {
    const figure = document.querySelector(`figure[data-chart="${chartId}"]`)!;
    const heads = Array.from(figure.querySelectorAll('thead th')).slice(1).map((th) => th.textContent ?? '');
    const rows = Array.from(figure.querySelectorAll('tbody tr')).map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? ''));
    return Object.fromEntries(heads.map((head, i) => [head, rows.map((r) => r[i] ?? '')]));
  }, id);
}

/** How many pixels of a chart's canvas are painted. */
async function paintedPixels(page: Page, id: string): Promise<number> {
  return page.evaluate((canvasId) => {
    const canvas = document.getElementById(canvasId) as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted++;
    return painted;
  }, id);
}

describe('the adoption dashboard', () => {
  it('shows the seeded figures as charts, and a status changed on the board shows on the triage card in Teams', async () => {
    // The rollout team sets up the triage channel; Alex logs an issue in his chat; its card goes to the channel.
    const team = stack.cfg.teamId;
    let from = stack.messages.length;
    await stack.say(team, alex.id, 'setup triage', true);
    await stack.waitFor((m) => textOf(m).includes('triage channel'), from);
    from = stack.messages.length;
    await stack.say(stack.cfg.personalChatId, alex.id, 'report');
    const form = await stack.waitFor((m) => JSON.stringify(m.message.attachments ?? []).includes('issue.submit'), from);
    from = stack.messages.length;
    const confirmation = await stack.execute(stack.cfg.personalChatId, form.message.messageId, alex.id, 'issue.submit', {
      title: 'Monthly report totals do not add up',
      description: 'The K-05 total is one visit short of the register.',
      location: 'Monthly report, step 3',
      category: 'Reports',
      severity: 'slows',
      site: 'Tembe district',
    });
    const ref = /R-\d{4}/.exec(JSON.stringify(confirmation))?.[0] ?? '';
    const triagePost = await stack.waitFor((m) => m.actionConversationId.startsWith(team) && JSON.stringify(m.message.attachments ?? []).includes(ref), from);

    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.url().startsWith(stack.app.url) && r.status() >= 400 && !r.url().endsWith('/api/tab/me')) failed.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${stack.app.url}/tab/index.html`);
    await page.getByText('You are viewing this dashboard outside Microsoft Teams').waitFor();
    // Local mode: choose a demo user (Megan is a champion).
    await page.getByLabel('Demo user').selectOption(PLAYGROUND_USERS.megan.aadObjectId);
    await page.getByRole('button', { name: 'Open the dashboard' }).click();
    await page.getByRole('tab', { name: 'Overview', selected: true }).waitFor();
    await page.getByText('Megan Bowen · Champion (local demo)').waitFor();
    await page.locator('figure[data-chart="chart-activity"]').waitFor();

    // Active users: each week's askers, plus Megan, who triaged.
    expect(await chartFigures(page, 'chart-activity')).toEqual({ 'Active users': ['5', '7', '8'], 'Questions asked': ['6', '10', '14'] });
    expect(await chartFigures(page, 'chart-issues')).toEqual({ Opened: ['3', '5', '2'], Resolved: ['1', '1', '1'], 'SLA breaches': ['0', '0', '0'] });
    expect(await chartFigures(page, 'chart-answers')).toEqual({ 'Answered %': ['66.7', '80', '85.7'], 'Helpful %': ['50', '75', '91.7'] });
    expect(await chartFigures(page, 'chart-times')).toEqual({ 'Hours to triage': ['1', '1', '1'], 'Days to resolve': ['2', '2', '2'] });
    await expect(page.getByRole('progressbar', { name: 'Progress of Median days to submit the monthly report' }).getAttribute('aria-valuenow')).resolves.toBe('60');
    for (const id of ['chart-activity', 'chart-issues', 'chart-answers', 'chart-open']) expect(await paintedPixels(page, id), id).toBeGreaterThan(500);
    await page.screenshot({ path: 'test-results/dashboard-overview.png', fullPage: true });

    // The triage board, reached by keyboard (arrow keys move between the view tabs): filter by category,
    // open the issue, change its status.
    await page.getByRole('tab', { name: 'Overview' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.getByRole('tab', { name: 'Issues', selected: true }).waitFor();
    await page.getByRole('heading', { name: 'Triage board' }).waitFor();
    await page.getByRole('combobox', { name: 'Category' }).selectOption('Reports');
    await page.getByRole('button', { name: 'Show issues' }).click();
    // The unfiltered list already holds the row: wait for the filtered one to replace it.
    await expect.poll(() => page.locator('table.issues tbody tr').count(), { timeout: 10_000 }).toBe(1);
    await page.locator(`tr[data-ref="${ref}"]`).waitFor();
    await page.getByRole('button', { name: new RegExp(`^Open ${ref}`) }).click();
    await page.getByLabel('New status').selectOption('in_progress');
    from = stack.messages.length;
    await page.getByRole('button', { name: 'Change status' }).click();
    await page.getByText(`${ref}: now In progress.`).waitFor();
    await page.screenshot({ path: 'test-results/dashboard-issues.png', fullPage: true });

    // In Teams (the Playground), the issue's triage card is updated in place with the new status.
    const updated = await stack.waitFor((m) => m.message.messageId === triagePost.message.messageId && textOf(m).includes('In progress'), from);
    expect(textOf(updated)).toContain('Monthly report totals do not add up');
    expect((await stack.app.repository.get(ref))?.status).toBe('in_progress');
    expect(failed).toEqual([]);
  }, 120_000);
});
