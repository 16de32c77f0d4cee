import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAYGROUND_USERS } from '../../src/devtools/playground.js';
import { Stack, type StreamedMessage, textOf } from './support/stack.js';

/*
 * The communication plan in the Microsoft 365 Agents Playground: Alex (rollout team) previews and sends
 * plan messages to the support channel and to personal chats, watches the progress card turn into the
 * report; Adele (staff) presses "Got it"; Megan (champion) celebrates Adele and Adele sends kudos.
 */

const { alex, megan, adele } = PLAYGROUND_USERS;
const dir = mkdtempSync(path.join(tmpdir(), 'rd-e2e-plan-'));
const PLAN_FILE = path.join(dir, 'plan.yaml');
writeFileSync(
  PLAN_FILE,
  `timeZone: Africa/Lusaka
messages:
  - id: golive-help
    stage: launch
    title: How to get help during go-live
    body: |
      **Ask first:** type your question to Rollout Desk.

      **Blocked?** Type report.
    audience: { channel: support }
    when: manual
  - id: first-day
    stage: launch
    title: Your first day on FieldLedger
    body: Sign in once while you have a connection, then press **Got it**.
    links:
      - { title: Go-live checklist, url: "https://fieldledger.kestrel.example/golive" }
    audience: { users: [${alex.aadObjectId}, ${adele.aadObjectId}] }
    when: manual
`,
);

const ROLLOUT_FILE = path.join(dir, 'rollout.yaml');
writeFileSync(
  ROLLOUT_FILE,
  `cohorts:
  - { id: wave-b, name: "Wave B", goLive: 2027-02-01, zone: Africa/Lusaka }
groups:
  - { id: field-officers, name: Field officers }
members:
  - { id: "${adele.aadObjectId}", name: Adele Vance, groups: [field-officers], cohort: wave-b }
`,
);

