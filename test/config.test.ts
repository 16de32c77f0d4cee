import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { claimParts } from '../src/outbound/worker.js';

describe('loadConfig', () => {
  it('runs locally with no settings at all: embedded Azurite under .data, unauthenticated', () => {
    const c = loadConfig({}, { cwd: '/srv/app' });
    expect(c.auth.kind).toBe('local');
    expect(c.storage).toEqual({ kind: 'azurite', dataDir: '/srv/app/.data' });
    expect(c.env.PORT).toBe(3978);
    expect(c.env.ISSUE_CATEGORIES).toContain('Sync / offline');
  });

  it('uses a Storage account when a connection string is set, and memory with --in-memory', () => {
    expect(loadConfig({ AZURE_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' }).storage.kind).toBe(
      'account',
    );
    expect(loadConfig({}, { inMemory: true }).storage).toEqual({ kind: 'azurite' });
  });

  it('names the variable when a value is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ GUIDANCE_BASE_URL: 'not a url' })).toThrow(/GUIDANCE_BASE_URL/);
    expect(() => loadConfig({ HEAP_GROWING_PERCENT: '1000' })).toThrow(/HEAP_GROWING_PERCENT/);
  });

  it('holds scheduled jobs for a minute unless told otherwise, and names SCHEDULER_LEASE_SECONDS out of 5-3600 or not whole', () => {
    expect(loadConfig({}).env.SCHEDULER_LEASE_SECONDS).toBe(60);
    expect(loadConfig({ SCHEDULER_LEASE_SECONDS: '5' }).env.SCHEDULER_LEASE_SECONDS).toBe(5);
    for (const bad of ['4', '3601', '90.5', 'abc']) expect(() => loadConfig({ SCHEDULER_LEASE_SECONDS: bad })).toThrow(/SCHEDULER_LEASE_SECONDS/);
  });

  it('claims a message being sent for 39 s unless told otherwise (15 s for Teams, 15 s to record); a shorter claim never gives Teams less than 15 s; names OUTBOUND_CLAIM_SECONDS out of 27-300', () => {
    expect(claimParts(loadConfig({}).env.OUTBOUND_CLAIM_SECONDS * 1_000)).toEqual({ sendTimeoutMs: 15_000, recordMarginMs: 15_000 });
    // At the least claim a slow Teams (createConversation often takes 2–5 s) still answers in time: no second POST.
    expect(claimParts(loadConfig({ OUTBOUND_CLAIM_SECONDS: '27' }).env.OUTBOUND_CLAIM_SECONDS * 1_000)).toEqual({ sendTimeoutMs: 15_000, recordMarginMs: 3_000 });
    expect(claimParts(loadConfig({ OUTBOUND_CLAIM_SECONDS: '60' }).env.OUTBOUND_CLAIM_SECONDS * 1_000)).toEqual({ sendTimeoutMs: 15_000, recordMarginMs: 36_000 });
    for (const bad of ['15', '26', '301', '20.5']) expect(() => loadConfig({ OUTBOUND_CLAIM_SECONDS: bad })).toThrow(/OUTBOUND_CLAIM_SECONDS/);
  });

  it('takes extra hosts allowed to frame the tab, and names TAB_FRAME_ANCESTORS when one is not a host', () => {
    expect(loadConfig({}).env.TAB_FRAME_ANCESTORS).toEqual([]);
    expect(loadConfig({ TAB_FRAME_ANCESTORS: 'https://dev-host.example:8443, https://*.contoso.com' }).env.TAB_FRAME_ANCESTORS).toEqual([
      'https://dev-host.example:8443',
      'https://*.contoso.com',
    ]);
    for (const bad of ['*', "'unsafe-inline'", 'https://x.example; script-src *', 'javascript:alert(1)', 'https://x.example/path']) {
      expect(() => loadConfig({ TAB_FRAME_ANCESTORS: bad }), bad).toThrow(/TAB_FRAME_ANCESTORS/);
    }
  });

  it('refuses unauthenticated mode in production, and incomplete or multi-tenant credentials', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/MicrosoftAppId/);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/AZURE_STORAGE_CONNECTION_STRING/);
    expect(() => loadConfig({ MicrosoftAppId: 'x', MicrosoftAppTenantId: 't' })).toThrow(
      /MicrosoftAppPassword/,
    );
    expect(() => loadConfig({ MicrosoftAppId: 'x', MicrosoftAppType: 'MultiTenant' })).toThrow(/deprecated/);
    expect(() => loadConfig({ MicrosoftAppPassword: 'p' })).toThrow(ConfigError);
  });

  it('accepts a single-tenant and a managed-identity bot', () => {
    const st = loadConfig({ MicrosoftAppId: 'a', MicrosoftAppPassword: 'p', MicrosoftAppTenantId: 't' });
    expect(st.auth).toEqual({ kind: 'SingleTenant', appId: 'a', password: 'p', tenantId: 't' });
    const msi = loadConfig({
      MicrosoftAppId: 'a',
      MicrosoftAppTenantId: 't',
      MicrosoftAppType: 'UserAssignedMsi',
    });
    expect(msi.auth.kind).toBe('UserAssignedMsi');
  });

  it('splits role id lists', () => {
    const c = loadConfig({ CHAMPION_IDS: ' a, b ,,c ' });
    expect(c.env.CHAMPION_IDS).toEqual(['a', 'b', 'c']);
  });
});

describe('loadConfig storage with managed identity', () => {
  it('uses the account endpoints with an Entra credential when only the account name is set', () => {
    const c = loadConfig({ AZURE_STORAGE_ACCOUNT_NAME: 'rolloutdesk', AZURE_CLIENT_ID: 'cid' });
    expect(c.storage).toEqual({
      kind: 'identity',
      tableEndpoint: 'https://rolloutdesk.table.core.windows.net',
      queueEndpoint: 'https://rolloutdesk.queue.core.windows.net',
      clientId: 'cid',
    });
  });

  it('names the AI variable that is inconsistent', () => {
    expect(() => loadConfig({ AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com' })).toThrow(
      /AZURE_OPENAI_DEPLOYMENT/,
    );
  });
});
