import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { activity, startTestApp, USERS } from '../support/app.js';
import { LocalTokenService } from '../support/botframework-auth.js';

const APP_ID = '11111111-1111-1111-1111-111111111111';
const SERVICE_URL = 'https://smba.trafficmanager.net/emea/';
let app: App;
let tokens: LocalTokenService;
let logLines: string[];

/** The real app in authenticated mode, its JSON log kept in memory. */
async function startSecured(metadataUrl: string, lines: string[]): Promise<App> {
  const log = createLogger('info', { write: (line: string) => void lines.push(line) });
  const env = {
    MicrosoftAppId: APP_ID,
    MicrosoftAppPassword: 'secret',
    MicrosoftAppTenantId: '22222222-2222-2222-2222-222222222222',
    MicrosoftAppType: 'SingleTenant',
    BotOpenIdMetadata: metadataUrl,
  };
  return (await startTestApp(env, new ManualClock(), log)).app;
}

beforeAll(async () => {
  tokens = await new LocalTokenService().start();
  logLines = [];
  app = await startSecured(tokens.metadataUrl, logLines);
});
afterAll(async () => {
  await app?.stop();
  await tokens?.stop();
});

let seq = 0;
async function send(target: App, authorization: string | undefined, overrides: Record<string, unknown> = {}) {
  const body = activity(USERS.champion, {
    text: 'whoami',
    serviceUrl: SERVICE_URL,
    id: `auth-${++seq}`,
    conversation: { id: `a:auth-${seq}`, conversationType: 'personal', tenantId: 'tenant-1' },
    ...overrides,
  });
  const res = await fetch(`${target.url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

/** Rows the bot writes for every activity it processes: the conversation it came from and its dedupe claim. */
async function rowsWritten(target: App): Promise<number> {
  let n = 0;
  for (const name of ['Conversations', 'Dedupe']) {
    for await (const _ of (await target.tables.table(name)).listEntities()) n++;
  }
  return n;
}

describe('authenticated mode with Bot Framework tokens', () => {
  it('handles an activity carrying a valid channel token', async () => {
    const before = await rowsWritten(app);
    const res = await send(app, `Bearer ${tokens.token(APP_ID, SERVICE_URL)}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Champion');
    expect(await rowsWritten(app)).toBeGreaterThan(before);
  });

  it('refuses every bad or missing token with 401, and processes nothing', async () => {
    const before = await rowsWritten(app);
    const attempts: Record<string, [string | undefined, Record<string, unknown>?]> = {
      'no token': [undefined],
      'empty bearer': ['Bearer '],
      garbage: ['Bearer not-a-real-token'],
      'not a bearer': [`Basic ${Buffer.from('a:b').toString('base64')}`],
      expired: [`Bearer ${tokens.token(APP_ID, SERVICE_URL, { expiresInSeconds: -600 })}`],
      'not valid yet': [`Bearer ${tokens.token(APP_ID, SERVICE_URL, { notBeforeSeconds: 3600 })}`],
      'another audience': [`Bearer ${tokens.token('another-bot', SERVICE_URL)}`],
      'another issuer': [`Bearer ${tokens.token(APP_ID, SERVICE_URL, { issuer: 'https://evil.example.com' })}`],
      'signed with another key': [`Bearer ${tokens.token(APP_ID, SERVICE_URL, { key: 'foreign' })}`],
      'alg none': [`Bearer ${tokens.forged(APP_ID, SERVICE_URL, 'none')}`],
      'HS256 with the public key': [`Bearer ${tokens.forged(APP_ID, SERVICE_URL, 'hs256-public-key')}`],
      'token for another service URL': [
        `Bearer ${tokens.token(APP_ID, 'https://smba.trafficmanager.net/amer/')}`,
      ],
      'from another channel than the key endorses': [
        `Bearer ${tokens.token(APP_ID, SERVICE_URL)}`,
        { channelId: 'webchat' },
      ],
    };
    for (const [what, [authorization, overrides]] of Object.entries(attempts)) {
      const res = await send(app, authorization, overrides);
      expect(res.status, what).toBe(401);
      expect(JSON.parse(res.text), what).toMatchObject({ error: 'Unauthorized' });
      expect(res.text, what).not.toMatch(/at .*\.js|BEGIN .*KEY/); // no stack trace, no key material
    }
    // Without a serviceUrl the token's serviceurl claim cannot be checked: refused before authentication.
    const noServiceUrl = await send(app, `Bearer ${tokens.token(APP_ID, SERVICE_URL)}`, {
      type: 'invoke',
      name: 'adaptiveCard/action',
      serviceUrl: undefined,
      value: { action: { type: 'Action.Execute', verb: 'issue.mine', data: {} } },
    });
    expect(noServiceUrl.status).toBe(400);
    expect(await rowsWritten(app)).toBe(before);
  });

  it('logs each refusal as one JSON line with its reason', async () => {
    logLines.length = 0;
    await send(app, `Bearer ${tokens.token(APP_ID, SERVICE_URL, { expiresInSeconds: -600 })}`);
    const refusals = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request refused: not authenticated');
    expect(refusals).toHaveLength(1);
    expect(String(refusals[0]!.reason)).toMatch(/expired/i);
    expect(logLines.every((l) => l.trim().split('\n').length === 1)).toBe(true);
  });
});

describe('authenticated mode when tokens cannot be checked', () => {
  it('answers 503 (retry later) when the OpenID metadata is unreachable, logged as one JSON line', async () => {
    const lines: string[] = [];
    // A port nothing listens on: the metadata fetch is refused.
    const unreachable = await startSecured('http://127.0.0.1:9/v1/.well-known/openidconfiguration', lines);
    try {
      const before = await rowsWritten(unreachable);
      const res = await send(unreachable, `Bearer ${tokens.token(APP_ID, SERVICE_URL)}`);
      expect(res.status).toBe(503);
      expect(JSON.parse(res.text)).toMatchObject({ error: 'ServiceUnavailable' });
      expect(res.text).not.toMatch(/at .*\.js/);
      const errors = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ msg: 'cannot check Bot Framework tokens right now' });
      expect(String(errors[0]!.reason)).toMatch(/ECONNREFUSED|unreachable/);
      expect(await rowsWritten(unreachable)).toBe(before);
    } finally {
      await unreachable.stop();
    }
  });
});
