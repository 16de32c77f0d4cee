import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { activity, startTestApp, USERS } from '../support/app.js';
import { LocalTokenService } from '../support/botframework-auth.js';

const APP_ID = '11111111-1111-1111-1111-111111111111';
let app: App;
let tokens: LocalTokenService;

beforeAll(async () => {
  tokens = await new LocalTokenService().start();
  ({ app } = await startTestApp({
    MicrosoftAppId: APP_ID,
    MicrosoftAppPassword: 'secret',
    MicrosoftAppTenantId: '22222222-2222-2222-2222-222222222222',
    MicrosoftAppType: 'SingleTenant',
    BotOpenIdMetadata: tokens.metadataUrl,
  }));
});
afterAll(async () => {
  await app?.stop();
  await tokens?.stop();
});

async function send(authorization: string | undefined) {
  const body = activity(USERS.champion, { text: 'whoami' });
  const res = await fetch(`${app.url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text(), body };
}

describe('authenticated mode with Bot Framework tokens', () => {
  it('handles an activity carrying a valid channel token', async () => {
    const serviceUrl = 'http://127.0.0.1:9/';
    const res = await send(`Bearer ${tokens.token(APP_ID, serviceUrl)}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Champion');
  });

  it('refuses a token for another bot, an expired token and one signed with an unknown key', async () => {
    const serviceUrl = 'http://127.0.0.1:9/';
    expect((await send(`Bearer ${tokens.token('another-bot', serviceUrl)}`)).status).toBe(401);
    expect((await send(`Bearer ${tokens.token(APP_ID, serviceUrl, { expiresInSeconds: -600 })}`)).status).toBe(401);
    expect((await send(`Bearer ${tokens.token(APP_ID, serviceUrl, { key: 'foreign' })}`)).status).toBe(401);
  });
});
