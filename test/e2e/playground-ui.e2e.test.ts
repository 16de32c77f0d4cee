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
});
