import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buttonData, execute, invokeText, personalChat, readable, say, startTestApp, type TestUser, USERS } from '../support/app.js';
import { RecordingConnector } from '../support/connector.js';

/** What staff type as they would, carelessly: punctuation, invisible characters, a bare reference, a pasted picture. */

let app: App;
let connector: RecordingConnector;
beforeAll(async () => {
  connector = await new RecordingConnector().start();
  const guidanceDir = mkdtempSync(path.join(tmpdir(), 'rd-guidance-'));
  cpSync('sample/guidance', guidanceDir, { recursive: true });
  ({ app } = await startTestApp({ GUIDANCE_DIR: guidanceDir }));
});
afterAll(async () => {
  await app?.stop();
  await connector?.stop();
});

const channel = {
  conversation: { id: '19:support@thread.tacv2;messageid=1', conversationType: 'channel', tenantId: 'tenant-1' },
  channelData: { tenant: { id: 'tenant-1' }, team: { id: '19:team' }, channel: { id: '19:support@thread.tacv2' } },
  entities: [{ type: 'mention', mentioned: { id: '28:bot', name: 'Rollout Desk' }, text: '<at>Rollout Desk</at>' }],
};

/** The champions' list of unanswered questions, as the text they read. */
const gaps = async () => readable(await say(app, USERS.champion, 'gaps'));

