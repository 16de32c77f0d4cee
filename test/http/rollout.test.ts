import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { ManualClock } from '../../src/clock.js';
import { MembershipStore } from '../../src/rollout/members.js';
import { execute, invokeText, personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

let app: App;
let clock: ManualClock;
let connector: RecordingConnector;
let dir: string;
beforeAll(async () => {
  connector = await new RecordingConnector().start();
  // The sample's people, and a group whose id starts as a person may be called ("sam").
  dir = mkdtempSync(path.join(tmpdir(), 'rd-rollout-'));
  const file = path.join(dir, 'rollout.yaml');
  const sampleFile = readFileSync('sample/rollout.yaml', 'utf8');
  writeFileSync(file, sampleFile.replace('\nmembers:\n', '  - id: samoa-wave\n    name: Samoa wave\n    description: Island districts.\n\nmembers:\n'));
  ({ app, clock } = await startTestApp({ ROLLOUT_FILE: file }));
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the rollout\'s people from Teams', () => {
  it('the rollout team puts someone in a user group and a cohort by @mention or "me"', async () => {
    const mention = {
      entities: [{ type: 'mention', text: '<at>Sam Staff</at>', mentioned: { id: USERS.staff.id, name: 'Sam Staff' } }],
    };
    const added = readable(await say(app, USERS.lead, 'group add field-officers <at>Sam Staff</at>', mention));
    expect(added).toBe('Sam Staff is now in the user group Field officers.');
    expect(readable(await say(app, USERS.lead, 'group add wave-b me'))).toBe(
      'Lee Lead is now in the cohort Wave B: Sefara, Lumbe, Dhoro (go-live Mon 1 Feb 2027, Africa/Lusaka).',
    );
    const staffSide = await app.rollout.membership([USERS.staff.aadObjectId, USERS.staff.id]);
    expect(staffSide.groups.map((g) => g.id)).toEqual(['field-officers']);
    expect((await app.rollout.membership([USERS.lead.aadObjectId])).cohort?.id).toBe('wave-b');
  });

  it('an @mention whose name is part of the group\'s id leaves the group\'s id whole ("group add samoa-wave @sam")', async () => {
    const sam = { entities: [{ type: 'mention', text: '<at>sam</at>', mentioned: { id: USERS.staff.id, name: 'Sam Staff' } }] };
    expect(readable(await say(app, USERS.lead, 'group add samoa-wave <at>sam</at>', sam))).toBe('Sam Staff is now in the user group Samoa wave.');
    expect((await app.rollout.members('group', 'samoa-wave')).map((p) => p.name)).toEqual(['Sam Staff']);
    // The mention may come first; what is left is still the group.
    expect(readable(await say(app, USERS.lead, 'group remove <at>sam</at> samoa-wave', sam))).toBe('Sam Staff is no longer in Samoa wave.');
  });

  it('staff cannot change groups, whatever they type; nothing changes', async () => {
    const reply = readable(await say(app, USERS.staff, 'group add supervisors me'));
    expect(reply).toMatch(/rollout team only/);
    expect((await app.rollout.membership([USERS.staff.aadObjectId])).groups.map((g) => g.id)).not.toContain('supervisors');
  });

  it('an unknown group or a person it cannot tell gets a message saying what to type', async () => {
    expect(readable(await say(app, USERS.lead, 'group add cooks me'))).toMatch(/no user group or cohort "cooks"\. User groups: field-officers/);
    expect(readable(await say(app, USERS.lead, 'group add field-officers Grace'))).toMatch(/can't tell who "Grace" is/);
  });

  it('an Entra object id typed in capitals is the same person Teams names in lower case', async () => {
    const id = '0d9e2b7a-5c1f-4e3a-9b8d-7f6e5d4c3b2a';
    expect(readable(await say(app, USERS.lead, `group add data-officers ${id.toUpperCase()}`))).toMatch(/is now in the user group District data officers\./);
    expect((await app.rollout.membership([id])).groups.map((g) => g.id)).toEqual(['data-officers']);
  });

  it('champions list the cohorts with their go-live dates, and the user groups', async () => {
    const text = readable(await say(app, USERS.champion, 'groups'));
    expect(text).toContain('Wave B: Sefara, Lumbe, Dhoro (`wave-b`): go-live Mon 1 Feb 2027, Africa/Lusaka');
    expect(text).toContain('Field officers (`field-officers`)');
  });

  it('someone put in a group by @mention is that person everywhere: an announcement to the group is theirs to acknowledge', async () => {
    // Teams names a mentioned person by their Teams id (29:…); the app knows everyone else by their Entra id.
    const tess: TestUser = { id: '29:tess', aadObjectId: 'aad-tess', name: 'Tess Trainee' };
    await say(app, tess, 'whoami', personalChat(connector.url, tess));
    await say(app, USERS.lead, 'whoami', personalChat(connector.url, USERS.lead));
    const mention = { entities: [{ type: 'mention', text: '<at>Tess Trainee</at>', mentioned: { id: tess.id, name: tess.name } }] };
    expect(readable(await say(app, USERS.lead, 'group add supervisors <at>Tess Trainee</at>', mention))).toBe('Tess Trainee is now in the user group Supervisors.');

    const sent = await execute(app, USERS.lead, 'broadcast.announce', { title: 'Supervisors: new approval screen', body: 'Read this.', audience: 'group:supervisors', timing: 'now' }, personalChat(connector.url, USERS.lead));
    expect(invokeText(sent.body)).toContain('Sending "Supervisors: new approval screen"');
    await app.broadcast.runner.idle();
    const send = (await app.broadcast.sends.all()).find((s) => s.content.title === 'Supervisors: new approval screen')!;
    const ack = await execute(app, tess, 'broadcast.ack', { sendId: send.id }, personalChat(connector.url, tess));
    expect(invokeText(ack.body)).toMatch(/You acknowledged this/);
  });

  it('someone put in a group by @mention before memberships were keyed by Entra id is that person everywhere once the app knows their Entra id', async () => {
    const uma: TestUser = { id: '29:uma', aadObjectId: 'aad-uma', name: 'Uma Older' };
    // As the version before that fix kept her: under the Teams id the mention gave.
    await (await MembershipStore.open(app.tables, clock)).add({ kind: 'group', of: 'field-officers', personId: uma.id, name: uma.name, addedBy: USERS.lead.aadObjectId });
    // She writes to the bot (her 1:1 chat gives her Entra id); the scheduled upkeep runs.
    await say(app, uma, 'whoami', personalChat(connector.url, uma));
    clock.advance(24 * 3_600_000);
    await app.scheduler.tick();

    const sent = await execute(app, USERS.lead, 'broadcast.announce', { title: 'Field officers: new visit form', body: 'Read this.', audience: 'group:field-officers', timing: 'now' }, { ...personalChat(connector.url, USERS.lead), replyToId: 'announce-form-uma' });
    expect(invokeText(sent.body)).toContain('Sending "Field officers: new visit form"');
    await app.broadcast.runner.idle();
    const send = (await app.broadcast.sends.all()).find((s) => s.content.title === 'Field officers: new visit form')!;
    const ack = await execute(app, uma, 'broadcast.ack', { sendId: send.id }, personalChat(connector.url, uma));
    expect(invokeText(ack.body)).toMatch(/You acknowledged this/);
    // Kept once, under her Entra id: `group remove` by her Teams id still finds her and takes her out.
    expect(readable(await say(app, USERS.lead, `group remove field-officers ${uma.id}`, personalChat(connector.url, USERS.lead)))).toBe('Uma Older is no longer in Field officers.');
    expect((await app.rollout.members('group', 'field-officers')).map((p) => p.id)).not.toContain(uma.id);
    expect((await app.rollout.members('group', 'field-officers')).map((p) => p.id)).not.toContain(uma.aadObjectId);
  });
});

