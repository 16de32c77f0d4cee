import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/browser.js';
import { Stack } from './support/stack.js';

let stack: Stack;
let browser: Browser;
beforeAll(async () => {
  stack = await Stack.start();
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('the Agents Playground in Chromium', () => {
  it('shows the bot’s whoami card after the user types whoami', async () => {
    const page = await browser.newPage();
    await page.goto(stack.playground.url);
    const compose = page.getByRole('textbox').first();
    await compose.waitFor({ timeout: 20_000 });
    await compose.fill('whoami');
    await page.getByRole('button', { name: 'Send Message' }).click();
    await page.getByText('Rollout team', { exact: true }).waitFor({ timeout: 15_000 });
    expect(await page.getByText('Alex Wilber').count()).toBeGreaterThan(0);
    if (process.env.SCREENSHOT_DIR)
      await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/playground-whoami.png` });
  }, 60_000);

  it('logs an issue through the form card: fields filled, Send clicked, confirmation shown', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
    await page.goto(stack.playground.url);
    const compose = page.getByRole('textbox').first();
    await compose.waitFor({ timeout: 20_000 });
    await compose.fill('report');
    await page.getByRole('button', { name: 'Send Message' }).click();
    await page.getByLabel('Title').last().waitFor({ timeout: 15_000 });
    await page.getByLabel('Title').last().fill('Cannot open the visit form');
    await page.getByLabel('What happened').last().fill('The app closes when I tap New visit.');
    await page.getByLabel('Where: screen or step').last().fill('Visits > New visit');
    await page.getByLabel('Site or department').last().fill('Oskaya');
    await page.getByText('Slows me down').last().click();
    await page.getByRole('combobox').last().click();
    await page.getByRole('option', { name: 'Data entry' }).click();
    await page.getByRole('button', { name: 'Send', exact: true }).last().click();
    await page.getByText('Thanks, your issue is logged').first().waitFor({ timeout: 15_000 });
    expect(await page.getByText(/R-\d{4}/).count()).toBeGreaterThan(0);
  }, 60_000);
});