describe('commands typed as people type them', () => {
  it('takes "Report!", "my issues.", "Help?" and a command with a zero-width space as the command, not a question', async () => {
    expect(readable(await say(app, USERS.staff, 'Report!'))).toContain('Log an issue');
    expect(readable(await say(app, USERS.staff, 'my issues.'))).toContain('Your issues');
    expect(readable(await say(app, USERS.staff, 'MY ISSUES?'))).toContain('Your issues');
    expect(readable(await say(app, USERS.staff, 'Help?'))).toContain('What I can do');
    expect(readable(await say(app, USERS.staff, 'report\u200b'))).toContain('Log an issue');
    // Full-width letters (an East Asian keyboard's mode left on) are the same command; the words after it are kept as typed.
    const wide = JSON.stringify(await say(app, USERS.staff, 'ｒｅｐｏｒｔ printer jam'));
    expect(wide).toContain('issue.submit');
    expect(wide).toContain('"value":"printer jam"');
    // None of them was answered from the guidance, nor noted as a question.
    expect(await gaps()).not.toMatch(/report!|my issues\.|help\?|ｒｅｐｏｒｔ/i);
  });

  it('shows the issue for a message that is only its reference ("R-0001?", "#1", "r1"), and notes no gap', async () => {
    const logged = await execute(app, USERS.staff, 'issue.logAnyway', {
      form: { title: 'Sync stops at 80%', description: 'It hangs', location: 'Sync', category: 'Other', severity: 'slows', site: 'Tembe' },
      formId: '0123456789abcdef',
    });
    const ref = /R-\d{4}/.exec(invokeText(logged.body))?.[0] ?? '';
    expect(ref).toMatch(/^R-\d{4}$/);
    const n = Number(ref.slice(2));
    for (const typed of [`${ref}?`, `#${n}`, `r${n}`]) {
      const text = readable(await say(app, USERS.staff, typed));
      expect(text, typed).toContain('Sync stops at 80%');
      expect(text, typed).not.toContain('You asked');
    }
    // A champion sees it too; a reference that does not exist says so.
    expect(readable(await say(app, USERS.champion, `${ref}?`))).toContain('Sync stops at 80%');
    expect(readable(await say(app, USERS.staff, 'R-0999?'))).toContain('There is no issue R-0999');
    expect(await gaps()).not.toMatch(/#\d|R-0999/);
    // A number alone, or a sentence that names an issue, is still a question.
    expect(readable(await say(app, USERS.staff, `is ${ref} fixed yet`))).toContain('You asked');
  });
});

describe('an @mention with nothing else', () => {
  it('answers "<at>Rollout Desk</at>&nbsp;" (as Teams sends it) with the help card and notes no gap', async () => {
    const text = readable(await say(app, USERS.staff, '<at>Rollout Desk</at>&nbsp;', channel));
    expect(text).toContain('What I can do');
    expect(text).not.toContain('You asked');
    expect(await gaps()).not.toContain('nbsp');
    // Formatted (Teams sends a channel message as HTML), the mention alone is the same: the help card, no gap.
    const formatted = readable(await say(app, USERS.staff, '<p><at>Rollout Desk</at></p>', { ...channel, textFormat: 'xml' }));
    expect(formatted).toContain('What I can do');
    expect(formatted).not.toContain('ask a question about the rollout');
    expect(readable(await say(app, USERS.staff, '<p><at>Rollout Desk</at>&nbsp;</p>', { ...channel, textFormat: 'xml' }))).toContain('What I can do');
    // A question after it is read without the entity.
    expect(readable(await say(app, USERS.staff, '<at>Rollout Desk</at>&nbsp;report&nbsp;printer jammed', channel))).toContain('Log an issue');
  });
});

describe('someone else @mentioned in a message', () => {
  const bob = { type: 'mention', mentioned: { id: '29:bob', name: 'Bob Banda' }, text: '<at>Bob</at>' };
  const withBob = { ...channel, entities: [...channel.entities, bob] };

  it('keeps their name in a report\'s description, dropping only the bot\'s own mention', async () => {
    const replies = await say(app, USERS.staff, "<at>Rollout Desk</at>&nbsp;report <at>Bob</at> can't sign in", withBob);
    const card = JSON.stringify(replies);
    expect(card).toContain('issue.submit');
    expect(card).toContain("Bob can't sign in");
    expect(card).not.toContain('Rollout Desk report');
  });

  it('keeps their name in a report sent as formatted text (HTML, in <p>), as in plain text', async () => {
    const replies = await say(app, USERS.staff, "<p><at>Rollout Desk</at>&nbsp;report <at>Bob</at> can&#39;t sign in</p>", { ...withBob, textFormat: 'xml' });
    const card = JSON.stringify(replies);
    expect(card).toContain('issue.submit');
    expect(card).toContain("Bob can't sign in");
    expect(card).not.toContain('<p>');
    // A formatted question keeps the name too.
    const asked = readable(await say(app, USERS.staff, '<p><at>Rollout Desk</at> can <at>Bob</at> approve my <b>canteen</b> voucher</p>', { ...withBob, textFormat: 'xml' }));
    expect(asked).toContain('can Bob approve my canteen voucher');
  });

  it('keeps a name mentioned before the command words in the report\'s description', async () => {
    const bobIn1to1 = { ...personalChat(connector.url, USERS.staff), entities: [bob] };
    for (const [text, where] of [
      ["<at>Bob</at> report can't sign in", bobIn1to1],
      ["<at>Rollout Desk</at>&nbsp;<at>Bob</at> report can't sign in", withBob],
      ["<p><at>Bob</at> report can't sign in</p>", { ...bobIn1to1, textFormat: 'xml' }],
    ] as const) {
      const card = JSON.stringify(await say(app, USERS.staff, text, where));
      expect(card, text).toContain('issue.submit');
      expect(card, text).toContain('"value":"Bob can\'t sign in"');
    }
  });

  const sam = { type: 'mention', mentioned: { id: USERS.staff.id, name: USERS.staff.name }, text: '<at>Sam</at>' };
  const withSam = { ...channel, entities: [...channel.entities, sam] };
  const samIn1to1 = (u: TestUser) => ({ ...personalChat(connector.url, u), entities: [sam] });

  it('takes "celebrate @Sam" as the command: the Celebrate form opens, in the channel and in a 1:1 chat, and no gap is noted', async () => {
    for (const [text, where] of [
      ['<at>Rollout Desk</at>&nbsp;celebrate <at>Sam</at>', withSam],
      ['celebrate <at>Sam</at>', samIn1to1(USERS.champion)],
    ] as const) {
      const reply = readable(await say(app, USERS.champion, text, where));
      expect(reply).toContain('Celebrate a win');
      expect(reply).not.toContain('You asked');
    }
    expect(await gaps()).not.toMatch(/celebrate/i);
  });

  it('takes the rollout team\'s "announce @Sam", "preview @Sam <id>", "send @Sam <id>" and "cancel @Sam <id>" as the commands', async () => {
    expect(readable(await say(app, USERS.lead, 'announce <at>Sam</at>', samIn1to1(USERS.lead)))).toContain('New announcement');
    for (const text of ['preview <at>Sam</at> no-such-message', 'send <at>Sam</at> no-such-message', 'cancel <at>Sam</at> no-such-message']) {
      const reply = readable(await say(app, USERS.lead, text, samIn1to1(USERS.lead)));
      // The command's own answer for an id it does not know, not a FAQ answer to "no-such-message Sam".
      expect(reply).toBe('There is no plan message or send called "no-such-message". Type "plan" to see them.');
    }
    expect(await gaps()).not.toMatch(/announce|no-such-message/i);
  });

  it('keeps their name in a question shown back, as plain text', async () => {
    const text = readable(await say(app, USERS.staff, '<at>Rollout Desk</at> can <at>Bob</at> approve my canteen voucher', withBob));
    expect(text).toContain('You asked');
    expect(text).toContain('can Bob approve my canteen voucher');
    expect(text).not.toContain('<at>');
  });
});

describe('pictures and files sent to the bot', () => {
  const NOT_KEPT = "I can't keep pictures or files";
  const picture = { contentType: 'image/*', contentUrl: 'https://smba.example/v3/attachments/1/views/original' };
  const html = { contentType: 'text/html', content: '<div><img src="https://smba.example/v3/attachments/1/views/original"></div>' };
  const file = { contentType: 'application/vnd.microsoft.teams.file.download.info', name: 'error.log', content: { downloadUrl: 'https://x.example/f' } };

  it('says a picture sent with "report" is not kept, and still shows the form', async () => {
    const text = readable(await say(app, USERS.staff, 'report sync error, see screenshot', { attachments: [picture, html] }));
    expect(text).toContain(NOT_KEPT);
    expect(text).toContain('Log an issue');
  });

  it('says a file sent with a question is not read, and answers the words', async () => {
    const text = readable(await say(app, USERS.staff, 'how do I sync when offline', { attachments: [file] }));
    expect(text).toContain(NOT_KEPT);
    expect(text).toContain('You asked');
  });

  it('answers a picture sent alone (no text, or only its HTML) with why it is not read, not silence or the help card', async () => {
    const alone = readable(await say(app, USERS.staff, '', { attachments: [picture] }));
    expect(alone).toContain(NOT_KEPT);
    expect(alone).not.toContain('What I can do');
    const inHtml = await say(app, USERS.staff, '<div><img src="https://smba.example/x"></div>', { textFormat: 'xml', attachments: [html] });
    expect(readable(inHtml)).toContain(NOT_KEPT);
  });

  it('does not take an emoji in Teams\' HTML copy of a message for a picture', async () => {
    const emoji = {
      contentType: 'text/html',
      content: '<p>how do I sync when offline <img alt="🙂" src="https://statics.teams.cdn.office.net/emoticons/smile/20_f.png" itemtype="http://schema.skype.com/Emoji" itemid="smile"></p>',
    };
    const text = readable(await say(app, USERS.staff, 'how do I sync when offline 🙂', { attachments: [emoji] }));
    expect(text).not.toContain(NOT_KEPT);
    expect(text).toContain('You asked');
  });

  it('answers a formatted message with no words instead of staying silent', async () => {
    const replies = await say(app, USERS.staff, '<p><br></p>', { textFormat: 'xml' });
    expect(readable(replies)).toContain('ask a question about the rollout');
  });
});

describe('one report, however often its buttons are pressed', () => {
  const form = { description: 'The export button spins for ever', location: 'Reports > Export', category: 'Reports', severity: 'slows', site: 'Kasama' };

  it('answers Send pressed again on a logged form with its reference, not an offer of it as others\' report', async () => {
    const values = { ...form, title: 'Export spins for ever', formId: 'fedcba9876543210' };
    const first = invokeText((await execute(app, USERS.staff, 'issue.submit', values)).body);
    const ref = /R-\d{4}/.exec(first)?.[0];
    expect(first).toContain('your issue is logged');
    const again = invokeText((await execute(app, USERS.staff, 'issue.submit', values)).body);
    expect(again).not.toContain('Others at Kasama reported something similar');
    expect(again).toContain(`Your reference is **${ref}**`);
  });

  it('offers the reporter\'s own earlier issue as theirs, not as one "others reported", when they report it again', async () => {
    const values = { ...form, title: 'Export spins for ever again', formId: '0f0f0f0f0f0f0f0f' };
    const offer = invokeText((await execute(app, USERS.staff, 'issue.submit', values)).body);
    expect(offer).toContain('Is it one of these?');
    expect(offer).not.toContain('Others at Kasama reported');
    expect(offer).toContain('one of them by you');
    expect(offer).toContain('you reported it');
    // Someone else at the site is offered it as others' report, with no "you reported it".
    const theirs = invokeText((await execute(app, USERS.champion, 'issue.submit', { ...values, formId: '1f0f0f0f0f0f0f0f' })).body);
    expect(theirs).toContain('Others at Kasama reported something similar');
    expect(theirs).not.toContain('you reported it');
  });

  it('takes each form "Log this as an issue" opens as its own report: the second form\'s edits are logged, not the first\'s reference shown', async () => {
    const chat = personalChat(connector.url, USERS.staff);
    const card = await say(app, USERS.staff, 'why does the canteen close at noon', chat);
    const before = connector.sentTo(chat.conversation.id).length;
    await execute(app, USERS.staff, 'issue.form', buttonData(card, 'issue.form'), chat);
    await execute(app, USERS.staff, 'issue.form', buttonData(card, 'issue.form'), chat);
    const forms = connector.sentTo(chat.conversation.id).slice(before).map((c) => c.body);
    expect(forms).toHaveLength(2);
    const [one, two] = forms.map((f) => buttonData([f], 'issue.submit'));
    const faqQuestion = 'why does the canteen close at noon';
    const first = invokeText((await execute(app, USERS.staff, 'issue.submit', { ...one, ...form, site: 'Mpika', description: 'The canteen shuts before the lunch break', title: 'Canteen closes at noon', faqQuestion }, chat)).body);
    const ref = /R-\d{4}/.exec(first)?.[0];
    expect(ref).toBeDefined();
    // The second form, edited into another problem, is logged as typed.
    const edited = { ...two, ...form, category: 'Access / login', site: 'Chinsali', location: 'Sign-in page', description: 'The badge reader at the canteen rejects my new card', title: 'Badge rejected at the canteen door', faqQuestion };
    const second = invokeText((await execute(app, USERS.staff, 'issue.submit', edited, chat)).body);
    expect(second).not.toContain(`**${ref}**`);
    const secondRef = /R-\d{4}/.exec(second)?.[0];
    expect(secondRef).toMatch(/^R-\d{4}$/);
    expect((await app.repository.get(secondRef ?? ''))?.title).toBe('Badge rejected at the canteen door');
    // Send pressed again on that same form still logs it once.
    const again = invokeText((await execute(app, USERS.staff, 'issue.submit', edited, chat)).body);
    expect(again).toContain(`Your reference is **${secondRef}**`);
  });
});