let stack: Stack;
beforeAll(async () => {
  stack = await Stack.start({ COMM_PLAN_FILE: PLAN_FILE, ROLLOUT_FILE });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const cardJson = (m: StreamedMessage) => JSON.stringify(m.message.attachments ?? []);
const dataOf = (m: StreamedMessage, name: string) => new RegExp(`"${name}":"([^"]+)"`).exec(cardJson(m))?.[1] ?? '';

describe('the communication plan in the Agents Playground', () => {
  it('Alex previews and sends to personal chats and to the support channel, sees progress then the report; Adele presses Got it', async () => {
    const chat = stack.cfg.personalChatId;
    const team = stack.cfg.teamId;
    let from = stack.messages.length;
    await stack.say(team, alex.id, 'setup support', true);
    await stack.waitFor((m) => textOf(m).includes('support channel'), from);

    // Preview: exactly the card recipients get, to Alex only.
    from = stack.messages.length;
    await stack.say(chat, alex.id, 'preview first-day');
    const preview = await stack.waitFor((m) => cardJson(m).includes('broadcast.ack'), from);
    expect(textOf(preview)).toContain('Your first day on FieldLedger');
    expect(textOf(preview)).toContain('Go-live checklist');
    expect(preview.actionConversationId).toBe(chat);

    // Send to personal chats: the confirmation says how many, and how many lack the app (Adele has no chat here).
    from = stack.messages.length;
    await stack.say(chat, alex.id, 'send first-day');
    const confirm = await stack.waitFor((m) => cardJson(m).includes('broadcast.send'), from);
    expect(textOf(confirm)).toContain('2 people, 1:1');
    expect(textOf(confirm)).toContain('1 (reported as "not installed")');
    from = stack.messages.length;
    const sending = await stack.execute(chat, confirm.message.messageId, alex.id, 'broadcast.send', { id: 'first-day' });
    expect(JSON.stringify(sending)).toContain('Sending');
    const progress = await stack.waitFor((m) => textOf(m).includes('Sending…') || textOf(m).includes('Delivery report'), from);
    expect(progress.actionConversationId).toBe(chat);
    const report = await stack.waitFor((m) => textOf(m).includes('Delivery report') && textOf(m).includes('App not installed'), from);
    expect(textOf(report)).toMatch(/Sent\n1/);
    expect(textOf(report)).toMatch(/App not installed\n1/);
    // The report replaced the progress card (the same message, updated in place).
    expect(report.message.messageId).toBe(progress.message.messageId);

    // Alex's own copy arrived; "Got it" turns into "You acknowledged"; the report counts it.
    const mine = await stack.waitFor(
      (m) => textOf(m).includes('Your first day on FieldLedger') && dataOf(m, 'sendId') !== 'preview' && cardJson(m).includes('broadcast.ack'),
      from,
    );
    const acked = await stack.execute(chat, mine.message.messageId, alex.id, 'broadcast.ack', { sendId: dataOf(mine, 'sendId') });
    expect(JSON.stringify(acked)).toContain('You acknowledged this on');
    const refreshed = await stack.execute(chat, report.message.messageId, alex.id, 'broadcast.report', { sendId: dataOf(report, 'sendId') });
    expect(JSON.stringify(refreshed)).toContain('100% (1 of 1)');

    // The support channel gets its post; Adele (staff) presses "Got it" there.
    from = stack.messages.length;
    await stack.say(chat, alex.id, 'send golive-help');
    const confirmChannel = await stack.waitFor((m) => cardJson(m).includes('broadcast.send'), from);
    expect(textOf(confirmChannel)).toContain('one post in the channel');
    await stack.execute(chat, confirmChannel.message.messageId, alex.id, 'broadcast.send', { id: 'golive-help' });
    const post = await stack.waitFor((m) => m.actionConversationId.startsWith(team) && textOf(m).includes('How to get help during go-live'), from);
    const channelReport = await stack.waitFor((m) => m.actionConversationId === chat && textOf(m).includes('Delivery report') && textOf(m).includes('How to get help'), from);
    const thread = `${team};messageid=${post.message.messageId}`;
    const adeleAck = await stack.execute(thread, post.message.messageId, adele.id, 'broadcast.ack', { sendId: dataOf(post, 'sendId') });
    expect(JSON.stringify(adeleAck)).toContain('You acknowledged this on');
    const channelCounts = await stack.execute(chat, channelReport.message.messageId, alex.id, 'broadcast.report', { sendId: dataOf(channelReport, 'sendId') });
    expect(JSON.stringify(channelCounts)).toContain('1 person in the channel');
  }, 90_000);

  it('Megan celebrates Adele in the support channel; Adele adds kudos, once', async () => {
    // In the Playground only Alex types; the others act on cards. Alex opens the form in the team's channel,
    // Megan (a champion, a member of the team) fills it in and posts it.
    const team = stack.cfg.teamId;
    let from = stack.messages.length;
    await stack.say(team, alex.id, 'setup support', true);
    await stack.waitFor((m) => textOf(m).includes('support channel'), from);

    from = stack.messages.length;
    const where = await stack.say(team, alex.id, 'celebrate', true);
    const form = await stack.waitFor((m) => cardJson(m).includes('broadcast.celebrate'), from);
    // Where the client has no people picker, the people the app knows are offered (Adele from the rollout file).
    expect(textOf(form)).toContain('Adele Vance');
    expect(cardJson(form)).toContain('graph.microsoft.com/users');

    from = stack.messages.length;
    const posted = await stack.execute(where, form.message.messageId, megan.id, 'broadcast.celebrate', {
      who: adele.aadObjectId,
      what: 'Adele synced every visit before leaving the office, all week.',
    });
    expect(JSON.stringify(posted)).toContain('Posted in the support channel');
    const celebration = await stack.waitFor((m) => m.actionConversationId.startsWith(team) && textOf(m).includes('synced every visit'), from);
    expect(textOf(celebration)).toContain('<at>Adele Vance</at>');
    expect(textOf(celebration)).toContain('Celebrated by Megan Bowen');
    expect(cardJson(celebration)).toContain(`"mentioned":{"id":"${adele.aadObjectId}","name":"Adele Vance"}`);
    const id = dataOf(celebration, 'id');

    const thread = `${team};messageid=${celebration.message.messageId}`;
    from = stack.messages.length;
    const kudos = await stack.execute(thread, celebration.message.messageId, adele.id, 'broadcast.kudos', { id });
    expect(JSON.stringify(kudos)).toContain('👏 1 kudos');
    const again = await stack.execute(thread, celebration.message.messageId, adele.id, 'broadcast.kudos', { id });
    expect(JSON.stringify(again)).toContain('already sent kudos');
    // Everyone's view of the post is redrawn with the count.
    await stack.waitFor((m) => m.message.messageId === celebration.message.messageId && textOf(m).includes('👏 1 kudos'), from);
  }, 90_000);

  it('Alex switched to staff with "demo as staff" is refused send and celebrate, and cannot forge the confirmation', async () => {
    const chat = stack.cfg.personalChatId;
    let from = stack.messages.length;
    await stack.say(chat, alex.id, 'demo as staff');
    const switched = await stack.waitFor((m) => textOf(m).includes('Staff'), from);
    try {
      from = stack.messages.length;
      await stack.say(chat, alex.id, 'send first-day');
      await stack.waitFor((m) => textOf(m).includes('rollout team only'), from);
      const forged = await stack.execute(chat, switched.message.messageId, alex.id, 'broadcast.send', { id: 'first-day' });
      expect(JSON.stringify(forged)).toContain('rollout team only');
      from = stack.messages.length;
      await stack.say(chat, alex.id, 'celebrate');
      await stack.waitFor((m) => textOf(m).includes('champions and the rollout team'), from);
    } finally {
      from = stack.messages.length;
      await stack.say(chat, alex.id, 'demo as rollout team');
      await stack.waitFor((m) => textOf(m).includes('Rollout team'), from);
    }
  }, 60_000);
});
