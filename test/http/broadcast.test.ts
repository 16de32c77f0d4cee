import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { execute, invokeText, personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector, RETRY_AT_ONCE } from '../support/connector.js';

/*
 * The communication plan over HTTP, as Teams drives it: a plan and rollout file of the test's own, the
 * real app on the test Azurite, proactive sends recorded by a local connector.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'rd-broadcast-'));
const PLAN_FILE = path.join(dir, 'plan.yaml');
const ROLLOUT_FILE = path.join(dir, 'rollout.yaml');

const ADELE: TestUser = { id: '29:adele', aadObjectId: 'aad-adele', name: 'Adele Vance' };
const KENJI: TestUser = { id: '29:kenji', aadObjectId: 'aad-kenji', name: 'Kenji Sato' };
const CROWD: TestUser[] = Array.from({ length: 6 }, (_, i) => ({ id: `29:crowd${i}`, aadObjectId: `aad-crowd${i}`, name: `Crowd ${i}` }));

const PLAN = `timeZone: Africa/Lusaka
messages:
  - id: welcome
    stage: launch
    title: Welcome to FieldLedger
    body: Your district goes live **next Monday**.
    audience: { users: [aad-staff, aad-adele, aad-nochat] }
    when: manual
  - id: help
    stage: launch
    title: How to get help
    body: Ask Rollout Desk, or type report.
    audience: { channel: support }
    when: manual
  - id: golive-week
    stage: launch
    title: Wave B goes live next Monday
    body: Get ready.
    audience: { cohort: wave-b }
    when: golive-7d 09:00
  - id: tokyo-note
    stage: adoption
    title: A note for Kenji
    body: Read at your desk.
    audience: { users: [aad-kenji, aad-adele] }
    when: manual
  - id: team-note
    stage: design
    title: A note for the whole team
    body: Everyone in the team, 1:1.
    audience: { team: "19:general@thread.tacv2" }
    when: manual
  - id: crowd
    stage: adoption
    title: For the crowd
    body: Many people.
    audience: { users: [${CROWD.map((u) => u.aadObjectId).join(', ')}] }
    when: manual
  - id: team-update
    stage: adoption
    title: March update for the team
    body: What changes in March.
    audience: { team: "19:general@thread.tacv2" }
    when: 2027-03-01 09:00
`;

writeFileSync(
  ROLLOUT_FILE,
  `cohorts:
  - { id: wave-b, name: "Wave B", goLive: 2027-02-01, zone: Africa/Lusaka }
members:
  - { id: aad-staff, name: Sam Staff, cohort: wave-b }
  - { id: aad-adele, name: Adele Vance, cohort: wave-b }
`,
);
writeFileSync(PLAN_FILE, PLAN);

let app: App;
let clock: ManualClock;
let connector: RecordingConnector;

const SUPPORT = '19:support@thread.tacv2';
const chatOf = (u: TestUser) => `a:chat-${u.aadObjectId}`;
const where = (u: TestUser, extra: Record<string, unknown> = {}) => ({
  ...personalChat(connector.url, u),
  ...extra,
});
let card = 0;
/** A click on a card of its own (Teams gives each card message its own id). */
const click = (u: TestUser, verb: string, data: Record<string, unknown>) =>
  execute(app, u, verb, data, { ...where(u), replyToId: `card-${++card}` });

/** Everything sent so far to a conversation (posts and in-place updates), as readable text. */
const seenIn = (conversationId: string) =>
  connector.calls
    .filter((c) => c.conversationId === conversationId)
    .map((c) => readable([{ type: 'message', text: String(c.body.text ?? ''), attachments: c.body.attachments as never }]))
    .join('\n---\n');

async function settle(a: App = app): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await a.broadcast.runner.idle();
    await a.settled();
  }
}

async function until(check: () => boolean, a: App = app): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await settle(a);
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  expect(check(), 'condition not met in time').toBe(true);
}

