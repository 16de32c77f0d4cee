import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { activity, post, readable, say, startTestApp, USERS } from '../support/app.js';

let app: App;
beforeAll(async () => {
  ({ app } = await startTestApp());
});
afterAll(async () => {
  await app?.stop();
});

describe('/api/messages', () => {
  it('answers 400 with a reason for a body that is not JSON or not an activity', async () => {
    const notJson = await post(app, '{not json');
    expect(notJson.status).toBe(400);
    expect(JSON.stringify(notJson.json)).toMatch(/JSON/i);
    const notActivity = await post(app, { hello: 'world' });
    expect(notActivity.status).toBe(400);
    expect(notActivity.json.message).toMatch(/type/);
    const array = await post(app, [1, 2]);
    expect(array.status).toBe(400);
  });

  it('answers 200 and sends nothing for an activity type it does not handle', async () => {
    const res = await post(
      app,
      activity(USERS.staff, { type: 'messageReaction', reactionsAdded: [{ type: 'like' }] }),
    );
    expect(res.status).toBe(200);
    expect((res.json.activities as unknown[] | undefined) ?? []).toHaveLength(0);
  });

  it('tells each user their role with whoami', async () => {
    expect(readable(await say(app, USERS.staff, 'whoami'))).toContain('Staff');
    expect(readable(await say(app, USERS.champion, 'whoami'))).toContain('Champion');
    expect(readable(await say(app, USERS.lead, 'WhoAmI'))).toContain('Rollout team');
  });

  it('shows staff only the commands they may use', async () => {
    const staffHelp = readable(await say(app, USERS.staff, 'help'));
    expect(staffHelp).toContain('report');
    expect(staffHelp).not.toContain('export issues');
    expect(readable(await say(app, USERS.lead, 'help'))).toContain('export issues');
  });

  it('handles a retried activity (same id) only once', async () => {
    const a = activity(USERS.staff, { text: 'whoami' });
    const first = await post(app, a);
    const second = await post(app, a);
    expect((first.json.activities as unknown[]).length).toBe(1);
    expect((second.json.activities as unknown[] | undefined) ?? []).toHaveLength(0);
  });

  it('greets with the welcome card when installed, and remembers the conversation', async () => {
    const res = await post(
      app,
      activity(USERS.staff, {
        type: 'installationUpdate',
        action: 'add',
        conversation: { id: 'a:install-1', conversationType: 'personal', tenantId: 'tenant-1' },
      }),
    );
    expect(res.status).toBe(200);
    const text = readable(res.json.activities as never);
    expect(text).toContain('Welcome to Rollout Desk');
  });

  it('refuses channel setup to staff and accepts it from the rollout team in a channel', async () => {
    const channel = {
      conversation: {
        id: '19:triage@thread.tacv2;messageid=1',
        conversationType: 'channel',
        tenantId: 'tenant-1',
      },
      channelData: {
        team: { id: '19:team@thread.tacv2', name: 'Rollout' },
        channel: { id: '19:triage@thread.tacv2', name: 'Triage' },
      },
    };
    const refused = readable(await say(app, USERS.staff, '<at>Rollout Desk</at> setup triage', channel));
    expect(refused).toMatch(/champions and the rollout team|rollout team/i);
    const accepted = readable(await say(app, USERS.lead, '<at>Rollout Desk</at> setup triage', channel));
    expect(accepted).toContain('triage channel');
  });
});

describe('authenticated mode', () => {
  it('rejects a request without a Bot Framework token, or with a malformed one, with 401', async () => {
    const { app: secured } = await startTestApp({
      MicrosoftAppId: '11111111-1111-1111-1111-111111111111',
      MicrosoftAppPassword: 'secret',
      MicrosoftAppTenantId: '22222222-2222-2222-2222-222222222222',
      MicrosoftAppType: 'SingleTenant',
    });
    try {
      const res = await post(secured, activity(USERS.staff, { text: 'whoami' }));
      expect(res.status).toBe(401);
      const forged = await fetch(`${secured.url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-real-token' },
        body: JSON.stringify(activity(USERS.staff, { text: 'whoami' })),
      });
      expect(forged.status).toBe(401);
    } finally {
      await secured.stop();
    }
  });
});
