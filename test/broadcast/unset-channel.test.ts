import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { execute, invokeText, personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

/*
 * A message for a channel nobody has set up yet (`setup announcements`), against the real app: the
 * rollout team is told before anything is "sent", instead of a report counting the channel as an app
 * that is not installed.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'rd-unset-channel-'));
const PLAN_FILE = path.join(dir, 'plan.yaml');
writeFileSync(
  PLAN_FILE,
  `messages:
  - id: golive-news
    stage: launch
    title: Go-live news
    body: FieldLedger is live.
    audience: { channel: announcements }
    when: manual
  - id: clinic-today
    stage: adoption
    title: Deadline clinic today
    body: Bring your K-05.
    audience: { channel: support }
    when: 2027-01-11 10:00
`,
);

const ANNOUNCEMENTS = '19:announcements@thread.tacv2';
let app: App;
let clock: ManualClock;
let connector: RecordingConnector;
const where = (u: TestUser) => personalChat(connector.url, u);
let card = 0;
const click = (u: TestUser, verb: string, data: Record<string, unknown>) =>
  execute(app, u, verb, data, { ...where(u), replyToId: `card-${++card}` });
/** The rollout team's `setup <role>`, typed in that channel. */
const setUp = (role: 'announcements' | 'support', channel: string) =>
  say(app, USERS.lead, `<at>Rollout Desk</at> setup ${role}`, {
    serviceUrl: connector.url,
    conversation: { id: `${channel};messageid=1`, conversationType: 'channel', tenantId: 'tenant-1' },
    channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: channel } },
  });

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app, clock } = await startTestApp({ COMM_PLAN_FILE: PLAN_FILE }, new ManualClock('2027-01-11T09:00:00Z')));
  await say(app, USERS.lead, 'whoami', where(USERS.lead));
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

describe('a message for a channel that was never set up', () => {
  it('says so at the confirmation and on the announce form, sends nothing, and goes once the channel is set up', async () => {
    const confirm = await say(app, USERS.lead, 'send golive-news', where(USERS.lead));
    expect(readable(confirm)).toContain('The announcements channel is not set up yet: someone on the rollout team types "setup announcements" in it.');
    expect(JSON.stringify(confirm)).not.toContain('"verb":"broadcast.send"');

    // A confirmation card from before (or a forged one) sends nothing either.
    expect(invokeText((await click(USERS.lead, 'broadcast.send', { id: 'golive-news' })).body)).toContain('Nothing was sent. The announcements channel is not set up yet');
    const form = invokeText(
      (await click(USERS.lead, 'broadcast.announce', { title: 'Office closed', body: 'On Friday.', audience: 'channel:announcements', timing: 'now' })).body,
    );
    expect(form).toContain('The announcements channel is not set up yet');
    expect(await app.broadcast.sends.all()).toEqual([]);

    await setUp('announcements', ANNOUNCEMENTS);
    expect(readable(await say(app, USERS.lead, 'send golive-news', where(USERS.lead)))).toContain('one post in the channel');
    expect(invokeText((await click(USERS.lead, 'broadcast.send', { id: 'golive-news' })).body)).toContain('Sending "Go-live news"');
    for (let i = 0; i < 200 && !connector.sentTo(ANNOUNCEMENTS).some((c) => JSON.stringify(c.body).includes('FieldLedger is live.')); i++) {
      await app.broadcast.runner.idle();
      await app.settled();
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(connector.sentTo(ANNOUNCEMENTS).filter((c) => JSON.stringify(c.body).includes('FieldLedger is live.'))).toHaveLength(1);
  });
});

describe('a scheduled message for a channel that was never set up', () => {
  const SUPPORT = '19:support@thread.tacv2';
  const notices = () => connector.sentTo(`a:chat-${USERS.lead.aadObjectId}`).filter((c) => JSON.stringify(c.body).includes('clinic-today'));
  const posted = () => connector.sentTo(SUPPORT).filter((c) => JSON.stringify(c.body).includes('Bring your K-05.'));
  const settle = async () => {
    await app.broadcast.runner.idle();
    await app.settled();
  };

  it('is not "sent" to nowhere: the rollout team is told once, and it goes by itself once the channel is set up in time', async () => {
    clock.set('2027-01-11T10:00:00Z');
    await app.broadcast.service.runDue();
    clock.set('2027-01-11T10:01:00Z');
    await app.broadcast.service.runDue();
    await settle();
    expect((await app.broadcast.sends.all()).filter((s) => s.messageId === 'clinic-today')).toEqual([]);
    expect(notices()).toHaveLength(1);
    expect(JSON.stringify(notices()[0]?.body)).toContain('The support channel is not set up yet');

    await setUp('support', SUPPORT);
    clock.set('2027-01-11T10:30:00Z');
    await app.broadcast.service.runDue();
    for (let i = 0; i < 200 && posted().length === 0; i++) {
      await settle();
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(posted()).toHaveLength(1);
    expect(notices()).toHaveLength(1);
  });
});