beforeAll(async () => {
  connector = await new RecordingConnector().start();
  ({ app, clock } = await startTestApp(
    { COMM_PLAN_FILE: PLAN_FILE, ROLLOUT_FILE, BROADCAST_BATCH: '2', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' },
    new ManualClock('2027-01-11T09:00:00Z'), // a Monday; 11:00 in Lusaka
  ));
  for (const u of [...Object.values(USERS), ADELE, ...CROWD]) await say(app, u, 'whoami', where(u));
  // Kenji's Teams reports his time zone (Tokyo: Monday 18:00 as the tests start).
  await say(app, KENJI, 'whoami', where(KENJI, { localTimezone: 'Asia/Tokyo' }));
  await say(app, USERS.lead, '<at>Rollout Desk</at> setup support', {
    serviceUrl: connector.url,
    conversation: { id: `${SUPPORT};messageid=1`, conversationType: 'channel', tenantId: 'tenant-1' },
    channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: SUPPORT } },
  });
});

afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

describe('sending a plan message', () => {
  it('confirms how many recipients, then sends; the sender sees progress then a report; "Got it" is stored once', async () => {
    clock.set('2027-01-11T09:00:00Z');
    const confirm = readable(await say(app, USERS.lead, 'send welcome', where(USERS.lead)));
    expect(confirm).toContain('Send this message now?');
    expect(confirm).toContain('3 people, 1:1');
    expect(confirm).toContain('1 (reported as "not installed")');
    expect(seenIn(chatOf(USERS.staff))).not.toContain('Welcome to FieldLedger');

    const sent = await click(USERS.lead, 'broadcast.send', { id: 'welcome' });
    expect(invokeText(sent.body)).toContain('Sending "Welcome to FieldLedger"');
    await until(() => seenIn(chatOf(USERS.lead)).includes('Delivery report'));
    const lead = seenIn(chatOf(USERS.lead));
    expect(lead.indexOf('Sending…')).toBeLessThan(lead.indexOf('Delivery report'));
    for (const u of [USERS.staff, ADELE]) expect(seenIn(chatOf(u))).toContain('Your district goes live **next Monday**.');
    // Signed as the preview showed it.
    expect(seenIn(chatOf(USERS.staff))).toContain('From the FieldLedger rollout team');

    const sendId = (await app.broadcast.sends.all()).find((s) => s.messageId === 'welcome')!.id;
    const ack = await click(USERS.staff, 'broadcast.ack', { sendId });
    expect(invokeText(ack.body)).toMatch(/✓ You acknowledged this on 11 Jan 2027/);
    expect(invokeText((await click(USERS.staff, 'broadcast.ack', { sendId })).body)).toContain('You acknowledged');
    const report = invokeText((await click(USERS.lead, 'broadcast.report', { sendId })).body);
    expect(report).toContain('Sent\n2');
    expect(report).toContain('App not installed\n1');
    expect(report).toContain('50% (1 of 2)');
  });

  it('posts a plan message to the support channel', async () => {
    await click(USERS.lead, 'broadcast.send', { id: 'help' });
    await until(() => seenIn(SUPPORT).includes('How to get help'));
    expect(connector.sentTo(SUPPORT).length).toBeGreaterThan(0);
  });

  it('"Got it" on a channel post counts a press from that channel (any thread) without asking Teams; a forged press from another conversation is refused and not counted', async () => {
    const sent = await click(USERS.lead, 'broadcast.send', { id: 'help' });
    expect(invokeText(sent.body)).toContain('Sending "How to get help"');
    await settle();
    const sendId = (await app.broadcast.sends.all()).find((s) => s.messageId === 'help')!.id;
    const callsBefore = connector.calls.length;
    // The card's data names the send; the conversation is Teams' own: a post in another channel cannot be this one.
    const press = (u: TestUser, conversation: string) =>
      execute(app, u, 'broadcast.ack', { sendId }, {
        serviceUrl: connector.url,
        conversation: { id: `${conversation};messageid=post-1`, conversationType: 'channel', tenantId: 'tenant-1' },
        channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: conversation } },
        replyToId: `post-${++card}`,
      });
    expect(invokeText((await press(KENJI, '19:other@thread.tacv2')).body)).toBe(
      'This message was not posted in a channel you are in; nothing was recorded.',
    );
    expect([...(await app.broadcast.acks.who(sendId))]).toEqual([]);

    expect(invokeText((await press(ADELE, SUPPORT)).body)).toMatch(/You acknowledged this on/);
    expect([...(await app.broadcast.acks.who(sendId))]).toEqual([ADELE.aadObjectId]);
    // No roster read (nor any other call to Teams) for a press: a large team's announcement is not throttled.
    expect(connector.calls.slice(callsBefore).filter((c) => /members/.test(c.path))).toEqual([]);
    const report = invokeText((await click(USERS.lead, 'broadcast.report', { sendId })).body);
    expect(report).toContain('1 person in the channel');
  });
});

