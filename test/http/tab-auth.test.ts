import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp, USERS } from '../support/app.js';
import { LocalEntraKeys } from '../support/entra-tokens.js';

/*
 * The tab's API in authenticated mode: the Teams SSO token is checked on the server against the tenant's
 * keys (served locally, as Entra ID publishes them), for this app, this tenant, and not expired.
 */

const APP_ID = '11111111-1111-1111-1111-111111111111';
const TENANT = '22222222-2222-2222-2222-222222222222';
const OTHER_TENANT = '33333333-3333-3333-3333-333333333333';
let app: App;
let entra: LocalEntraKeys;

beforeAll(async () => {
  entra = await new LocalEntraKeys(TENANT).start();
  ({ app } = await startTestApp({
    MicrosoftAppId: APP_ID,
    MicrosoftAppPassword: 'secret',
    MicrosoftAppTenantId: TENANT,
    MicrosoftAppType: 'SingleTenant',
    PUBLIC_BASE_URL: 'https://desk.example.org',
    TAB_SSO_JWKS_URL: entra.jwksUrl,
  }));
});
afterAll(async () => {
  await app?.stop();
  await entra?.stop();
});

async function me(headers: Record<string, string>) {
  const res = await fetch(`${app.url}/api/tab/me`, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, challenge: res.headers.get('www-authenticate') };
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('Teams SSO tokens on the tab API', () => {
  it('accepts a valid token (v2, or v1 with the manifest’s api:// audience) and maps it to the same role as the bot', async () => {
    const champion = await me(bearer(await entra.token(APP_ID, USERS.champion.aadObjectId)));
    expect(champion.status).toBe(200);
    expect(champion.body).toMatchObject({ role: 'champion', user: { id: 'aad-champ' }, via: 'sso', local: false });
    const v1 = await entra.token(`api://desk.example.org/${APP_ID}`, USERS.lead.aadObjectId, { issuer: `https://sts.windows.net/${TENANT}/` });
    expect((await me(bearer(v1))).body).toMatchObject({ role: 'rolloutTeam' });
  });

  it('refuses an expired token', async () => {
    const res = await me(bearer(await entra.token(APP_ID, 'aad-champ', { expiresInSeconds: -600 })));
    expect(res).toMatchObject({ status: 401, body: { message: 'the token has expired' } });
  });

  it('refuses a token for another app', async () => {
    const res = await me(bearer(await entra.token('99999999-9999-9999-9999-999999999999', 'aad-champ')));
    expect(res).toMatchObject({ status: 401, body: { message: 'the token is not for this app' } });
  });

  it('refuses a token from another tenant, and one whose issuer is not this tenant', async () => {
    const other = await me(bearer(await entra.token(APP_ID, 'aad-champ', { tenantId: OTHER_TENANT })));
    expect(other).toMatchObject({ status: 401, body: { message: 'the token was issued for another tenant' } });
    const issuer = await me(bearer(await entra.token(APP_ID, 'aad-champ', { issuer: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0` })));
    expect(issuer).toMatchObject({ status: 401, body: { message: 'the token was not issued by this tenant' } });
  });

  it('refuses an app-only token (a daemon app of the tenant: roles, no scopes), which names no signed-in person', async () => {
    const appOnly = await entra.token(APP_ID, 'sp-object-id', { claims: { scp: undefined, roles: ['Tab.Read'], idtyp: 'app' } });
    const res = await me(bearer(appOnly));
    expect(res).toMatchObject({ status: 401, body: { message: 'the token is not a signed-in person’s (an app-only token)' } });
    // v1 app-only tokens carry no idtyp: no scp is enough to refuse them.
    const v1 = await entra.token(APP_ID, 'sp-object-id', { claims: { scp: undefined, roles: ['Tab.Read'] } });
    expect((await me(bearer(v1))).status).toBe(401);
    const overview = await fetch(`${app.url}/api/tab/overview`, { headers: bearer(appOnly) });
    expect(overview.status).toBe(401);
  });

  it('refuses a token with a forged signature (signed with another key under the same key id)', async () => {
    const res = await me(bearer(await entra.token(APP_ID, 'aad-lead', { key: 'foreign' })));
    expect(res).toMatchObject({ status: 401, body: { message: 'the token’s signature is not valid' } });
  });

  it('refuses a request without a token, and ignores the local demo header outside local mode', async () => {
    const none = await me({});
    expect(none.status).toBe(401);
    expect(none.challenge).toBe('Bearer');
    expect(none.body).toMatchObject({ local: false });
    expect(none.body).not.toHaveProperty('demoUsers');
    expect((await me({ 'x-demo-user': 'aad-lead' })).status).toBe(401);
    expect((await me(bearer('not.a.token'))).status).toBe(401);
  });
});