describe('a team as the audience', () => {
  it('reads every member with the paged roster call, sends 1:1 to those with the app, and counts the others as not installed', async () => {
    const GENERAL = '19:general@thread.tacv2';
    // Page two first: the recording connector answers with the first pattern that matches.
    connector.answer('GET', /\/pagedmembers\?.*continuationToken=page-2/, {
      members: [
        { id: ADELE.id, name: ADELE.name, aadObjectId: ADELE.aadObjectId },
        { id: '29:nochat', name: 'No Chat', aadObjectId: 'aad-nochat-team' },
      ],
    });
    connector.answer('GET', /\/pagedmembers/, {
      members: [
        { id: USERS.staff.id, name: USERS.staff.name, aadObjectId: USERS.staff.aadObjectId },
        { id: USERS.champion.id, name: USERS.champion.name, aadObjectId: USERS.champion.aadObjectId },
      ],
      continuationToken: 'page-2',
    });
    // The app learns where the team is when it is used in the team's General channel.
    await say(app, USERS.lead, 'whoami', {
      serviceUrl: connector.url,
      conversation: { id: GENERAL, conversationType: 'channel', tenantId: 'tenant-1' },
      channelData: { team: { id: GENERAL, name: 'Rollout' }, channel: { id: GENERAL } },
    });
    const confirm = readable(await say(app, USERS.lead, 'send team-note', where(USERS.lead)));
    expect(confirm).toContain('4 people, 1:1');
    expect(confirm).toContain('1 (reported as "not installed")');
    await click(USERS.lead, 'broadcast.send', { id: 'team-note' });
    await until(() => seenIn(chatOf(USERS.lead)).includes('Delivery report') && seenIn(chatOf(USERS.lead)).includes('A note for the whole team'));
    for (const u of [USERS.staff, USERS.champion, ADELE]) expect(seenIn(chatOf(u))).toContain('Everyone in the team, 1:1.');
    const pages = connector.calls.filter((c) => c.path.includes('/pagedmembers'));
    expect(pages.some((c) => c.path.includes('continuationToken=page-2'))).toBe(true);
  });

  it('when Teams will not answer the roster read (down, throttled), the sender is told the members could not be read, not "0 people"', async () => {
    await settle();
    // Nothing else is in flight: the next connector calls are this roster read (and its retries).
    connector.failNext(503, 10, RETRY_AT_ONCE);
    const confirm = readable(await say(app, USERS.lead, 'send team-note', where(USERS.lead)));
    connector.clearFailures();
    expect(connector.rejected.some((c) => c.method === 'GET' && c.path.includes('/pagedmembers'))).toBe(true);
    expect(confirm).toContain("team 19:general@thread.tacv2: could not read the team's members from Teams (HTTP 503)");
    // Not "nobody to send this to": it can be sent, and then waits for Teams.
    expect(confirm).not.toContain('Nobody to send this to');
    expect(confirm).toContain('Send when Teams answers');
  });

  it('a Send pressed while Teams does not answer for the team is confirmed all the same: the answer says it has not gone yet and until when it is tried; it goes once when Teams answers', async () => {
    await settle();
    const everyone = [USERS.staff, USERS.champion, ADELE];
    const copies = (u: TestUser) => connector.sentTo(chatOf(u)).filter((c) => JSON.stringify(c.body).includes('Everyone in the team, 1:1.')).length;
    const before = everyone.map(copies);
    connector.failNext(503, 10, RETRY_AT_ONCE);
    const pressed = invokeText((await click(USERS.lead, 'broadcast.send', { id: 'team-note' })).body);
    connector.clearFailures();
    // Teams' 503s (botbuilder retries them) may outlast the 5 s the press waits: either way, Teams did not answer.
    expect(pressed).toMatch(
      /^"A note for the whole team" \(team-note\) has not gone to every member of team 19:general@thread\.tacv2, 1:1 yet: team 19:general@thread\.tacv2: (could not read the team's members from Teams \(HTTP 503\)|Teams did not answer in time)\. I will try again until .* and send it as soon as Teams answers \(it will not go out twice\); your progress card follows then\. To stop it, type "cancel team-note\.m[0-9a-f]+"\.$/,
    );
    await settle();
    expect(everyone.map(copies)).toEqual(before);

    // The scheduler's next pass after the backoff reads the roster again; Teams answers, and it goes, once.
    clock.set(new Date(clock.now().getTime() + 2 * 60_000).toISOString());
    await app.broadcast.service.tick();
    await until(() => everyone.every((u, i) => copies(u) === before[i]! + 1));
    clock.set(new Date(clock.now().getTime() + 30 * 60_000).toISOString());
    await app.broadcast.service.tick();
    await settle();
    expect(everyone.map(copies)).toEqual(before.map((n) => n + 1));
    // Told once, in the press's answer: not again 1:1.
    expect(seenIn(chatOf(USERS.lead))).not.toContain('has not gone to');
  });
});

describe('one send with two instances on one Storage account', () => {
  it('a scheduled message goes out once, whichever instance gets there first', async () => {
    const prefix = (app.config.env.TABLE_PREFIX as string) ?? '';
    const otherClock = new ManualClock('2027-01-25T07:00:30Z'); // 09:00:30 in Lusaka, a week before go-live
    const { app: other } = await startTestApp(
      { TABLE_PREFIX: prefix, COMM_PLAN_FILE: PLAN_FILE, ROLLOUT_FILE, LOG_LEVEL: 'silent' },
      otherClock,
    );
    try {
      clock.set('2027-01-25T07:00:30Z');
      const started = await Promise.all([app.broadcast.service.runDue(), other.broadcast.service.runDue(), app.scheduler.tick(), other.scheduler.tick()]);
      expect(started[0].length + started[1].length).toBe(1);
      await until(() => [USERS.staff, ADELE].every((u) => seenIn(chatOf(u)).includes('Wave B goes live next Monday')));
      await settle(other);
      for (const u of [USERS.staff, ADELE]) {
        const posts = connector.sentTo(chatOf(u)).filter((c) => JSON.stringify(c.body).includes('Wave B goes live next Monday'));
        expect(posts, u.name).toHaveLength(1);
      }
    } finally {
      await other.stop();
    }
  });
});

describe('working hours', () => {
  it('holds a 1:1 message until the recipient\'s working hours where Teams told their zone', async () => {
    clock.set('2027-01-11T09:00:00Z'); // Monday 18:00 in Tokyo, 11:00 in Lusaka
    // Teams told Kenji's zone on a message (clientInfo); his later "Got it" presses carry no zone and no name, as
    // card actions often do, or a zone that is no zone: what was known stays known.
    await say(app, KENJI, 'whoami', where(KENJI, { entities: [{ type: 'clientInfo', timezone: 'Asia/Tokyo', locale: 'ja-JP' }] }));
    for (const entities of [undefined, [{ type: 'clientInfo', timezone: 'Mars/Olympus' }]]) {
      await execute(app, KENJI, 'broadcast.ack', { sendId: 'an-earlier-send' }, {
        ...where(KENJI),
        from: { id: KENJI.id, aadObjectId: KENJI.aadObjectId },
        entities,
        replyToId: `card-${++card}`,
      });
    }
    await click(USERS.lead, 'broadcast.send', { id: 'tokyo-note' });
    await until(() => seenIn(chatOf(ADELE)).includes('A note for Kenji'));
    await until(() => seenIn(chatOf(USERS.lead)).includes('Held for working hours')).catch((e) => { console.log('LEADCHAT', seenIn(chatOf(USERS.lead)).slice(-1500)); throw e; });
    expect(seenIn(chatOf(KENJI))).not.toContain('A note for Kenji');

    clock.set('2027-01-11T23:00:30Z'); // Tuesday 08:00 in Tokyo
    await app.broadcast.service.tick();
    await until(() => seenIn(chatOf(KENJI)).includes('A note for Kenji'));
  });
});

describe('cancel mid-send', () => {
  it('what was not yet handed over stays unsent; the report says how many', async () => {
    clock.set('2027-01-11T09:00:00Z');
    // Teams is slow to answer the first batch (two recipients): nothing further is handed over meanwhile.
    const held = [connector.hold(chatOf(CROWD[0]!)), connector.hold(chatOf(CROWD[1]!))];
    try {
      await click(USERS.lead, 'broadcast.send', { id: 'crowd' });
      await app.broadcast.runner.idle();
      for (let i = 0; i < 200 && held.some((h) => h.waiting() === 0); i++) await new Promise((r) => setTimeout(r, 20));
      const sendId = (await app.broadcast.sends.all()).find((s) => s.messageId === 'crowd')!.id;
      const cancelled = readable(await say(app, USERS.lead, `cancel ${sendId}`, where(USERS.lead)));
      expect(cancelled).toMatch(/Cancelled "For the crowd": 4 not sent; 2 already handed over are being taken back \(those already on their way finish\)/);
    } finally {
      for (const h of held) h.release();
    }
    await until(() => seenIn(chatOf(USERS.lead)).includes('Delivery report (cancelled)'));
    const got = CROWD.filter((u) => seenIn(chatOf(u)).includes('Many people.'));
    expect(got).toEqual(CROWD.slice(0, 2));
    expect(seenIn(chatOf(USERS.lead))).toContain('Not sent (cancelled)\n4');
  });
});

describe('refusals', () => {
  it('staff typing send, announce or celebrate, or forging their cards, are refused and nothing is sent', async () => {
    const before = connector.calls.length;
    const sendsBefore = (await app.broadcast.sends.all()).length;
    const staff = USERS.staff;
    expect(readable(await say(app, staff, 'send welcome', where(staff)))).toContain('rollout team only');
    expect(readable(await say(app, staff, 'announce', where(staff)))).toContain('rollout team only');
    expect(readable(await say(app, staff, 'celebrate', where(staff)))).toContain('champions and the rollout team');
    const forged = [
      ['broadcast.send', { id: 'welcome' }],
      ['broadcast.announce', { title: 'Fake', body: 'Fake news', audience: 'everyone', timing: 'now' }],
      ['broadcast.celebrate', { who: 'aad-staff', what: 'Me!' }],
      ['broadcast.resend', { sendId: 'x' }],
      ['broadcast.cancelSend', { sendId: 'x' }],
    ] as const;
    for (const [verb, data] of forged) expect(invokeText((await click(staff, verb, data)).body), verb).toMatch(/only|champions/);
    await settle();
    expect(connector.calls.length).toBe(before);
    expect((await app.broadcast.sends.all()).length).toBe(sendsBefore);
    // "send" followed by words is a question for the FAQ, not a refused command.
    expect(readable(await say(app, staff, 'send the monthly report late', where(staff)))).not.toContain('rollout team only');
  });
});

describe('a malformed plan file', () => {
  it('is not used: the rollout team is told what is wrong (id and field), and the last good plan stays', async () => {
    try {
      writeFileSync(PLAN_FILE, PLAN.replace('when: golive-7d 09:00', 'when: a week before go-live'));
      await app.planFile.reload();
      await until(() => seenIn(chatOf(USERS.lead)).includes('messages[2] (golive-week).when'));
      expect(seenIn(chatOf(USERS.lead))).toContain('kept the last good plan');
      const plan = readable(await say(app, USERS.lead, 'plan', where(USERS.lead)));
      expect(plan).toContain('golive-week');
    } finally {
      writeFileSync(PLAN_FILE, PLAN);
      await app.planFile.reload();
    }
    expect(readFileSync(PLAN_FILE, 'utf8')).toBe(PLAN);
  });
});

describe('announce and celebrate', () => {
  it('an announcement with a bad field comes back with what was typed and why; a good one is sent', async () => {
    await say(app, USERS.lead, 'announce', where(USERS.lead));
    const bad = invokeText((await click(USERS.lead, 'broadcast.announce', { title: '', body: 'Typed text', audience: 'everyone', timing: 'now' })).body);
    expect(bad).toContain('Give the announcement a title.');
    const title = `Maintenance ${randomBytes(3).toString('hex')}`;
    const ok = await click(USERS.lead, 'broadcast.announce', { title, body: 'Down on Saturday.', audience: 'rollout-team', timing: 'now' });
    expect(invokeText(ok.body)).toContain(`Sending "${title}"`);
    await until(() => seenIn(chatOf(USERS.lead)).includes(title));
  });

  it('a champion celebrates a colleague in the support channel with a mention; kudos counted once per person', async () => {
    const form = readable(await say(app, USERS.champion, 'celebrate', where(USERS.champion)));
    expect(form).toContain('Celebrate a win');
    const posted = await click(USERS.champion, 'broadcast.celebrate', { who: ADELE.aadObjectId, what: 'All K-05s on time' });
    expect(invokeText(posted.body)).toContain('Posted in the support channel');
    await until(() => seenIn(SUPPORT).includes('All K-05s on time'));
    const post = connector.calls.find((c) => c.conversationId === SUPPORT && JSON.stringify(c.body).includes('All K-05s on time'))!;
    expect(JSON.stringify(post.body)).toContain('<at>Adele Vance</at>');
    expect(JSON.stringify(post.body)).toContain('"mentioned":{"id":"aad-adele","name":"Adele Vance"}');

    const id = /"id":"(c-[0-9a-f]+)"/.exec(JSON.stringify(post.body))![1]!;
    expect(invokeText((await click(ADELE, 'broadcast.kudos', { id })).body)).toContain('👏 1 kudos');
    expect(invokeText((await click(ADELE, 'broadcast.kudos', { id })).body)).toContain('already sent kudos');
    expect(invokeText((await click(USERS.staff, 'broadcast.kudos', { id })).body)).toContain('👏 2 kudos');
    await until(() => connector.calls.some((c) => c.method === 'PUT' && c.conversationId === SUPPORT && JSON.stringify(c.body).includes('👏 2 kudos')));
  });

  it('a colleague who never spoke to the app is celebrated when Teams lists them in the support team; a forged id is refused by name, nothing posted', async () => {
    // Teams' roster of the support channel's team, read by id: Megan is a member.
    connector.answer('GET', /^\/v3\/conversations\/[^/]+\/members\/aad-megan$/, { id: '29:megan', aadObjectId: 'aad-megan', name: 'Megan Bowen' });
    const forged = invokeText((await click(USERS.champion, 'broadcast.celebrate', { who: 'aad-megan,aad-mallory', what: 'Forged win' })).body);
    expect(forged).toContain('"aad-mallory": not someone Rollout Desk knows');
    await settle();
    expect(seenIn(SUPPORT)).not.toContain('Forged win');
    const posted = invokeText((await click(USERS.champion, 'broadcast.celebrate', { who: 'aad-megan', what: 'Trained the whole depot' })).body);
    expect(posted).toContain('Posted in the support channel');
    await until(() => seenIn(SUPPORT).includes('Trained the whole depot'));
    const post = connector.calls.find((c) => c.conversationId === SUPPORT && JSON.stringify(c.body).includes('Trained the whole depot'))!;
    expect(JSON.stringify(post.body)).toContain('"mentioned":{"id":"aad-megan","name":"Megan Bowen"}');
  });

  it('when Teams will not answer the roster check (throttled, down), the champion is told to try again, not that the colleague is unknown; nothing posted, form kept', async () => {
    await settle();
    // Nothing else is in flight: the next connector calls are the roster reads of this press (and any retries).
    connector.failNext(503, 5, RETRY_AT_ONCE);
    const res = await click(USERS.champion, 'broadcast.celebrate', { who: 'aad-nestor', what: 'Ran the depot training' });
    connector.clearFailures();
    expect(connector.rejected.some((c) => c.method === 'GET' && /\/members\/aad-nestor$/.test(c.path))).toBe(true);
    const text = invokeText(res.body);
    expect(text).toContain("I couldn't check the support team's members just now; try Post again in a minute.");
    expect(text).not.toContain('not someone Rollout Desk knows');
    // The form comes back with what was typed.
    const form = JSON.stringify(res.body);
    expect(form).toContain('"value":"Ran the depot training"');
    expect(form).toContain('"value":"aad-nestor"');
    await settle();
    expect(seenIn(SUPPORT)).not.toContain('Ran the depot training');
  });

  it('Post pressed again on one celebrate form: the same win says it was already posted; an edited one is posted', async () => {
    const press = async (what: string) =>
      invokeText((await execute(app, USERS.champion, 'broadcast.celebrate', { who: ADELE.aadObjectId, what }, { ...where(USERS.champion), replyToId: 'celebrate-form-1' })).body);
    expect(await press('Ran the Tuesday drop-in')).toContain('Posted in the support channel');
    expect(await press('Ran the Tuesday drop-in')).toContain('already posted, just as it is');
    expect(await press('Ran the Tuesday and Thursday drop-ins')).toContain('Posted in the support channel');
    await until(() => seenIn(SUPPORT).includes('Ran the Tuesday and Thursday drop-ins'));
    expect(connector.calls.filter((c) => c.conversationId === SUPPORT && c.method === 'POST' && JSON.stringify(c.body).includes('Ran the Tuesday drop-in'))).toHaveLength(1);
  });

  it('a 100,000-character paste in a celebration is refused on the form with its length named, not as an out-of-date card', async () => {
    const res = invokeText((await click(USERS.champion, 'broadcast.celebrate', { who: ADELE.aadObjectId, what: 'Great work! '.repeat(9_000) })).body);
    expect(res).not.toContain('out of date');
    expect(res).toContain('That is 107999 characters; at most 500.');
  });
});

describe('a plan message to a team whose roster Teams does not answer at its time', () => {
  it('is delayed, not lost: the rollout team is told once why, and it goes to the team, once, when Teams answers', async () => {
    const GENERAL = '19:general@thread.tacv2';
    connector.answer('GET', /\/pagedmembers/, {
      members: [
        { id: USERS.staff.id, name: USERS.staff.name, aadObjectId: USERS.staff.aadObjectId },
        { id: ADELE.id, name: ADELE.name, aadObjectId: ADELE.aadObjectId },
      ],
    });
    await say(app, USERS.lead, 'whoami', {
      serviceUrl: connector.url,
      conversation: { id: GENERAL, conversationType: 'channel', tenantId: 'tenant-1' },
      channelData: { team: { id: GENERAL, name: 'Rollout' }, channel: { id: GENERAL } },
    });
    await settle();
    clock.set('2027-03-01T07:00:30Z'); // 09:00:30 in Lusaka
    // Nothing else is in flight: the next connector calls are this roster read (and its retries).
    connector.failNext(503, 10, RETRY_AT_ONCE);
    await app.broadcast.service.tick();
    await app.broadcast.runner.idle();
    connector.clearFailures();
    expect(connector.rejected.some((c) => c.method === 'GET' && c.path.includes('/pagedmembers'))).toBe(true);
    await until(() => seenIn(chatOf(USERS.lead)).includes('"March update for the team" (team-update)'));
    expect(seenIn(chatOf(USERS.lead))).toContain("is delayed: team 19:general@thread.tacv2: could not read the team's members from Teams (HTTP 503)");
    expect(seenIn(chatOf(ADELE))).not.toContain('What changes in March.');

    clock.set('2027-03-01T07:03:00Z'); // after its first backoff: read again, and Teams answers
    await app.broadcast.service.tick();
    await until(() => [USERS.staff, ADELE].every((u) => seenIn(chatOf(u)).includes('What changes in March.')));
    clock.set('2027-03-01T08:00:00Z');
    await app.broadcast.service.tick();
    await settle();
    for (const u of [USERS.staff, ADELE]) {
      expect(connector.sentTo(chatOf(u)).filter((c) => JSON.stringify(c.body).includes('What changes in March.')), u.name).toHaveLength(1);
    }
    const lead = seenIn(chatOf(USERS.lead));
    expect(lead.split('(team-update)').length - 1).toBe(1);
    expect(lead).not.toContain('reached nobody');
  });
});

describe('a repeating message with more than 400 dates', () => {
  it('the plan is taken; the rollout team is told which message is cut and until when, and "plan" says so beside its times', async () => {
    const LONG = `${PLAN}  - id: daily-sync
    stage: adoption
    title: Sync today
    body: Sync before you leave.
    audience: champions
    when: { every: "FREQ=DAILY", at: "16:00", from: 2027-01-01, until: 2030-12-31 }
`;
    const cut = 'repeats on more than 400 dates: only the first 400 are scheduled, until 2028-02-04';
    try {
      writeFileSync(PLAN_FILE, LONG);
      await app.planFile.reload();
      await until(() => seenIn(chatOf(USERS.lead)).includes('(daily-sync).when.every'));
      const told = seenIn(chatOf(USERS.lead));
      expect(told).toContain('The communication plan file is in force, but not every date in it will be sent');
      expect(told).toContain(`messages[7] (daily-sync).when.every: ${cut}`);
      expect(app.planFile.current.messages.some((m) => m.id === 'daily-sync')).toBe(true);
      const listing = readable(await say(app, USERS.lead, 'plan 2', where(USERS.lead)));
      expect(listing).toContain('daily-sync');
      expect(listing).toContain(`It ${cut}`);
    } finally {
      writeFileSync(PLAN_FILE, PLAN);
      await app.planFile.reload();
    }
  });
});
